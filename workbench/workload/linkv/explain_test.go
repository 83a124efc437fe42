package linkv

import (
	"cmp"
	"errors"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// hist builds a lin-kv history on key 0 from operations given with their
// call and return times in milliseconds.
type hist struct{ ops []history.Op }

// op adds an operation: f is "read" (v: the value read), "write" (v: the
// value written) or "cas" (v: [from to]); ret < 0 leaves it without a
// completion, and typ is the completion's type.
func (h *hist) op(p int, f string, v any, typ history.Type, call, ret int64) *hist {
	inv := []any{int64(0), v}
	if f == "read" {
		inv = []any{int64(0), nil}
	}
	h.ops = append(h.ops, history.Op{Type: history.Invoke, Process: p, F: f, Value: inv, Time: call * 1e6})
	if ret >= 0 {
		c := history.Op{Type: typ, Process: p, F: f, Value: []any{int64(0), v}, Time: ret * 1e6}
		if typ == history.Info {
			c.Error = "indeterminate: timeout"
		}
		h.ops = append(h.ops, c)
	}
	return h
}

func (h *hist) ok(p int, f string, v any, call, ret int64) *hist {
	return h.op(p, f, v, history.OK, call, ret)
}

// done orders the history by time and numbers it.
func (h *hist) done() []history.Op {
	sort.SliceStable(h.ops, func(i, j int) bool { return h.ops[i].Time < h.ops[j].Time })
	for i := range h.ops {
		h.ops[i].Index = i
	}
	return h.ops
}

// evidence checks ops as the lin-kv workload does and returns what an
// explanation is drawn from: three nodes, three threads.
func evidence(ops []history.Op) *explain.Evidence {
	return &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3,
		Workload: checker.LinearizableKV(ops, time.Minute)}
}

// explainOne explains ops and returns the single finding about keys that
// are not linearizable, failing t otherwise.
func explainOne(t *testing.T, ops []history.Op) results.Finding {
	t.Helper()
	ev := evidence(ops)
	if checker.ValidityOf(ev.Workload) != checker.Invalid {
		t.Fatalf("the checker finds the history %v, want invalid", checker.ValidityOf(ev.Workload))
	}
	found := (&linKV{}).Explain(ev)
	if len(found) != 1 || found[0].Kind != "not-linearizable" || found[0].Count != 1 || len(found[0].Examples) != 1 {
		t.Fatalf("findings %+v, want one not-linearizable key with one example", found)
	}
	return found[0]
}

// A read of a value overwritten before it began: the window is the
// overwrite and the read, however long the history before them, and the
// story names both and the write the read should not have seen.
func TestExplainOverwrittenValue(t *testing.T) {
	h := &hist{}
	var at int64
	for i := range 30 { // a long linearizable past
		h.ok(i%3, "write", int64(i%5), at, at+5).ok((i+1)%3, "read", int64(i%5), at+6, at+8)
		at += 10
	}
	h.ok(0, "write", int64(1), at, at+10)
	h.ok(1, "write", int64(3), at+20, at+30)
	h.ok(2, "read", int64(1), at+40, at+50)
	f := explainOne(t, h.done())
	ex := f.Examples[0]
	for _, want := range []string{"process 2 (on n2) read 1", "process 1 (on n1) had written 3", "after every write of 1 and before this read began"} {
		if !strings.Contains(ex.Text, want) {
			t.Errorf("example %q lacks %q", ex.Text, want)
		}
	}
	if want := "Key 0 is not linearizable: an operation saw a value already overwritten before it began."; f.Summary != want {
		t.Errorf("summary %q, want %q", f.Summary, want)
	}
	// The window: the overwrite and the read (after the whole-key state
	// line and the write of 1 before it, for context).
	var ops []string
	for _, l := range ex.Lines {
		if strings.HasPrefix(l, "process") || strings.HasPrefix(l, "then process") {
			ops = append(ops, l)
		}
	}
	if len(ops) != 2 || !strings.Contains(ops[0], "process 1 (on n1) wrote 3") || !strings.Contains(ops[1], "then process 2 (on n2) read 1") {
		t.Errorf("window %q, want the write of 3 then the read of 1", ops)
	}
	if !strings.HasPrefix(ex.Lines[0], "before the window: process 0 (on n0) wrote 1 at 0.300–0.310 s (ok), the last write of 1 to begin before the read below") {
		t.Errorf("the story does not begin with the last write of 1: %q", ex.Lines)
	}
	if f.Short != "key 0 not linearizable" {
		t.Errorf("short %q", f.Short)
	}
}

// A value nobody wrote is said to be so.
func TestExplainValueNeverWritten(t *testing.T) {
	h := (&hist{}).ok(0, "write", int64(1), 0, 10).ok(1, "read", int64(7), 20, 30)
	f := explainOne(t, h.done())
	if want := "process 1 (on n1) read 7 at 0.020–0.030 s, though no operation had written 7"; !strings.Contains(f.Examples[0].Text, want) {
		t.Errorf("example %q lacks %q", f.Examples[0].Text, want)
	}
}

// When the other value was written concurrently with the value seen, it
// did not overwrite it "after every write": the explanation must not
// blame that write, but the read of 1 that began after the write of 3
// had returned, which does show that 3 was gone.
func TestExplainDoesNotBlameAConcurrentWrite(t *testing.T) {
	h := (&hist{}).
		ok(0, "write", int64(1), 0, 100). // long, concurrent with the write of 3
		ok(1, "write", int64(3), 20, 30).
		ok(2, "read", int64(1), 40, 50). // the write of 1 came after the write of 3
		ok(1, "read", int64(3), 60, 70)  // so 3 is gone: not linearizable
	f := explainOne(t, h.done())
	ex := f.Examples[0]
	if strings.Contains(ex.Text, "had written 1") {
		t.Errorf("example %q blames a write that was concurrent with the write of 3", ex.Text)
	}
	if want := "process 1 (on n1) read 3 at 0.060–0.070 s, though process 2 (on n2) had read 1 at 0.040–0.050 s, after every write of 3"; !strings.Contains(ex.Text, want) {
		t.Errorf("example %q lacks %q", ex.Text, want)
	}
}

// A cas that needed a value already overwritten is told as such.
func TestExplainCas(t *testing.T) {
	h := (&hist{}).
		ok(0, "write", int64(2), 0, 10).
		ok(1, "write", int64(4), 20, 30).
		ok(2, "cas", []any{int64(2), int64(0)}, 40, 50)
	f := explainOne(t, h.done())
	if want := "process 2 (on n2) cas 2→0 at 0.040–0.050 s, though process 1 (on n1) had written 4"; !strings.Contains(f.Examples[0].Text, want) {
		t.Errorf("example %q lacks %q", f.Examples[0].Text, want)
	}
	if !strings.Contains(f.Examples[0].Text, "before this cas began") {
		t.Errorf("example %q", f.Examples[0].Text)
	}
}

// A linearizable history gets no finding, even asked directly.
func TestExplainLinearizableHistory(t *testing.T) {
	h := (&hist{}).ok(0, "write", int64(1), 0, 100).ok(1, "write", int64(3), 20, 30).ok(2, "read", int64(1), 40, 50)
	ev := evidence(h.done())
	if v := checker.ValidityOf(ev.Workload); v != checker.Valid {
		t.Fatalf("checker: %v", v)
	}
	if found := (&linKV{}).Explain(ev); len(found) != 0 {
		t.Errorf("a linearizable history explained: %+v", found)
	}
	if w := shrink(splitOne(t, ev.Ops), -1, time.Now().Add(time.Minute)); w != nil {
		t.Errorf("shrink found a failing window in a linearizable history: %+v", w.ops)
	}
}

func splitOne(t *testing.T, ops []history.Op) []history.Op {
	t.Helper()
	keys, err := checker.SplitKeys(ops)
	if err != nil || len(keys) != 1 {
		t.Fatalf("split: %v, %d keys", err, len(keys))
	}
	return keys[0].Ops
}

// simulate produces a linearizable history of one register (values
// 0…4): n processes run ops one after another, each taking effect at a
// random instant inside its interval; some writes and cas time out
// (:info), having applied or not.
func simulate(rng *rand.Rand, n, perProcess int) []history.Op {
	type sim struct {
		p             int
		f             string
		v             any
		call, at, ret int64
		typ           history.Type
		applies       bool
	}
	var sims []*sim
	for p := range n {
		t := rng.Int64N(100)
		for range perProcess {
			s := &sim{p: p, call: t, typ: history.OK, applies: true}
			s.at = t + 1 + rng.Int64N(30)
			s.ret = s.at + 1 + rng.Int64N(30)
			switch rng.IntN(3) {
			case 0:
				s.f = "read"
			case 1:
				s.f, s.v = "write", int64(rng.IntN(5))
			default:
				s.f, s.v = "cas", []any{int64(rng.IntN(5)), int64(rng.IntN(5))}
			}
			if s.f != "read" && rng.IntN(10) == 0 {
				s.typ, s.applies = history.Info, rng.IntN(2) == 0
			}
			sims = append(sims, s)
			t = s.ret + 1 + rng.Int64N(10)
		}
	}
	byAt := slices.Clone(sims)
	sort.Slice(byAt, func(i, j int) bool { return byAt[i].at < byAt[j].at })
	var state any
	for _, s := range byAt {
		switch s.f {
		case "read":
			s.v = state
		case "write":
			if s.applies {
				state = s.v
			}
		case "cas":
			ft := s.v.([]any)
			if state == nil || state.(int64) != ft[0].(int64) {
				if s.typ == history.OK {
					s.typ = history.Fail
				}
			} else if s.applies {
				state = ft[1]
			}
		}
	}
	h := &hist{}
	for _, s := range sims {
		if s.f == "read" && s.v == nil {
			continue // a read of a missing key fails
		}
		h.op(s.p, s.f, s.v, s.typ, s.call, s.ret)
	}
	return h.done()
}

// Cutting a linearizable history anywhere leaves a window that is
// linearizable from some state: the cut is sound, so a window that
// cannot be linearized proves the whole history cannot be.
func TestCutIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 200 {
		ops := simulate(rng, 4, 12)
		all, err := checker.RegisterOperations(splitOne(t, ops))
		if err != nil {
			t.Fatal(err)
		}
		if f, err := checker.FirstUnhonoured(all, []any{nil}, time.Minute); err != nil || f != nil {
			t.Fatalf("history %d: the simulation is not linearizable: %v %v", i, f, err)
		}
		for _, p := range all {
			w := cut(all, p.Call)
			if f, err := checker.FirstUnhonoured(w, registerValues(all), time.Minute); err != nil || f != nil {
				t.Fatalf("history %d cut at %d: the window is not linearizable (%v, %v), the history is", i, p.Call, f, err)
			}
		}
	}
}

// Every window found in histories made stale on purpose cannot be
// linearized, by porcupine's own search from every state it may start
// in, and it is no longer than the failing prefix.
func TestWindowsCannotBeLinearized(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	found := 0
	for i := 0; i < 300 && found < 40; i++ {
		ops := simulate(rng, 4, 15)
		// A stale read: one read now returns another value.
		var reads []int
		for j, op := range ops {
			if op.F == "read" && op.Type == history.OK {
				reads = append(reads, j)
			}
		}
		if len(reads) == 0 {
			continue
		}
		j := reads[rng.IntN(len(reads))]
		ops[j].Value = []any{int64(0), int64(rng.IntN(5))}
		kops := splitOne(t, ops)
		if checker.ValidityOf(checker.CheckRegisterHistory(kops, time.Minute)) != checker.Invalid {
			continue
		}
		found++
		w := shrink(kops, -1, time.Now().Add(time.Minute))
		if w == nil {
			t.Fatalf("history %d: no window found", i)
		}
		if res := porcupine.CheckOperationsTimeout(checker.CASRegisterModelFrom(w.inits), w.ops, 10*time.Second); res != porcupine.Illegal {
			t.Fatalf("history %d: porcupine finds the window %v (%d ops)", i, res, len(w.ops))
		}
		if find(w.ops, w.failing.Metadata) == nil {
			t.Fatalf("history %d: the failing operation is not in the window", i)
		}
		// The story tells the window's operations in the order they are
		// kept, which must be the order they began.
		byCall := func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) }
		if !slices.IsSortedFunc(w.ops, byCall) || !slices.IsSortedFunc(w.all, byCall) {
			t.Fatalf("history %d: the window's operations are not in call order", i)
		}
		checkWitness(t, i, kops, w)
	}
	if found < 20 {
		t.Fatalf("only %d stale histories", found)
	}
}

// checkWitness re-checks, from the key's history ops themselves, the
// claim a story makes when it names a witness: the failing operation saw
// v; the witness, which ended :ok before it began, wrote or read another
// value; and every write or cas to v that did not fail had completed
// before the witness began.
func checkWitness(t *testing.T, i int, kops []history.Op, w *window) {
	t.Helper()
	f := origin(*w.failing)
	v, ok := observed(f)
	if !ok || v == nil {
		return
	}
	over, _ := w.witness(v)
	if over == nil {
		return
	}
	o := origin(*over)
	if o.Complete == nil || o.Complete.Type != history.OK || o.Complete.Time >= f.Invoke.Time {
		t.Fatalf("history %d: witness %+v did not end :ok before %+v began", i, o, f.Invoke)
	}
	var x any
	switch o.Invoke.F {
	case "read":
		x = o.Complete.Value
	case "write":
		x = o.Invoke.Value
	case "cas":
		x = o.Invoke.Value.([]any)[1]
	}
	if history.Equal(x, v) {
		t.Fatalf("history %d: witness %+v holds the value seen, %v", i, o, v)
	}
	open := map[int]history.Op{}
	for _, op := range kops {
		if op.Type == history.Invoke {
			open[op.Process] = op
			continue
		}
		inv := open[op.Process]
		delete(open, op.Process)
		if op.Type == history.Fail || inv.Time > f.Complete.Time {
			continue
		}
		var to any
		switch inv.F {
		case "write":
			to = inv.Value
		case "cas":
			to = inv.Value.([]any)[1]
		default:
			continue
		}
		if history.Equal(to, v) && (op.Type != history.OK || op.Time >= o.Invoke.Time) {
			t.Fatalf("history %d: %v may have written %v after the witness %+v began", i, op, v, o.Invoke)
		}
	}
	for _, inv := range open { // never completed
		if inv.F != "read" && inv.Time <= f.Complete.Time {
			var to any = inv.Value
			if inv.F == "cas" {
				to = inv.Value.([]any)[1]
			}
			if history.Equal(to, v) {
				t.Fatalf("history %d: %v may have written %v at any time", i, inv, v)
			}
		}
	}
}

// keyOps reads a key's operations as checker.SplitKeys does; bounded by
// a completion, it stops once that completion and the operations then
// running have been read.
func TestKeyOps(t *testing.T) {
	ops := staleKV(2, 10, 200, 2, 0.01)
	keys, err := checker.SplitKeys(ops)
	if err != nil || len(keys) < 4 {
		t.Fatalf("split: %v, %d keys", err, len(keys))
	}
	for _, k := range keys {
		name := history.Key(k.Key)
		got := keyOps(ops, map[string]int{name: -1})[name]
		want := slices.Clone(k.Ops) // SplitKeys puts each completion after its invocation
		sort.Slice(want, func(i, j int) bool { return want[i].Index < want[j].Index })
		if len(got) != len(want) {
			t.Fatalf("key %s: %d operations, SplitKeys has %d", name, len(got), len(k.Ops))
		}
		for i := range got {
			if got[i].Index != want[i].Index || !history.Equal(got[i].Value, want[i].Value) {
				t.Fatalf("key %s op %d: %+v, SplitKeys has %+v", name, i, got[i], want[i])
			}
		}
		mid := k.Ops[len(k.Ops)/2]
		part := keyOps(ops, map[string]int{name: mid.Index, "no such key": -1})[name]
		if len(part) >= len(k.Ops) || len(part) < len(k.Ops)/2 {
			t.Errorf("key %s bounded at %d: %d of %d operations", name, mid.Index, len(part), len(k.Ops))
		}
		running := map[int]bool{}
		for _, op := range part {
			running[op.Process] = op.Type == history.Invoke
		}
		for p, open := range running {
			if open {
				t.Errorf("key %s bounded at %d: process %d's operation left without its completion", name, mid.Index, p)
			}
		}
	}
}

// One key whose name is too long for the scoreboard is counted, in the
// singular.
func TestExplainShortOfALongKey(t *testing.T) {
	ops := (&hist{}).ok(0, "write", int64(1), 0, 10).ok(1, "write", int64(3), 20, 30).ok(2, "read", int64(1), 40, 50).done()
	for i := range ops {
		ops[i].Value = []any{"a-key-with-a-rather-long-name", ops[i].Value.([]any)[1]}
	}
	found := (&linKV{}).Explain(evidence(ops))
	if len(found) != 1 {
		t.Fatalf("findings %+v, want one", found)
	}
	if got := found[0].Short; got != "1 key not linearizable" {
		t.Errorf("short %q, want 1 key not linearizable", got)
	}
}

// Two failing keys, for different reasons: the summary counts each
// reason, and each key gets its own example.
func TestExplainTwoKeys(t *testing.T) {
	a := (&hist{}).ok(0, "write", int64(1), 0, 10).ok(1, "write", int64(3), 20, 30).ok(2, "read", int64(1), 40, 50).done()
	b := (&hist{}).ok(0, "write", int64(1), 100, 110).ok(1, "read", int64(7), 120, 130).done()
	for i := range b { // key 1
		b[i].Value = []any{int64(1), b[i].Value.([]any)[1]}
	}
	ops := append(a, b...)
	for i := range ops {
		ops[i].Index = i
	}
	ev := evidence(ops)
	found := (&linKV{}).Explain(ev)
	if len(found) != 1 || found[0].Count != 2 || len(found[0].Examples) != 2 {
		t.Fatalf("findings %+v, want one finding of 2 keys with 2 examples", found)
	}
	f := found[0]
	if want := "2 keys (0, 1) are not linearizable: on 1 key an operation saw a value already overwritten before it began; on 1 key an operation saw a value no operation had written."; f.Summary != want {
		t.Errorf("summary %q, want %q", f.Summary, want)
	}
	if f.Short != "2 keys not linearizable" {
		t.Errorf("short %q", f.Short)
	}
	if !strings.HasPrefix(f.Examples[0].Text, "key 0: ") || !strings.HasPrefix(f.Examples[1].Text, "key 1: process 1 (on n1) read 7") {
		t.Errorf("examples %q, %q", f.Examples[0].Text, f.Examples[1].Text)
	}
}

// A key the checker could not decide is reported as such, not as a
// failure.
func TestExplainUndecidedKey(t *testing.T) {
	unknown := checker.UnknownResult(errors.New("linearizability check timed out after 1m0s"))
	ev := &explain.Evidence{Nodes: []string{"n0"}, Concurrency: 2, Workload: edn.K(
		"valid?", checker.Unknown.EDN(),
		"results", edn.Map{{Key: int64(4), Val: edn.K("linearizable", unknown, "valid?", checker.Unknown.EDN())}},
		"failures", edn.Vector{int64(4)})}
	found := (&linKV{}).Explain(ev)
	if len(found) != 1 || found[0].Kind != "unknown" || found[0].Count != 1 || found[0].Short != "1 key undecided" {
		t.Fatalf("findings %+v, want one undecided key", found)
	}
	if !strings.Contains(found[0].Summary, "could not decide 1 key (4)") || !strings.Contains(found[0].Examples[0].Text, "timed out after 1m0s") {
		t.Errorf("finding %+v", found[0])
	}
}

// A partition in force during the window is stated as a fact beside the
// story; one that healed before the window began is not.
func TestExplainNamesFaultsDuringTheWindow(t *testing.T) {
	h := &hist{}
	grudge := edn.Vector{edn.Keyword("isolated"), edn.Map{{Key: "n0", Val: []string{"n1", "n2"}}}}
	nemesisOp := func(f string, v any, ms int64) {
		for _, typ := range []history.Type{history.Invoke, history.Info} {
			h.ops = append(h.ops, history.Op{Type: typ, Process: history.NemesisProcess, F: f, Value: v, Time: ms * 1e6})
		}
	}
	nemesisOp("start-partition", grudge, 1)
	nemesisOp("stop-partition", nil, 5)
	h.ok(0, "write", int64(1), 100, 110)
	nemesisOp("start-partition", grudge, 115)
	h.ok(1, "write", int64(3), 120, 130).ok(0, "read", int64(1), 140, 150)
	f := explainOne(t, h.done())
	var meanwhile []string
	for _, l := range f.Examples[0].Lines {
		if strings.HasPrefix(l, "meanwhile: ") {
			meanwhile = append(meanwhile, l)
		}
	}
	if len(meanwhile) != 1 || !strings.Contains(meanwhile[0], "from 0.12 s to the end") {
		t.Errorf("fault lines %q, want the partition from 0.115 s only", meanwhile)
	}
}

// Porcupine's page of a window: written under linearizability-<key>.html,
// with one row per process of the window (not one per process id up to
// the largest), each operation named by its process and node.
func TestExplainVisualization(t *testing.T) {
	h := (&hist{}).ok(40, "write", int64(1), 0, 10).ok(41, "write", int64(3), 20, 30).ok(17, "read", int64(1), 40, 50)
	ev := evidence(h.done())
	pages := map[string]string{}
	ev.WriteFile = func(name string, write func(io.Writer) error) error {
		var b strings.Builder
		err := write(&b)
		pages[name] = b.String()
		return err
	}
	found := (&linKV{}).Explain(ev)
	if len(found) != 1 || found[0].Examples[0].File != "linearizability-0.html" {
		t.Fatalf("findings %+v, want one example drawn in linearizability-0.html", found)
	}
	page := pages["linearizability-0.html"]
	if !strings.Contains(found[0].Examples[0].Text, "(porcupine's view: linearizability-0.html)") {
		t.Errorf("example %q does not name the page", found[0].Examples[0].Text)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile(`"ClientId":(\d+)`).FindAllStringSubmatch(page, -1) {
		rows[m[1]] = true
	}
	if len(rows) != 2 || !rows["0"] || !rows["1"] {
		t.Errorf("client rows %v, want 0 and 1 for the window's two processes", rows)
	}
	for _, want := range []string{"process 41 (on n2) wrote 3", "process 17 (on n2) read 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not name %q", want)
		}
	}
}
