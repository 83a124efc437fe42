package elle_test

import (
	"testing"

	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// ParseCycle reads back what Cycles reports: the transactions in cycle
// order and each step's relationship, version, process or realtime ops.
func TestParseCycle(t *testing.T) {
	ops := []history.Op{
		{Index: 0, Type: history.Invoke, Process: 0, F: "poll"},
		{Index: 1, Type: history.OK, Process: 0, F: "poll"},
		{Index: 2, Type: history.Invoke, Process: 1, F: "send"},
		{Index: 3, Type: history.OK, Process: 1, F: "send"},
		{Index: 4, Type: history.Invoke, Process: 1, F: "send"},
		{Index: 5, Type: history.OK, Process: 1, F: "send"},
	}
	// The poll read what the second send wrote, though it completed
	// before either send began; the sends ran on one process.
	rt := elle.NewGraph()
	rt.Link(ops[5], ops[1], elle.WR, edn.K("key", "k", "value", 5))
	rt.AddRealtime(ops)
	found := rt.Cycles(elle.CycleOptions{})["G1c-realtime"]
	if len(found) != 1 {
		t.Fatalf("G1c-realtime cases: %v", found)
	}
	// Realtime edges are reduced: poll → first send → second send → poll.
	cc, ok := elle.ParseCycle(found[0])
	if !ok || cc.Type != "G1c-realtime" || len(cc.Txns) != 3 || cc.Txns[0] != 1 || cc.Txns[1] != 3 || cc.Txns[2] != 5 {
		t.Fatalf("parsed %+v from %v", cc, found[0])
	}
	if s := cc.Steps[0]; s.Rel != elle.Realtime || s.Completed != 1 || s.Invoked != 2 || s.HasKey {
		t.Errorf("step 0: %+v", s)
	}
	if s := cc.Steps[1]; s.Rel != elle.Realtime || s.Completed != 3 || s.Invoked != 4 {
		t.Errorf("step 1: %+v", s)
	}
	if s := cc.Steps[2]; s.Rel != elle.WR || s.Key != "k" || s.Value != 5 || !s.HasKey || s.HasValue2 || s.Completed != -1 {
		t.Errorf("step 2: %+v", s)
	}

	pr := elle.NewGraph()
	pr.Link(ops[5], ops[3], elle.WW, edn.K("key", "k", "value", 2, "value'", 1))
	pr.AddProcess(ops)
	found = pr.Cycles(elle.CycleOptions{})["G0-process"]
	if len(found) != 1 {
		t.Fatalf("G0-process cases: %v", found)
	}
	cc, ok = elle.ParseCycle(found[0])
	if !ok || len(cc.Steps) != 2 {
		t.Fatalf("parsed %+v from %v", cc, found[0])
	}
	for _, s := range cc.Steps {
		if s.Rel == elle.Process && s.Process != 1 {
			t.Errorf("process step %+v", s)
		}
		if s.Rel == elle.WW && (s.Value != 2 || s.Value2 != 1 || !s.HasValue2) {
			t.Errorf("ww step %+v", s)
		}
	}

	if _, ok := elle.ParseCycle(edn.K("op", edn.K("index", 1), "mop", []any{"r", 1, 2})); ok {
		t.Error("a G1a case read as a cycle")
	}
	if b, v := elle.BaseType("G-single-item-realtime"); b != "G-single-item" || v != elle.Realtime || !elle.IsCycleType("G-single-item-realtime") || elle.IsCycleType("G1a") {
		t.Errorf("BaseType %q %v", b, v)
	}
}
