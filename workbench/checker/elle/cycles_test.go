package elle

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// hist builds a history from (process, invoke time, complete time, type)
// tuples; values are irrelevant to the generic graph tests.
type span struct {
	p        int
	inv, end int64
	typ      history.Type
}

func spans(ss ...span) (ops []history.Op, done []history.Op) {
	type ev struct {
		t   int64
		i   int
		inv bool
	}
	var evs []ev
	for i, s := range ss {
		evs = append(evs, ev{s.inv, i, true}, ev{s.end, i, false})
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].t < evs[b].t })
	done = make([]history.Op, len(ss))
	for _, e := range evs {
		s := ss[e.i]
		op := history.Op{Index: len(ops), Time: e.t, Process: s.p, F: "txn", Type: history.Invoke}
		if !e.inv {
			op.Type = s.typ
			done[e.i] = op
		}
		ops = append(ops, op)
	}
	return ops, done
}

func edn1(t *testing.T, v any) string {
	t.Helper()
	b, err := edn.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGenericG1cRealtime(t *testing.T) {
	// T1 then T2 in real time; T1 read what T2 wrote: T2 -wr-> T1 -rt-> T2.
	ops, c := spans(span{0, 0, 10, history.OK}, span{1, 20, 30, history.OK})
	g := NewGraph()
	g.Link(c[1], c[0], WR, edn.K("key", "k", "value", int64(5)))
	g.AddRealtime(ops)
	found := g.Cycles(CycleOptions{})
	cases := found["G1c-realtime"]
	if len(cases) != 1 {
		t.Fatalf("want one G1c-realtime, got %s", edn1(t, found))
	}
	s := edn1(t, cases[0])
	for _, want := range []string{`:type :wr, :key "k", :value 5`, `:type :realtime`, `:type :G1c-realtime`} {
		if !strings.Contains(s, want) {
			t.Errorf("case lacks %q: %s", want, s)
		}
	}
	res := Result(found, []string{"strict-serializable"})
	if v, _ := res.Get(edn.Keyword("valid?")); v != false {
		t.Errorf("strict-serializable must reject: %s", edn1(t, res))
	}
	// Serializable does not see realtime: without realtime edges there is
	// no cycle, and even with them G1c-realtime is not its business.
	if v, _ := Result(found, []string{"serializable"}).Get(edn.Keyword("valid?")); v != true {
		t.Errorf("serializable must accept a G1c-realtime: %v", v)
	}
}

func TestGenericNoCycleWhenConcurrent(t *testing.T) {
	// Overlapping transactions have no realtime order: T2 -wr-> T1 alone.
	ops, c := spans(span{0, 0, 30, history.OK}, span{1, 10, 20, history.OK})
	g := NewGraph()
	g.Link(c[1], c[0], WR, edn.K("key", "k", "value", int64(5)))
	g.AddRealtime(ops)
	if found := g.Cycles(CycleOptions{}); len(found) != 0 {
		t.Fatalf("no cycle expected, got %s", edn1(t, found))
	}
}

func TestRealtimeTransitiveReduction(t *testing.T) {
	// a, then b, then c, each after the other: a->b, b->c but not a->c.
	ops, c := spans(span{0, 0, 1, history.OK}, span{1, 2, 3, history.OK}, span{2, 4, 5, history.OK})
	g := NewGraph()
	g.AddRealtime(ops)
	g.freeze()
	v := func(o history.Op) int32 { return g.vertex[o.Index] }
	if g.relsBetween(v(c[0]), v(c[1])) != Realtime || g.relsBetween(v(c[1]), v(c[2])) != Realtime {
		t.Fatal("missing realtime edges")
	}
	if g.relsBetween(v(c[0]), v(c[2])) != 0 {
		t.Fatal("a->c is implied by a->b->c and must be reduced away")
	}
	// A concurrent d (invoked before b completes) still needs a->d... d
	// invoked after a: a->d.
	ops2, c2 := spans(span{0, 0, 1, history.OK}, span{1, 2, 6, history.OK}, span{2, 3, 4, history.OK}, span{3, 5, 7, history.OK})
	g2 := NewGraph()
	g2.AddRealtime(ops2)
	g2.freeze()
	v2 := func(o history.Op) int32 { return g2.vertex[o.Index] }
	// c2[3] is invoked at 5, after c2[2] completed at 4 (which itself
	// follows a): edge c2[2]->c2[3], not a->c2[3].
	if g2.relsBetween(v2(c2[2]), v2(c2[3])) != Realtime || g2.relsBetween(v2(c2[0]), v2(c2[3])) != 0 {
		t.Fatal("reduction wrong for interleaved ops")
	}
	if g2.relsBetween(v2(c2[0]), v2(c2[1])) != Realtime {
		t.Fatal("a -> b missing")
	}
}

func TestGenericClassification(t *testing.T) {
	_, c := spans(span{0, 0, 10, history.OK}, span{1, 0, 10, history.OK}, span{2, 0, 10, history.OK})
	for _, tc := range []struct {
		name  string
		edges [][3]int // from, to, rel
		want  string
	}{
		{"G0", [][3]int{{0, 1, int(WW)}, {1, 0, int(WW)}}, "G0"},
		{"G1c", [][3]int{{0, 1, int(WW)}, {1, 0, int(WR)}}, "G1c"},
		{"G-single-item", [][3]int{{0, 1, int(WR)}, {1, 0, int(RW)}}, "G-single-item"},
		{"G2-item", [][3]int{{0, 1, int(RW)}, {1, 0, int(RW)}}, "G2-item"},
		{"G-nonadjacent-item", [][3]int{{0, 1, int(RW)}, {1, 2, int(WR)}, {2, 0, int(RW)}, {0, 2, int(WW)}}, "G-single-item"},
		{"ww explains before wr", [][3]int{{0, 1, int(WW | WR)}, {1, 0, int(WW)}}, "G0"},
		{"rw-register: wr explains before ww", [][3]int{{0, 1, int(WW | WR)}, {1, 0, int(WW)}}, "G1c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGraph()
			if strings.HasPrefix(tc.name, "rw-register") {
				g.SetExplainOrder(rwRegisterExplainOrder[:]...)
			}
			for _, e := range tc.edges {
				g.Link(c[e[0]], c[e[1]], Rel(e[2]), edn.K("key", "x"))
			}
			found := g.Cycles(CycleOptions{})
			if len(found[tc.want]) != 1 {
				t.Fatalf("want one %s, got %s", tc.want, edn1(t, found))
			}
		})
	}
}

func TestGenericNonadjacent(t *testing.T) {
	// T0 -rw-> T1 -wr-> T2 -rw-> T3 -wr-> T0: two rw edges, never adjacent.
	_, c := spans(span{0, 0, 1, history.OK}, span{1, 0, 1, history.OK}, span{2, 0, 1, history.OK}, span{3, 0, 1, history.OK})
	g := NewGraph()
	g.Link(c[0], c[1], RW, nil)
	g.Link(c[1], c[2], WR, nil)
	g.Link(c[2], c[3], RW, nil)
	g.Link(c[3], c[0], WR, nil)
	found := g.Cycles(CycleOptions{})
	if len(found["G-nonadjacent-item"]) != 1 || len(found["G2-item"]) != 0 {
		t.Fatalf("want G-nonadjacent-item only, got %s", edn1(t, found))
	}
	res := Result(found, []string{"serializable"})
	if v, _ := res.Get(edn.Keyword("valid?")); v != false {
		t.Fatalf("serializable forbids G-nonadjacent: %s", edn1(t, res))
	}
	if v, _ := Result(found, []string{"read-committed"}).Get(edn.Keyword("valid?")); v != true {
		t.Fatal("read-committed allows G-nonadjacent")
	}
}

func TestCycleSearchTimeout(t *testing.T) {
	// A big dense rw-only component with no G1c: with a 1 ns budget the
	// search must stop with a :cycle-search-timeout and a fallback cycle.
	const n = 300
	ops := make([]history.Op, n)
	for i := range ops {
		ops[i] = history.Op{Index: i, Type: history.OK, Process: i}
	}
	g := NewGraph()
	for i := 0; i < n; i++ {
		for j := 1; j <= 20; j++ {
			g.Link(ops[i], ops[(i+j)%n], RW, nil)
		}
	}
	found := g.Cycles(CycleOptions{Timeout: time.Nanosecond})
	if len(found["cycle-search-timeout"]) != 1 {
		t.Fatalf("want a timeout, got types %v", found.Types())
	}
	total := 0
	for _, cs := range found {
		total += len(cs)
	}
	if total < 2 {
		t.Fatalf("a fallback cycle must come with the timeout: %v", found.Types())
	}
	// Without the budget the same graph yields its G2-item.
	if found := g.Cycles(CycleOptions{Timeout: -1}); len(found["G2-item"]) != 1 {
		t.Fatalf("want G2-item without a budget, got %v", found.Types())
	}
}

func TestProhibitedStrictSerializable(t *testing.T) {
	// Elle 0.2.2's (anomalies-prohibited-by [:strict-serializable]).
	want := strings.Fields(`G-MSR G-SI G-SIb G-cursor G-monotonic G-nonadjacent G-nonadjacent-item
	G-nonadjacent-item-process G-nonadjacent-item-realtime G-nonadjacent-process G-nonadjacent-realtime
	G-single G-single-item G-single-item-process G-single-item-realtime G-single-process G-single-realtime
	G-update G0 G0-process G0-realtime G1 G1-process G1-realtime G1a G1b G1c G1c-process G1c-realtime G2
	G2-item G2-item-process G2-item-realtime G2-process G2-realtime PL-1-cycle-exists PL-2-cycle-exists
	PL-2.99-cycle-exists PL-3-cycle-exists PL-SI-cycle-exists PL-SS-cycle-exists cyclic-versions
	dirty-update duplicate-elements future-read incompatible-order internal lost-update predicate-read-miss
	strong-PL-1-cycle-exists strong-PL-2-cycle-exists strong-session-PL-1-cycle-exists
	strong-session-PL-2-cycle-exists strong-session-serializable-cycle-exists
	strong-session-snapshot-isolation-cycle-exists strong-snapshot-isolation-cycle-exists write-skew`)
	got := ProhibitedAnomalies([]string{"strict-serializable"})
	var gs []string
	for a := range got {
		gs = append(gs, a)
	}
	sort.Strings(gs)
	if strings.Join(gs, " ") != strings.Join(want, " ") {
		t.Fatalf("prohibited by strict-serializable:\n got %v\nwant %v", gs, want)
	}
	ru := ProhibitedAnomalies([]string{"read-uncommitted"})
	for _, a := range []string{"G0", "cyclic-versions", "duplicate-elements", "PL-1-cycle-exists"} {
		if !ru[a] {
			t.Errorf("read-uncommitted must prohibit %s", a)
		}
	}
	if ru["G1c"] || ru["G1a"] || len(ru) != 4 {
		t.Errorf("read-uncommitted prohibits only G0 & co: %v", ru)
	}
	rc := ProhibitedAnomalies([]string{"read-committed"})
	for _, a := range []string{"G0", "G1", "G1a", "G1b", "G1c", "PL-2-cycle-exists", "incompatible-order", "dirty-update", "future-read"} {
		if !rc[a] {
			t.Errorf("read-committed must prohibit %s", a)
		}
	}
	if rc["internal"] || rc["G-single-item"] || rc["lost-update"] || rc["G1c-process"] {
		t.Errorf("read-committed prohibits too much: %v", rc)
	}
}

func TestBoundary(t *testing.T) {
	not, also := Boundary([]string{"G1c"})
	if strings.Join(not, " ") != "read-committed" {
		t.Errorf("G1c: not %v", not)
	}
	for _, m := range also {
		if m == "read-uncommitted" || m == "read-committed" {
			t.Errorf("also-not must hold only stronger models: %v", also)
		}
	}
	not, also = Boundary([]string{"internal"})
	if strings.Join(not, " ") != "read-atomic" {
		t.Errorf("internal: not %v", not)
	}
	// Maelstrom 0.2.4 prints exactly these for :internal alone.
	wantAlso := "causal-cerone parallel-snapshot-isolation prefix serializable snapshot-isolation strong-serializable strong-session-serializable strong-session-snapshot-isolation strong-snapshot-isolation update-atomic"
	if strings.Join(also, " ") != wantAlso {
		t.Errorf("internal: also-not\n got %v\nwant %v", also, wantAlso)
	}
}

func TestNeedsGraphs(t *testing.T) {
	if !NeedsRealtime([]string{"strict-serializable"}) || NeedsProcess([]string{"strict-serializable"}) {
		t.Error("strict-serializable: realtime only")
	}
	if NeedsRealtime([]string{"serializable"}) || NeedsProcess([]string{"serializable"}) {
		t.Error("serializable: neither")
	}
	if NeedsRealtime([]string{"strong-session-serializable"}) || !NeedsProcess([]string{"strong-session-serializable"}) {
		t.Error("strong-session-serializable: process only")
	}
	if NeedsRealtime([]string{"read-committed"}) || NeedsProcess([]string{"read-uncommitted"}) {
		t.Error("RU/RC need no extra order")
	}
}
