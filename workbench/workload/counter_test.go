package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// testEnv is an environment for generator tests, seeded.
func testEnv(seed uint64) *Env {
	return &Env{Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3, Rand: rand.New(rand.NewPCG(seed, 1))}
}

func newTestWorkload(t *testing.T, name string, seed uint64) Workload {
	t.Helper()
	w, err := builtin.New(name, testEnv(seed))
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return w
}

// draw takes n main-phase operations from w.
func draw(t *testing.T, w Workload, n int) []history.Op {
	t.Helper()
	ops := make([]history.Op, n)
	for i := range ops {
		op, ok := w.NextOp(i%3, i%3)
		if !ok {
			t.Fatalf("generator exhausted after %d ops", i)
		}
		ops[i] = op
	}
	return ops
}

// deltaCounts tallies the deltas of the adds among ops and counts reads.
func deltaCounts(t *testing.T, ops []history.Op) (counts map[int64]int, adds, reads int) {
	t.Helper()
	counts = map[int64]int{}
	for _, op := range ops {
		switch op.F {
		case "add":
			d, ok := op.Value.(int64)
			if !ok {
				t.Fatalf("add value %#v is not an int64", op.Value)
			}
			counts[d]++
			adds++
		case "read":
			if op.Value != nil || op.Final {
				t.Fatalf("main-phase read %+v should have no value and no :final?", op)
			}
			reads++
		default:
			t.Fatalf("unexpected op %q", op.F)
		}
	}
	return counts, adds, reads
}

func TestPNCounterGeneratorMixesEvenlyWithDeltasFromMinus5To4(t *testing.T) {
	const n = 20000
	counts, adds, reads := deltaCounts(t, draw(t, newTestWorkload(t, "pn-counter", 1), n))
	if frac := float64(adds) / n; frac < 0.48 || frac > 0.52 {
		t.Errorf("adds are %.3f of ops, want ≈ 1/2 (%d adds, %d reads)", frac, adds, reads)
	}
	for d := int64(-5); d <= 4; d++ {
		// Each delta should take a tenth of the adds: ≈ 1000 ± 3σ (σ ≈ 30).
		if c := counts[d]; c < adds/10-120 || c > adds/10+120 {
			t.Errorf("delta %d drawn %d times out of %d adds, want ≈ %d", d, c, adds, adds/10)
		}
	}
	for d := range counts {
		if d < -5 || d > 4 {
			t.Errorf("delta %d outside −5…4", d)
		}
	}
}

func TestGCounterGeneratorNeverGoesNegative(t *testing.T) {
	const n = 20000
	counts, adds, _ := deltaCounts(t, draw(t, newTestWorkload(t, "g-counter", 2), n))
	// Dropping the negative half of the adds leaves adds ≈ ¼ / ¾ = ⅓.
	if frac := float64(adds) / n; frac < 0.31 || frac > 0.36 {
		t.Errorf("adds are %.3f of ops, want ≈ 1/3", frac)
	}
	for d, c := range counts {
		if d < 0 || d > 4 {
			t.Errorf("g-counter drew delta %d (%d times); want 0…4 only", d, c)
		}
	}
	for d := int64(0); d <= 4; d++ {
		if c := counts[d]; c < adds/5-150 || c > adds/5+150 {
			t.Errorf("delta %d drawn %d times out of %d adds, want ≈ %d", d, c, adds, adds/5)
		}
	}
}

// The g-counter stream is the pn-counter stream from the same seed with
// the negative adds left out.
func TestGCounterStreamIsPNStreamWithoutNegativeAdds(t *testing.T) {
	pn := draw(t, newTestWorkload(t, "pn-counter", 3), 3000)
	g := draw(t, newTestWorkload(t, "g-counter", 3), 1000)
	var filtered []history.Op
	for _, op := range pn {
		if op.F == "add" && op.Value.(int64) < 0 {
			continue
		}
		filtered = append(filtered, op)
	}
	if len(filtered) < len(g) {
		t.Fatalf("only %d pn ops survive the filter", len(filtered))
	}
	for i := range g {
		if g[i].F != filtered[i].F || !history.Equal(g[i].Value, filtered[i].Value) {
			t.Fatalf("op %d: g-counter drew %s %v, filtered pn stream has %s %v", i, g[i].F, g[i].Value, filtered[i].F, filtered[i].Value)
		}
	}
}

// fakeNode answers every request with a canned reply (raw JSON) or an error
// and remembers what it was asked.
type fakeNode struct {
	reply string
	err   error
	got   []map[string]any
}

func (f *fakeNode) call(_ context.Context, body map[string]any, _ time.Duration) (netsim.Reply, error) {
	f.got = append(f.got, body)
	if f.err != nil {
		return netsim.Reply{}, f.err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(f.reply)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	return netsim.Reply{Body: m, Raw: json.RawMessage(f.reply)}, nil
}

func TestCounterClientRequestsAndReplies(t *testing.T) {
	w := newTestWorkload(t, "pn-counter", 4)
	add := history.Op{F: "add", Value: int64(-3), Process: 1}
	read := history.Op{F: "read", Process: 1}

	cases := []invokeCase{
		{"add ok", add, `{"type":"add_ok","in_reply_to":1}`, nil, history.OK, int64(-3), ""},
		{"add ok with msg_id", add, `{"type":"add_ok","in_reply_to":1,"msg_id":9}`, nil, history.OK, int64(-3), ""},
		{"read ok", read, `{"type":"read_ok","value":17,"in_reply_to":1}`, nil, history.OK, json.Number("17"), ""},
		{"read ok negative", read, `{"type":"read_ok","value":-4,"in_reply_to":1}`, nil, history.OK, json.Number("-4"), ""},
		{"add_ok with an extra key", add, `{"type":"add_ok","value":3,"in_reply_to":1}`, nil, history.Info, int64(-3), "malformed-rpc-response"},
		{"read_ok with an extra key", read, `{"type":"read_ok","value":1,"values":[1],"in_reply_to":1}`, nil, history.Info, nil, "malformed-rpc-response"},
		{"read_ok without value", read, `{"type":"read_ok","in_reply_to":1}`, nil, history.Info, nil, "malformed-rpc-response"},
		{"read_ok with a float", read, `{"type":"read_ok","value":1.5,"in_reply_to":1}`, nil, history.Info, nil, "malformed-rpc-response"},
		{"read_ok with a string", read, `{"type":"read_ok","value":"3","in_reply_to":1}`, nil, history.Info, nil, "malformed-rpc-response"},
		{"wrong reply type", read, `{"type":"add_ok","in_reply_to":1}`, nil, history.Info, nil, "malformed-rpc-response"},
		// No error wrapping: even a definite error is indeterminate.
		{"definite error", add, `{"type":"error","code":20,"text":"nope","in_reply_to":1}`, nil, history.Info, int64(-3), "rpc-error"},
		{"timeout", add, "", netsim.ErrTimeout, history.Info, int64(-3), "net-timeout"},
		{"read timeout", read, "", netsim.ErrTimeout, history.Info, nil, "net-timeout"},
	}
	checkInvokes(t, w, cases, func(op history.Op) map[string]any {
		if op.F == "add" {
			return map[string]any{"type": "add", "delta": op.Value}
		}
		return map[string]any{"type": "read"}
	})
}

func TestCounterFinalReadsOncePerThreadMarkedFinal(t *testing.T) {
	for _, name := range []string{"g-counter", "pn-counter"} {
		w := newTestWorkload(t, name, 5)
		if w.Reusable() {
			t.Errorf("%s clients should not be reusable", name)
		}
		var done []history.Op
		w.Final()(context.Background(), 0, func(op history.Op) history.Op {
			done = append(done, op)
			return op
		})
		if len(done) != 1 || done[0].F != "read" || !done[0].Final {
			t.Errorf("%s final phase performed %+v, want one read with :final? true", name, done)
		}
	}
}

// counterHistory builds a history of completed ops: adds with the given
// type and delta, and final reads returning the given values.
func counterHistory(adds []history.Op, finals ...int64) []history.Op {
	var ops []history.Op
	add := func(inv, comp history.Op) {
		inv.Index, comp.Index = len(ops), len(ops)+1
		inv.Type = history.Invoke
		ops = append(ops, inv, comp)
	}
	for i, a := range adds {
		a.F, a.Process = "add", i%3
		add(history.Op{F: "add", Process: a.Process, Value: a.Value}, a)
	}
	for i, v := range finals {
		add(history.Op{F: "read", Process: i, Final: true},
			history.Op{F: "read", Process: i, Final: true, Type: history.OK, Value: json.Number(jsonInt(v))})
	}
	return ops
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestCounterCheckAcceptsSumsAndRejectsOthers(t *testing.T) {
	w := newTestWorkload(t, "pn-counter", 6)
	adds := []history.Op{
		{Type: history.OK, Value: int64(4)},
		{Type: history.OK, Value: int64(-2)},
		{Type: history.Info, Value: int64(3)}, // may or may not have happened
		{Type: history.Fail, Value: int64(100)},
	}
	for _, c := range []struct {
		finals []int64
		valid  bool
	}{
		{[]int64{2, 2, 2}, true},
		{[]int64{5, 5, 5}, true},
		{[]int64{2, 5, 2}, true},    // different nodes may disagree, each acceptable
		{[]int64{4, 4, 4}, false},   // lost the -2
		{[]int64{2, 2, 102}, false}, // counted a failed add
	} {
		res := w.Check(counterHistory(adds, c.finals...))
		if got := checker.ValidityOf(res); (got == checker.Valid) != c.valid {
			t.Errorf("finals %v judged %v, want valid=%v: %v", c.finals, got, c.valid, res)
		}
	}
}
