package txn_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	soltxn "github.com/glomers/glomers/solutions/txn"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/txn"
)

// finding returns the explanation's finding of kind in section, failing
// t when there is none.
func finding(t *testing.T, res *workbench.Result, section, kind string) results.Finding {
	t.Helper()
	if res.Explanation == nil {
		t.Fatalf("no explanation for a run judged %v", res.Valid)
	}
	var kinds []string
	for _, f := range res.Explanation.Findings {
		if f.Section == section && f.Kind == kind {
			return f
		}
		kinds = append(kinds, f.Section+"/"+f.Kind)
	}
	t.Fatalf("no %s finding %q; findings: %v", section, kind, kinds)
	return results.Finding{}
}

// cases returns the checker's cases of an anomaly type.
func cases(t *testing.T, res *workbench.Result, typ string) []edn.Map {
	t.Helper()
	v := workbenchtest.Get(t, res, "workload", "anomalies", edn.Keyword(typ))
	var items []any
	switch l := v.(type) {
	case edn.List:
		items = l
	case edn.Vector:
		items = l
	}
	out := make([]edn.Map, len(items))
	for i, it := range items {
		out[i] = it.(edn.Map)
	}
	return out
}

// whoIs renders an operation's process and node as the story must name
// them, computed here from the run's configuration.
func whoIs(res *workbench.Result, nodes, concurrency, index int) string {
	p := res.History[index].Process
	return fmt.Sprintf("op %d, process %d (on n%d)", index, p, (p%concurrency)%nodes)
}

// checkEveryAnomalyExplained asserts that every anomaly type of the
// checker has a finding of that kind with the checker's count, and that
// every cycle type's stories match its cycles.
func checkEveryAnomalyExplained(t *testing.T, res *workbench.Result, nodes, concurrency int, dir string) {
	t.Helper()
	types := workbenchtest.Get(t, res, "workload", "anomaly-types").(edn.List)
	if len(types) == 0 {
		t.Fatal("no anomaly types")
	}
	for _, k := range types {
		typ := string(k.(edn.Keyword))
		f := finding(t, res, "workload", typ)
		cs := cases(t, res, typ)
		if f.Count != len(cs) {
			t.Errorf("%s: count %d, the checker has %d cases", typ, f.Count, len(cs))
		}
		if want := fmt.Sprintf("%s ×%d", typ, len(cs)); f.Short != want {
			t.Errorf("%s: short %q, want %q", typ, f.Short, want)
		}
		if !strings.HasPrefix(f.Summary, fmt.Sprint(len(cs))+" ") {
			t.Errorf("%s: summary %q does not start with the count %d", typ, f.Summary, len(cs))
		}
		if elle.IsCycleType(typ) {
			checkCycleStories(t, res, f, cs, nodes, concurrency, dir)
		}
	}
}

// checkCycleStories asserts that each example tells the checker's cycle
// of the same rank: its transactions (op index, process, node), each
// edge's relationship, key and values, and that the first few were drawn.
func checkCycleStories(t *testing.T, res *workbench.Result, f results.Finding, cs []edn.Map, nodes, concurrency int, dir string) {
	t.Helper()
	if want := min(len(cs), results.MaxExamples); len(f.Examples) != want {
		t.Fatalf("%s: %d examples, want %d", f.Kind, len(f.Examples), want)
	}
	// The examples are the shortest cycles, in the checker's order among
	// cycles of a length.
	var cycles []elle.CycleCase
	for i, c := range cs {
		cc, ok := elle.ParseCycle(c)
		if !ok {
			t.Fatalf("%s case %d is not a cycle: %v", f.Kind, i, c)
		}
		cycles = append(cycles, cc)
	}
	sort.SliceStable(cycles, func(i, j int) bool { return len(cycles[i].Txns) < len(cycles[j].Txns) })
	for i, ex := range f.Examples {
		cc := cycles[i]
		n := len(cc.Txns)
		if len(ex.Lines) != 2*n+1 {
			t.Fatalf("%s example %d: %d lines for a cycle of %d: %q", f.Kind, i, len(ex.Lines), n, ex.Lines)
		}
		for j, ti := range cc.Txns {
			want := fmt.Sprintf("T%d = %s, ", j+1, whoIs(res, nodes, concurrency, ti))
			if !strings.HasPrefix(ex.Lines[j], want) {
				t.Errorf("%s example %d: line %q, want it to begin %q", f.Kind, i, ex.Lines[j], want)
			}
			if !strings.Contains(ex.Text, fmt.Sprintf("T%d (op %d) →", j+1, ti)) {
				t.Errorf("%s example %d: text %q does not name T%d as op %d", f.Kind, i, ex.Text, j+1, ti)
			}
		}
		for j, s := range cc.Steps {
			line := ex.Lines[n+j]
			want := fmt.Sprintf("T%d → T%d (%s): ", j+1, (j+1)%n+1, s.Rel)
			if !strings.HasPrefix(line, want) {
				t.Errorf("%s example %d: edge line %q, want it to begin %q", f.Kind, i, line, want)
			}
			if s.Rel == elle.Realtime && s.Completed >= 0 && s.Invoked >= 0 {
				want := fmt.Sprintf("completed at %.3f s before T%d began at %.3f s", float64(res.History[s.Completed].Time)/1e9,
					(j+1)%n+1, float64(res.History[s.Invoked].Time)/1e9)
				if !strings.Contains(line, want) {
					t.Errorf("%s example %d: realtime line %q lacks %q", f.Kind, i, line, want)
				}
			}
			if s.HasKey {
				if !strings.Contains(line, fmt.Sprintf("key %v", s.Key)) {
					t.Errorf("%s example %d: edge line %q does not name key %v", f.Kind, i, line, s.Key)
				}
				if v, ok := s.Value.(int64); ok && !strings.Contains(line, fmt.Sprint(v)) {
					t.Errorf("%s example %d: edge line %q does not name value %v", f.Kind, i, line, v)
				}
				if v, ok := s.Value2.(int64); ok && s.HasValue2 && !strings.Contains(line, fmt.Sprint(v)) {
					t.Errorf("%s example %d: edge line %q does not name value' %v", f.Kind, i, line, v)
				}
			}
		}
		if dir == "" {
			continue
		}
		if i >= 5 {
			if ex.File != "" {
				t.Errorf("%s example %d drawn as %s: at most 5 drawings per type", f.Kind, i, ex.File)
			}
			continue
		}
		if want := fmt.Sprintf("cycle-%s-%d.svg", f.Kind, i+1); ex.File != want {
			t.Fatalf("%s example %d: file %q, want %q", f.Kind, i, ex.File, want)
		}
		b, err := os.ReadFile(filepath.Join(dir, ex.File))
		if err != nil {
			t.Fatal(err)
		}
		svg := string(b)
		if got := strings.Count(svg, "<rect"); got != n {
			t.Errorf("%s: %d boxes for %d transactions", ex.File, got, n)
		}
		if got := strings.Count(svg, `class="edge"`); got != n {
			t.Errorf("%s: %d arrows for %d edges", ex.File, got, n)
		}
		for j, s := range cc.Steps {
			if !strings.Contains(svg, fmt.Sprintf("op %d", cc.Txns[j])) || !strings.Contains(svg, ">"+s.Rel.String()) {
				t.Errorf("%s: no box for op %d or no %s label", ex.File, cc.Txns[j], s.Rel)
			}
		}
	}
}

// TxnDirtyAbort's G1a: each story names the read and the failed writer
// the checker names, and the summary gives the writers' error.
func TestExplainDirtyAbort(t *testing.T) {
	t.Parallel()
	res := txnRun{nodes: 1, seconds: 3, rate: 1000, models: []string{"read-committed"}, seed: 1}.run(t, faulty.TxnDirtyAbort)
	checkEveryAnomalyExplained(t, res, 1, 2, "")
	f := finding(t, res, "workload", "G1a")
	if !strings.Contains(f.Summary, fmt.Sprintf("%d × error 30 txn-conflict", f.Count)) || !strings.Contains(f.Summary, "read-committed forbids") {
		t.Errorf("summary %q: want every writer's txn-conflict and read-committed named", f.Summary)
	}
	cs := cases(t, res, "G1a")
	ex := f.Examples[0]
	op, _ := elle.OpIndex(cs[0][0].Val.(edn.Map))
	w, _ := elle.OpIndex(cs[0][2].Val.(edn.Map))
	mop := cs[0][1].Val.([]any)
	want := fmt.Sprintf("T2 (op %d) read key %v = %v, written only by T1 (op %d), which failed", op, mop[1], mop[2], w)
	if ex.Text != want {
		t.Errorf("first example %q, want %q", ex.Text, want)
	}
	if !strings.HasPrefix(ex.Lines[0], "T1 = "+whoIs(res, 1, 2, w)) || !strings.Contains(ex.Lines[0], "fail (error 30 txn-conflict)") {
		t.Errorf("writer line %q", ex.Lines[0])
	}
	if !strings.HasPrefix(ex.Lines[1], "T2 = "+whoIs(res, 1, 2, op)) {
		t.Errorf("reader line %q", ex.Lines[1])
	}
	if got := res.Summary.Reasons; !slices.Contains(got, fmt.Sprintf("G1a ×%d", f.Count)) {
		t.Errorf("scoreboard reasons %v lack G1a ×%d", got, f.Count)
	}
}

// orNil renders a register value as the stories do.
func orNil(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(v)
}

// TxnIntermediate's G1b: the story names the intermediate write.
func TestExplainIntermediate(t *testing.T) {
	t.Parallel()
	res := txnRun{nodes: 1, seconds: 3, rate: 1000, models: []string{"read-committed"}, seed: 1}.run(t, faulty.TxnIntermediate)
	checkEveryAnomalyExplained(t, res, 1, 2, "")
	f := finding(t, res, "workload", "G1b")
	cs := cases(t, res, "G1b")
	op, _ := elle.OpIndex(cs[0][0].Val.(edn.Map))
	w, _ := elle.OpIndex(cs[0][2].Val.(edn.Map))
	mop := cs[0][1].Val.([]any)
	want := fmt.Sprintf("T2 (op %d) read key %v = %v, a value T1 wrote and then overwrote before it committed", op, mop[1], mop[2])
	if f.Examples[0].Text != want || !strings.HasPrefix(f.Examples[0].Lines[0], "T1 = "+whoIs(res, 1, 2, w)+", ") {
		t.Errorf("first example %q %q, want %q and T1 = op %d", f.Examples[0].Text, f.Examples[0].Lines, want, w)
	}
	// The writer wrote that value and then the key again.
	writer := res.History[w].Value.([]any)
	wrote := 0
	for _, m := range writer {
		if m := m.([]any); m[0] == edn.Keyword("w") && history.Equal(m[1], mop[1]) {
			wrote++
		}
	}
	if wrote < 2 {
		t.Errorf("the writer named, %v, wrote key %v %d times", writer, mop[1], wrote)
	}
}

// TxnLostUpdate on two nodes: the lost updates' writers ran on both
// nodes, and the cycles are told edge by edge.
func TestExplainLostUpdate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := txnRun{nodes: 2, seconds: 3, rate: 1000, models: []string{"strict-serializable"}, seed: 1, store: dir}.run(t, faulty.TxnLostUpdate)
	checkEveryAnomalyExplained(t, res, 2, 4, res.Dir)
	f := finding(t, res, "workload", "lost-update")
	cs := cases(t, res, "lost-update")
	different := 0
	for _, c := range cs {
		txns, _ := c.Get(edn.Keyword("txns"))
		nodes := map[int]bool{}
		for _, op := range txns.(edn.Vector) {
			i, _ := elle.OpIndex(op.(edn.Map))
			nodes[(res.History[i].Process%4)%2] = true
		}
		if len(nodes) > 1 {
			different++
		}
	}
	if want := "different nodes (n0, n1) in " + results.Plural(different, "case"); different > 0 && !strings.Contains(f.Summary, want) {
		t.Errorf("summary %q lacks %q", f.Summary, want)
	}
	ex := f.Examples[0]
	k, _ := cs[0].Get(edn.Keyword("key"))
	v, _ := cs[0].Get(edn.Keyword("value"))
	if !strings.Contains(ex.Text, fmt.Sprintf("read key %v = %s and then each wrote key %v", k, orNil(v), k)) {
		t.Errorf("example %q does not name key %v = %v", ex.Text, k, v)
	}
}

// The read-committed list-append store: read skew cycles with realtime
// edges, told and drawn.
func TestExplainReadCommittedAppend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := txnRun{workload: "txn-list-append", nodes: 1, concurrency: 4, seconds: 3, rate: 1000,
		models: []string{"strict-serializable"}, seed: 6, store: dir}.run(t, faulty.TxnReadCommittedAppend)
	checkEveryAnomalyExplained(t, res, 1, 4, res.Dir)
	f := finding(t, res, "workload", "G-single-item-realtime")
	if !strings.Contains(f.Summary, "read skew") || !strings.Contains(f.Summary, "real time") {
		t.Errorf("summary %q", f.Summary)
	}
}

// The list-append store on lin-kv without a root, on three nodes.
func TestExplainLinKVPerKey(t *testing.T) {
	t.Parallel()
	res := txnRun{workload: "txn-list-append", nodes: 3, seconds: 3, rate: 200,
		models: []string{"serializable"}, seed: 1}.run(t, faulty.TxnLinKVPerKey)
	checkEveryAnomalyExplained(t, res, 3, 6, "")
	finding(t, res, "workload", "G-single-item")
}

// The read-committed register store: read skew (G-single-item) in
// txn-rw-register, told and drawn; under read-committed it is valid and
// nothing is explained.
func TestExplainReadCommittedRegister(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := txnRun{nodes: 1, concurrency: 4, seconds: 3, rate: 1000, models: []string{"serializable"}, seed: 1, store: dir}.run(t, faulty.TxnReadCommittedRegister)
	checkEveryAnomalyExplained(t, res, 1, 4, res.Dir)
	f := finding(t, res, "workload", "G-single-item")
	rw := 0
	for _, l := range f.Examples[0].Lines {
		if strings.Contains(l, "(rw): ") {
			rw++
		}
	}
	if rw != 1 {
		t.Errorf("a G-single-item cycle told with %d rw edges: %q", rw, f.Examples[0].Lines)
	}
	ok := txnRun{nodes: 1, concurrency: 4, seconds: 3, rate: 1000, models: []string{"read-committed"}, seed: 1}.run(t, faulty.TxnReadCommittedRegister)
	if ok.Valid != checker.Valid || ok.Explanation != nil {
		t.Errorf("read-committed: judged %v, explanation %v", ok.Valid, ok.Explanation)
	}
}

// The snapshot-isolated register store: write skew (G2-item), each
// cycle told with two or more rw edges; under snapshot-isolation the
// workload is valid.
func TestExplainSnapshotRegister(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := txnRun{nodes: 1, concurrency: 4, seconds: 3, rate: 1000, models: []string{"serializable"}, seed: 1, store: dir}.run(t, faulty.TxnSnapshotRegister)
	checkEveryAnomalyExplained(t, res, 1, 4, res.Dir)
	f := finding(t, res, "workload", "G2-item")
	if !strings.Contains(f.Summary, "write skew") {
		t.Errorf("summary %q", f.Summary)
	}
	for _, ex := range f.Examples {
		rw := 0
		for _, l := range ex.Lines {
			if strings.Contains(l, "(rw): ") {
				rw++
			}
		}
		if rw < 2 {
			t.Errorf("a G2-item cycle told with %d rw edges: %q", rw, ex.Lines)
		}
	}
	si := txnRun{nodes: 1, concurrency: 4, seconds: 3, rate: 1000, models: []string{"snapshot-isolation"}, seed: 1}.run(t, faulty.TxnSnapshotRegister)
	if v, _ := si.Results.Path("workload", "valid?"); v != true {
		t.Errorf("snapshot-isolation: workload judged %v", v)
	}
}

// A valid run of the solution, with partitions, explains nothing, and
// its workload asked anyway finds nothing to tell.
func TestExplainValidSolution(t *testing.T) {
	t.Parallel()
	res := txnRun{nodes: 3, seconds: 5, rate: 200, models: []string{"read-committed"}, partitions: true,
		latency: 5 * time.Millisecond, seed: 1}.run(t, func(n *node.Node) { soltxn.Register(n) })
	if res.Valid != checker.Valid || res.Explanation != nil {
		t.Fatalf("judged %v, explanation %v", res.Valid, res.Explanation)
	}
	wl, err := txn.NewRWRegister(&workload.Env{Nodes: workbench.NodeIDs(3), Concurrency: 6, ConsistencyModels: []string{"read-committed"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := &explain.Evidence{Ops: res.History, Nodes: workbench.NodeIDs(3), Concurrency: 6,
		Workload: workbenchtest.Get(t, res, "workload").(edn.Map),
		Extra:    workbenchtest.Get(t, res, "glomers", "workload").(edn.Map)}
	if got := wl.(explain.Explainer).Explain(ev); len(got) != 0 {
		t.Errorf("a valid run explained: %v", got)
	}
}

// A store that never replicates: writes never seen on the other node,
// and no partition blamed, for there was none.
func TestExplainNeverSeenWithoutPartition(t *testing.T) {
	t.Parallel()
	res := txnRun{nodes: 2, seconds: 5, rate: 1000, models: []string{"read-committed"}, strict: true, seed: 4}.run(t, atomicStore)
	f := finding(t, res, "glomers", "never-seen")
	want, _ := history.Int(workbenchtest.Get(t, res, "glomers", "workload", "never-seen-writes"))
	if int64(f.Count) != want || f.Short != fmt.Sprintf("%d writes never seen", want) {
		t.Errorf("count %d, short %q; the check found %d", f.Count, f.Short, want)
	}
	if !strings.Contains(f.Summary, "no partition separated the two nodes meanwhile") ||
		!strings.Contains(f.Summary, " writes acknowledged on one node were never seen on another: reads there kept missing them ") ||
		!strings.Contains(f.Summary, " no later read saw them;") {
		t.Errorf("summary %q", f.Summary)
	}
	ex := f.Examples[0]
	// The write went to one node, the missing read to the other.
	if len(ex.Lines) != 3 || !strings.Contains(ex.Lines[2], "no later read on") {
		t.Fatalf("example lines %q", ex.Lines)
	}
	wNode := nodeNamed(t, ex.Lines[0])
	rNode := nodeNamed(t, ex.Lines[1])
	if wNode == rNode || !strings.Contains(ex.Text, "missing on "+rNode) {
		t.Errorf("write on %s, stale read on %s: %q", wNode, rNode, ex)
	}
}

// nodeNamed returns the node in a line "... process 3 (on n1) ...".
func nodeNamed(t *testing.T, line string) string {
	t.Helper()
	_, after, ok := strings.Cut(line, "(on ")
	node, _, ok2 := strings.Cut(after, ")")
	if !ok || !ok2 {
		t.Fatalf("no node in %q", line)
	}
	return node
}
