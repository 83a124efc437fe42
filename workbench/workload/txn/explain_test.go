package txn

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workload"
)

// explainOps checks ops as the workload does, under models, and
// explains the result, keeping the drawings in files.
func explainOps(t *testing.T, ops []history.Op, appends bool, models []string, files map[string]string) []results.Finding {
	t.Helper()
	env := &workload.Env{Nodes: []string{"n0", "n1"}, Concurrency: 2, ConsistencyModels: models}
	w, err := newTxn(env, appends)
	if err != nil {
		t.Fatal(err)
	}
	ev := &explain.Evidence{Ops: ops, Nodes: env.Nodes, Concurrency: 2, Workload: w.Check(ops), Extra: w.ExtraCheck(ops)}
	if files != nil {
		ev.WriteFile = func(name string, write func(io.Writer) error) error {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				return err
			}
			files[name] = b.String()
			return nil
		}
	}
	t.Logf("workload: %v", ev.Workload)
	return w.Explain(ev)
}

// op builds a history entry; mops are micro-operations.
func op(i int, ms float64, typ history.Type, p int, mops ...[]any) history.Op {
	v := make([]any, len(mops))
	for j, m := range mops {
		v[j] = m
	}
	return history.Op{Index: i, Time: msT(ms), Type: typ, Process: p, F: "txn", Value: v}
}

func findingOf(t *testing.T, fs []results.Finding, kind string) results.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Kind == kind {
			return f
		}
	}
	t.Fatalf("no finding %q in %v", kind, fs)
	return results.Finding{}
}

// An aborted read: the story names the failed writer, its error and the
// reader, with their processes, nodes and times.
func TestExplainAbortedRead(t *testing.T) {
	fail := op(1, 10, history.Fail, 0, w(1, int64(1)))
	fail.Error = []any{edn.Keyword("txn-conflict"), "aborted"}
	ops := []history.Op{
		op(0, 0, history.Invoke, 0, w(1, int64(1))),
		fail,
		op(2, 20, history.Invoke, 1, r(1, nil)),
		op(3, 30, history.OK, 1, r(1, int64(1))),
	}
	fs := explainOps(t, ops, false, []string{"read-committed"}, nil)
	f := findingOf(t, fs, "G1a")
	if f.Section != "workload" || f.Count != 1 || f.Short != "G1a ×1" {
		t.Errorf("finding %+v", f)
	}
	if want := "1 aborted read (G1a): a committed transaction read a value that only a failed transaction wrote; the failed writers' errors: 1 × error 30 txn-conflict; read-committed forbids it (and every stronger model)."; f.Summary != want {
		t.Errorf("summary %q\nwant    %q", f.Summary, want)
	}
	ex := f.Examples[0]
	want := []string{
		"T1 = op 1, process 0 (on n0), at 0.000 s → 0.010 s, fail (error 30 txn-conflict): [w 1 1]",
		"T2 = op 3, process 1 (on n1), at 0.020 s → 0.030 s, ok: [r 1 1]",
		"T2 read key 1 = 1, a value T1 wrote; but T1 failed, so T2 saw a write that was never committed.",
	}
	if ex.Text != "T2 (op 3) read key 1 = 1, written only by T1 (op 1), which failed" || strings.Join(ex.Lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("example %q\n%s\nwant\n%s", ex.Text, strings.Join(ex.Lines, "\n"), strings.Join(want, "\n"))
	}
}

// Read skew: T1 reads key 1 before T2 writes it and key 2 after; the
// story tells both edges, and the drawing shows both transactions and
// both edges.
func TestExplainReadSkewStory(t *testing.T) {
	ops := []history.Op{
		op(0, 0, history.Invoke, 0, r(1, nil), r(2, nil)),
		op(1, 10, history.Invoke, 1, w(1, int64(1)), w(2, int64(2))),
		op(2, 20, history.OK, 1, w(1, int64(1)), w(2, int64(2))),
		op(3, 50, history.OK, 0, r(1, nil), r(2, int64(2))),
	}
	files := map[string]string{}
	fs := explainOps(t, ops, false, []string{"serializable"}, files)
	f := findingOf(t, fs, "G-single-item")
	if f.Count != 1 || !strings.HasPrefix(f.Summary, "1 G-single-item cycle (read skew) among transactions on n0, n1: ") {
		t.Errorf("finding %+v", f)
	}
	ex := f.Examples[0]
	want := []string{
		"T1 = op 3, process 0 (on n0), at 0.000 s → 0.050 s, ok: [r 1 nil] [r 2 2]",
		"T2 = op 2, process 1 (on n1), at 0.010 s → 0.020 s, ok: [w 1 1] [w 2 2]",
		"T1 → T2 (rw): T1 read key 1 = nil, as if nobody had written it, and T2 wrote 1 to it: T1 did not see T2's write, so T1 came before T2.",
		"T2 → T1 (wr): T1 read key 2 = 2, the value T2 wrote, so T1 came after T2.",
		"So T1 came before T2 and T2 before T1: no order of these transactions explains what they saw (G-single-item).",
	}
	if ex.Text != "G-single-item: T1 (op 3) →rw 1→ T2 (op 2) →wr 2→ T1" || strings.Join(ex.Lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("example %q\n%s\nwant\n%s", ex.Text, strings.Join(ex.Lines, "\n"), strings.Join(want, "\n"))
	}
	svg, ok := files["cycle-G-single-item-1.svg"]
	if ex.File != "cycle-G-single-item-1.svg" || !ok {
		t.Fatalf("file %q, files %v", ex.File, len(files))
	}
	for _, s := range []string{"op 3 · n0", "op 2 · n1", ">rw 1<", ">wr 2<", "<svg", "</svg>"} {
		if !strings.Contains(svg, s) {
			t.Errorf("drawing lacks %q", s)
		}
	}
	for d := xml.NewDecoder(strings.NewReader(svg)); ; {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the drawing is not well-formed XML: %v\n%s", err, svg)
		}
	}
	// Without a store nothing is drawn and nothing named.
	fs = explainOps(t, ops, false, []string{"serializable"}, nil)
	if f := findingOf(t, fs, "G-single-item"); f.Examples[0].File != "" {
		t.Errorf("file %q without a store", f.Examples[0].File)
	}
}

// The cycle read back from the checker's case is the one told.
func TestParseCycleOfTheChecker(t *testing.T) {
	ops := []history.Op{
		op(0, 0, history.Invoke, 0, r(1, nil), r(2, nil)),
		op(1, 10, history.Invoke, 1, w(1, int64(1)), w(2, int64(2))),
		op(2, 20, history.OK, 1, w(1, int64(1)), w(2, int64(2))),
		op(3, 50, history.OK, 0, r(1, nil), r(2, int64(2))),
	}
	res := elle.CheckRWRegister(ops, elle.Options{ConsistencyModels: []string{"serializable"}})
	v, _ := res.Path(edn.Keyword("anomalies"), edn.Keyword("G-single-item"))
	cc, ok := elle.ParseCycle(v.(edn.Vector)[0].(edn.Map))
	if !ok || cc.Type != "G-single-item" || len(cc.Txns) != 2 || cc.Txns[0] != 3 || cc.Txns[1] != 2 {
		t.Fatalf("parsed %+v", cc)
	}
	if s := cc.Steps[0]; s.Rel != elle.RW || !history.Equal(s.Key, 1) || s.Value != nil || !history.Equal(s.Value2, 1) || !s.HasValue2 {
		t.Errorf("step 0 %+v", s)
	}
	if s := cc.Steps[1]; s.Rel != elle.WR || !history.Equal(s.Key, 2) || !history.Equal(s.Value, 2) || s.HasValue2 {
		t.Errorf("step 1 %+v", s)
	}
}

// neverSeenHistory: n0 writes key 1 = 1 at once; n1 keeps reading key 1
// = nil for two seconds. With partition set, a partition cuts n0 from n1
// from 5 ms to 100 ms.
func neverSeenHistory(partition bool) []history.Op {
	var h visHistory
	h.ok(0, 0, 1, w(1, int64(1)))
	if partition {
		grudge := edn.Vector{edn.Keyword("isolated"), edn.Map{{Key: "n0", Val: edn.Set{"n1"}}, {Key: "n1", Val: edn.Set{"n0"}}}}
		h.ops = append(h.ops,
			history.Op{Index: len(h.ops), Time: msT(5), Type: history.Info, Process: history.NemesisProcess, F: nemesis.StartPartition},
			history.Op{Index: len(h.ops) + 1, Time: msT(6), Type: history.Info, Process: history.NemesisProcess, F: nemesis.StartPartition, Value: grudge})
		h.nemesis(nemesis.StopPartition, 100)
	}
	for at := 10.0; at <= 2000; at += 100 {
		h.ok(1, at, at+1, r(1, nil))
	}
	return h.ops
}

// A write never seen on the other node, with no partition: the
// explanation must not blame one.
func TestExplainNeverSeenBlamesNoPartitionWithoutOne(t *testing.T) {
	fs := explainOps(t, neverSeenHistory(false), false, []string{"read-committed"}, nil)
	f := findingOf(t, fs, "never-seen")
	if f.Section != "glomers" || f.Count != 1 || f.Short != "1 write never seen" {
		t.Errorf("finding %+v", f)
	}
	if !strings.Contains(f.Summary, "no partition separated the two nodes meanwhile") {
		t.Errorf("summary %q", f.Summary)
	}
	// One write: the sentence agrees with it in number.
	if !strings.HasPrefix(f.Summary, "1 write acknowledged on one node was never seen on another: reads there kept missing it for longer than allowed (500 ms, 1000 ms after a heal) and no later read saw it;") {
		t.Errorf("summary %q", f.Summary)
	}
	ex := f.Examples[0]
	if ex.Text != "key 1 = 1, written by op 1 and acknowledged at 0.00 s, was still missing on n1 1909 ms later" {
		t.Errorf("text %q", ex.Text)
	}
	want := []string{
		"write: op 1, process 0 (on n0), at 0.000 s → 0.001 s, ok: [w 1 1]",
		"last read on n1 that missed it (key 1 = nil): op 41, process 1 (on n1), at 1.910 s → 1.911 s, ok: [r 1 nil]",
		"no later read on n1 saw it.",
	}
	if strings.Join(ex.Lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines\n%s\nwant\n%s", strings.Join(ex.Lines, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range fs {
		if f.Kind == "after-heal" || strings.Contains(f.Summary, "a partition separated") {
			t.Errorf("%s blames a partition: %q", f.Kind, f.Summary)
		}
	}
}

// The same write cut off by a partition: now the partition is named, and
// how long after its heal the write was still missing.
func TestExplainNeverSeenAcrossAPartition(t *testing.T) {
	fs := explainOps(t, neverSeenHistory(true), false, []string{"read-committed"}, nil)
	f := findingOf(t, fs, "never-seen")
	if !strings.Contains(f.Summary, "a partition separated the two nodes meanwhile, and no read after the heal saw it") {
		t.Errorf("summary %q", f.Summary)
	}
	if want := "meanwhile the partition n0 | n1 from 0.01 s to 0.10 s cut n0 off from n1"; f.Examples[0].Lines[2] != want {
		t.Errorf("example %q, want line 3 %q", f.Examples[0].Lines, want)
	}
	heal := findingOf(t, fs, "after-heal")
	if heal.Count != 1 || !strings.Contains(heal.Summary, "1809 ms after the partition n0 | n1 from 0.01 s to 0.10 s") {
		t.Errorf("after-heal %+v", heal)
	}
}

// listAppendHistory holds, on two nodes, an aborted append read twice,
// a read with an element twice, two reads of a key in incompatible
// orders and, with each process's order, a read-skew cycle.
func listAppendHistory() []history.Op {
	fail := op(1, 10, history.Fail, 0, appendOp(1, int64(1)))
	fail.Error = []any{edn.Keyword("abort"), "x"}
	return []history.Op{
		op(0, 0, history.Invoke, 0, appendOp(1, int64(1))),
		fail,
		op(2, 20, history.Invoke, 1, r(1, nil), appendOp(1, int64(2))),
		op(3, 30, history.OK, 1, r(1, []any{int64(1)}), appendOp(1, int64(2))),
		op(4, 40, history.Invoke, 0, r(1, nil), r(2, nil)),
		op(5, 50, history.OK, 0, r(1, []any{int64(2), int64(1)}), r(2, []any{int64(5), int64(5)})),
		op(6, 60, history.Invoke, 1, appendOp(2, int64(5)), r(3, nil)),
		op(7, 70, history.OK, 1, appendOp(2, int64(5)), r(3, nil)),
		op(8, 80, history.Invoke, 0, r(1, nil)),
		op(9, 90, history.OK, 0, r(1, nil)),
	}
}

// The list-append cases, each told in words; a process edge names the
// process and its node.
func TestExplainListAppendCases(t *testing.T) {
	fs := explainOps(t, listAppendHistory(), true, []string{"strong-session-serializable"}, nil)
	for kind, want := range map[string]struct {
		count int
		text  string
	}{
		"G1a":                   {2, "T2 (op 3) read key 1 = [1], holding 1, appended only by T1 (op 1), which failed"},
		"duplicate-elements":    {1, "op 5 read key 2 = [5 5], in which 5 appears 2 times"},
		"incompatible-order":    {1, "key 1 was read as [1] and as [2 1]"},
		"G-single-item-process": {1, "G-single-item-process: T1 (op 9) →rw 1→ T2 (op 3) →process→ T3 (op 7) →wr 2→ T4 (op 5) →process→ T1"},
	} {
		f := findingOf(t, fs, kind)
		if f.Count != want.count || f.Examples[0].Text != want.text {
			t.Errorf("%s: count %d, first example %q; want %d, %q", kind, f.Count, f.Examples[0].Text, want.count, want.text)
		}
	}
	if f := findingOf(t, fs, "G1a"); !strings.Contains(f.Summary, "2 × error 14 abort") {
		t.Errorf("G1a summary %q", f.Summary)
	}
	cyc := findingOf(t, fs, "G-single-item-process").Examples[0].Lines
	if want := "T2 → T3 (process): process 1 (on n1) ran T2 and then T3, so T2 came before T3."; cyc[5] != want {
		t.Errorf("process edge %q, want %q", cyc[5], want)
	}
	if want := "T1 → T2 (rw): T1 read key 1 empty, without 2, which T2 appended as its first element: T1 did not see T2's append, so T1 came before T2."; cyc[4] != want {
		t.Errorf("rw edge %q, want %q", cyc[4], want)
	}
}

// A history Elle cannot check (an element nobody appended) is said to be
// so, with Elle's error.
func TestExplainCheckerError(t *testing.T) {
	ops := []history.Op{
		op(0, 0, history.Invoke, 0, r(1, nil)),
		op(1, 10, history.OK, 0, r(1, []any{int64(7)})),
	}
	f := findingOf(t, explainOps(t, ops, true, nil, nil), "checker-error")
	if !strings.Contains(f.Summary, "No transaction wrote 1 7") {
		t.Errorf("summary %q", f.Summary)
	}
}

// Findings come plainest first: what read-committed forbids before read
// skew, the plain type before its -process and -realtime variants, Elle's
// fallbacks last.
func TestAnomalyRankOrder(t *testing.T) {
	order := []string{"internal", "G0", "G1a", "G1c", "G1c-process", "G1c-realtime", "lost-update",
		"G-single-item", "G-single-item-realtime", "G2-item", "PL-2-cycle-exists", "something-new"}
	for i := 1; i < len(order); i++ {
		if anomalyRank(order[i-1]) >= anomalyRank(order[i]) {
			t.Errorf("%s ranks %d, not before %s (%d)", order[i-1], anomalyRank(order[i-1]), order[i], anomalyRank(order[i]))
		}
	}
}

// A dirty update names the failed append and the committed one that
// follows it in the key's list, each with its process, node and times.
func TestExplainDirtyUpdateStory(t *testing.T) {
	ops := []history.Op{
		op(0, 0, history.Invoke, 0, appendOp(int64(1), int64(1))),
		op(1, 10, history.Fail, 0, appendOp(int64(1), int64(1))),
		op(2, 20, history.Invoke, 1, appendOp(int64(1), int64(2))),
		op(3, 30, history.OK, 1, appendOp(int64(1), int64(2))),
	}
	x := caseTeller{teller{&explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1"}, Concurrency: 2}}}
	c := edn.K("key", int64(1), "values", edn.Vector{int64(1), int64(2)},
		"txns", edn.Vector{edn.K("index", 1), edn.K("index", 3)})
	ex := x.story("dirty-update", c)
	if ex.Text != "key 1 holds [1 2]" {
		t.Errorf("text %q", ex.Text)
	}
	if len(ex.Lines) != 2 ||
		!strings.HasPrefix(ex.Lines[0], "failed: op 1, process 0 (on n0), at 0.000 s → 0.010 s, fail") ||
		!strings.HasPrefix(ex.Lines[1], "committed after it: op 3, process 1 (on n1), at 0.020 s → 0.030 s, ok: [append 1 2]") {
		t.Errorf("lines %q", ex.Lines)
	}
}

// A summary names the weakest models an anomaly type rules out, the verb
// agreeing with how many there are.
func TestForbids(t *testing.T) {
	for typ, want := range map[string]string{
		"G1a":           "; read-committed forbids it (and every stronger model).",
		"G-single-item": "; consistent-view and repeatable-read forbid it (and every stronger model).",
		"lost-update":   "; cursor-stability and update-atomic forbid it (and every stronger model).",
		"no-such-type":  ".",
	} {
		if got := forbids(typ); got != want {
			t.Errorf("forbids(%q) = %q, want %q", typ, got, want)
		}
	}
}
