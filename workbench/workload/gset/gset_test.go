package gset

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

func TestGSetGeneratorAddsEachElementOnceInOrder(t *testing.T) {
	const n = 10000
	ops := workloadtest.Draw(t, workloadtest.New(t, New, 1), n)
	var next int64
	reads := 0
	for i, op := range ops {
		switch op.F {
		case "add":
			e, ok := op.Value.(int64)
			if !ok || e != next {
				t.Fatalf("op %d adds %#v, want %d (elements 0, 1, 2, ... each once)", i, op.Value, next)
			}
			next++
		case "read":
			if op.Value != nil || op.Final {
				t.Fatalf("op %d: main-phase read %+v", i, op)
			}
			reads++
		default:
			t.Fatalf("op %d: unexpected f %q", i, op.F)
		}
	}
	if frac := float64(next) / n; frac < 0.47 || frac > 0.53 {
		t.Errorf("adds are %.3f of ops, want ≈ 1/2", frac)
	}
}

func TestGSetClientRequestsAndReplies(t *testing.T) {
	w := workloadtest.New(t, New, 2)
	add := history.Op{F: "add", Value: int64(7)}
	read := history.Op{F: "read"}
	cases := []workloadtest.InvokeCase{
		{Name: "add ok", Op: add, Reply: `{"type":"add_ok","in_reply_to":1}`, WantType: history.OK, WantValue: int64(7)},
		{Name: "read ok", Op: read, Reply: `{"type":"read_ok","value":[1,7],"in_reply_to":1}`, WantType: history.OK, WantValue: []any{json.Number("1"), json.Number("7")}},
		{Name: "read ok empty", Op: read, Reply: `{"type":"read_ok","value":[],"in_reply_to":1}`, WantType: history.OK, WantValue: []any{}},
		// "elements" is what the prose docs call it; the schema says value.
		{Name: "read with elements", Op: read, Reply: `{"type":"read_ok","elements":[1],"in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "read with an extra key", Op: read, Reply: `{"type":"read_ok","value":[1],"messages":[1],"in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "read value not a list", Op: read, Reply: `{"type":"read_ok","value":7,"in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "add_ok with an extra key", Op: add, Reply: `{"type":"add_ok","element":7,"in_reply_to":1}`, WantType: history.Info, WantValue: int64(7), Exception: "malformed-rpc-response"},
		{Name: "add_ok without in_reply_to", Op: add, Reply: `{"type":"add_ok"}`, WantType: history.Info, WantValue: int64(7), Exception: "malformed-rpc-response"},
		{Name: "error reply", Op: add, Reply: `{"type":"error","code":11,"text":"busy","in_reply_to":1}`, WantType: history.Info, WantValue: int64(7), Exception: "rpc-error"},
		{Name: "timeout", Op: read, Reply: "", Err: netsim.ErrTimeout, WantType: history.Info, Exception: "net-timeout"},
	}
	workloadtest.CheckInvokes(t, w, cases, func(op history.Op) map[string]any {
		if op.F == "add" {
			return map[string]any{"type": "add", "element": op.Value}
		}
		return map[string]any{"type": "read"}
	})
}

func TestGSetFinalReadHasNoFinalFlag(t *testing.T) {
	w := workloadtest.New(t, New, 3)
	var done []history.Op
	w.Final()(context.Background(), 2, func(op history.Op) history.Op {
		done = append(done, op)
		return op
	})
	if len(done) != 1 || done[0].F != "read" || done[0].Final {
		t.Errorf("final phase performed %+v, want one read without :final?", done)
	}
}

func TestGSetCheckIsSetFull(t *testing.T) {
	w := workloadtest.New(t, New, 4)
	// add 0 ok, add 1 ok, then a read on another process.
	mk := func(readValue []any) []history.Op {
		ops := []history.Op{
			{Type: history.Invoke, F: "add", Value: int64(0), Process: 0},
			{Type: history.OK, F: "add", Value: int64(0), Process: 0},
			{Type: history.Invoke, F: "add", Value: int64(1), Process: 1},
			{Type: history.OK, F: "add", Value: int64(1), Process: 1},
			{Type: history.Invoke, F: "read", Process: 2},
			{Type: history.OK, F: "read", Value: readValue, Process: 2},
		}
		for i := range ops {
			ops[i].Index, ops[i].Time = i, int64(i)*1e6
		}
		return ops
	}
	if res := w.Check(mk([]any{json.Number("1"), json.Number("0")})); checker.ValidityOf(res) != checker.Valid {
		t.Errorf("a read with both elements should be valid: %v", res)
	}
	if res := w.Check(mk([]any{json.Number("1")})); checker.ValidityOf(res) != checker.Invalid {
		t.Errorf("a read missing acknowledged element 0 should be invalid: %v", res)
	}
}
