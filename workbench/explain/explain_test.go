package explain

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/results"
)

func nemesisOps(f string, t int64, inv, done any) []history.Op {
	return []history.Op{
		{Type: history.Info, Process: history.NemesisProcess, F: f, Value: inv, Time: t},
		{Type: history.Info, Process: history.NemesisProcess, F: f, Value: done, Time: t + 1},
	}
}

func TestFaultsAreReadFromTheNemesisOperations(t *testing.T) {
	g := nemesis.Grudge{"n1": {"n3"}, "n2": {"n3"}, "n3": {"n1", "n2"}}
	var ops []history.Op
	ops = append(ops, nemesisOps(nemesis.StartPartition, 1e9, nil, g.Isolated())...)
	ops = append(ops, history.Op{Type: history.Invoke, Process: 0, F: "read", Time: 2e9})
	ops = append(ops, nemesisOps(nemesis.KillOp, 3e9, []string{"n2"}, []string{"n2"})...)
	ops = append(ops, nemesisOps(nemesis.StopPartition, 5e9, nil, nemesis.Healed)...)
	ops = append(ops, nemesisOps(nemesis.PauseOp, 6e9, []string{}, []string{})...) // nobody paused
	ops = append(ops, nemesisOps(nemesis.StartOp, 7e9, []string{"n2"}, []string{"n2"})...)
	ops = append(ops, nemesisOps(nemesis.StartPartition, 8e9, nil, g.Isolated())...)
	ev := &Evidence{Ops: ops}
	fs := ev.Faults()
	if len(fs) != 3 {
		t.Fatalf("faults %+v, want a partition, a kill and an unended partition", fs)
	}
	p, k, open := fs[0], fs[1], fs[2]
	if p.Kind != nemesis.FaultPartition || p.Start != 1e9+1 || p.End != 5e9+1 || !p.Cuts("n3", "n1") || p.Cuts("n1", "n2") {
		t.Errorf("partition %+v", p)
	}
	if got := p.String(); got != "the partition n1 n2 | n3 from 1.00 s to 5.00 s" {
		t.Errorf("partition reads %q", got)
	}
	if k.Kind != nemesis.FaultKill || k.Start != 3e9+1 || k.End != 7e9+1 || k.Nodes[0] != "n2" {
		t.Errorf("kill %+v", k)
	}
	if open.End != -1 || !open.Covers(60e9) || !strings.HasSuffix(open.Window(), "to the end") {
		t.Errorf("a partition nothing healed: %+v", open)
	}
	if f, ok := ev.FaultAt(nemesis.FaultPartition, 2e9, "n1", "n3"); !ok || f.Start != p.Start {
		t.Errorf("no partition found cutting n1 from n3 at 2 s")
	}
	if _, ok := ev.FaultAt(nemesis.FaultPartition, 2e9, "n1", "n2"); ok {
		t.Errorf("n1 and n2 were on the same side")
	}
	if _, ok := ev.FaultAt(nemesis.FaultPartition, 6e9, "n1", "n3"); ok {
		t.Errorf("a partition is blamed after its heal")
	}
	if _, ok := ev.FaultAt(nemesis.FaultKill, 4e9, "n1", "n2"); !ok {
		t.Errorf("n2 was down at 4 s")
	}
}

func TestNodeOfFollowsTheThreads(t *testing.T) {
	ev := &Evidence{Nodes: []string{"n0", "n1", "n2"}, Concurrency: 6}
	// Thread = process mod 6, node = thread mod 3.
	for p, want := range map[int]string{0: "n0", 1: "n1", 4: "n1", 5: "n2", 6: "n0", 10: "n1", -1: ""} {
		if got := ev.NodeOf(p); got != want {
			t.Errorf("NodeOf(%d) = %q, want %q", p, got, want)
		}
	}
}

func TestAvailabilityGroupsFailuresByNodeAndError(t *testing.T) {
	ev := &Evidence{Nodes: []string{"n0", "n1"}, Concurrency: 2, Availability: "0.99"}
	fail := func(p int, err any) []history.Op {
		return []history.Op{{Type: history.Invoke, Process: p, F: "read"}, {Type: history.Fail, Process: p, F: "read", Error: err}}
	}
	var ops []history.Op
	for range 3 {
		ops = append(ops, fail(1, edn.Keyword("net-timeout"))...)
	}
	ops = append(ops, fail(3, []any{edn.Keyword("temporarily-unavailable"), "busy"})...)
	ops = append(ops, fail(0, []any{edn.Keyword("key-does-not-exist"), "no"})...)
	ops = append(ops, history.Op{Type: history.Invoke, Process: 2, F: "read"}, history.Op{Type: history.OK, Process: 2, F: "read"})
	ev.Ops = ops
	composed := checker.Composed{
		{Name: "stats", Result: edn.K("valid?", true)},
		{Name: "availability", Result: edn.K("valid?", false, "ok-fraction", float32(1)/6)},
	}
	x := Explain(ev, composed, nil)
	if len(x.Findings) != 1 {
		t.Fatalf("findings %+v, want one for :availability", x.Findings)
	}
	f := x.Findings[0]
	if f.Section != "availability" || f.Count != 5 || !strings.Contains(f.Summary, "5 operations failed or timed out on 2 nodes") || !strings.Contains(f.Summary, "below the 0.99 that --availability 0.99 asks") {
		t.Errorf("finding %+v", f)
	}
	want := []string{"n1: 3 × timeout (no reply in time), 1 × error 11 temporarily-unavailable", "n0: 1 × error 20 key-does-not-exist"}
	if len(f.Examples) != 2 || f.Examples[0].Text != want[0] || f.Examples[1].Text != want[1] {
		t.Errorf("examples %+v, want %q", f.Examples, want)
	}
}

// fakeWorkload explains its section with one finding per section.
type fakeWorkload struct{ asked int }

func (w *fakeWorkload) Explain(ev *Evidence) []results.Finding {
	w.asked++
	return []results.Finding{
		{Section: "workload", Kind: "lost", Count: 2, Short: "lost 2 values", Summary: "2 values are lost."},
		{Section: "glomers", Kind: "lag", Count: 1, Short: "slow", Summary: "1 write was slow to show."},
	}
}

func TestTheWorkloadExplainsItsOwnSectionsOnce(t *testing.T) {
	extra := edn.K("valid?", false)
	ev := &Evidence{Extra: extra, Glomers: edn.K("workload", extra, "valid?", false)}
	composed := checker.Composed{
		{Name: "workload", Result: edn.K("valid?", false, "lost", []any{1, 2})},
		{Name: "glomers", Result: edn.K("workload", extra, "valid?", false), Advisory: true},
	}
	w := &fakeWorkload{}
	x := Explain(ev, composed, w)
	if w.asked != 1 {
		t.Errorf("the workload was asked %d times, want once", w.asked)
	}
	if len(x.Findings) != 2 || x.Findings[0].Kind != "lost" || x.Findings[0].Advisory || x.Findings[1].Kind != "lag" || !x.Findings[1].Advisory {
		t.Errorf("findings %+v: want the workload's, then the advisory one", x.Findings)
	}
	if r := x.Reasons(); len(r) != 1 || r[0] != "lost 2 values" {
		t.Errorf("reasons %q: only findings that count give reasons", r)
	}
	// Without an explainer, the section is still named, with its keys.
	x = Explain(ev, composed[:1], nil)
	if len(x.Findings) != 1 || !strings.Contains(x.Findings[0].Summary, ":lost under :workload") {
		t.Errorf("generic finding %+v", x.Findings)
	}
}

func TestLinesStayWithinTheirBound(t *testing.T) {
	var x results.Explanation
	for i := range 14 {
		x.Findings = append(x.Findings, results.Finding{Summary: "finding", Examples: []results.Example{{Text: "example"}}, Advisory: i == 13})
	}
	if got := x.Lines(10); len(got) != 10 {
		t.Errorf("%d lines, want 10", len(got))
	}
	x.Findings = x.Findings[:3]
	got := x.Lines(10)
	if len(got) != 6 || got[1] != "    e.g. example" {
		t.Errorf("three findings: %q, want each with its example", got)
	}
}
