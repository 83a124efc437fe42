package counter

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

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
	counts, adds, reads := deltaCounts(t, workloadtest.Draw(t, workloadtest.New(t, NewPNCounter, 1), n))
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
	counts, adds, _ := deltaCounts(t, workloadtest.Draw(t, workloadtest.New(t, NewGCounter, 2), n))
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
	pn := workloadtest.Draw(t, workloadtest.New(t, NewPNCounter, 3), 3000)
	g := workloadtest.Draw(t, workloadtest.New(t, NewGCounter, 3), 1000)
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

func TestCounterClientRequestsAndReplies(t *testing.T) {
	w := workloadtest.New(t, NewPNCounter, 4)
	add := history.Op{F: "add", Value: int64(-3), Process: 1}
	read := history.Op{F: "read", Process: 1}

	cases := []workloadtest.InvokeCase{
		{Name: "add ok", Op: add, Reply: `{"type":"add_ok","in_reply_to":1}`, WantType: history.OK, WantValue: int64(-3)},
		{Name: "add ok with msg_id", Op: add, Reply: `{"type":"add_ok","in_reply_to":1,"msg_id":9}`, WantType: history.OK, WantValue: int64(-3)},
		{Name: "read ok", Op: read, Reply: `{"type":"read_ok","value":17,"in_reply_to":1}`, WantType: history.OK, WantValue: json.Number("17")},
		{Name: "read ok negative", Op: read, Reply: `{"type":"read_ok","value":-4,"in_reply_to":1}`, WantType: history.OK, WantValue: json.Number("-4")},
		{Name: "add_ok with an extra key", Op: add, Reply: `{"type":"add_ok","value":3,"in_reply_to":1}`, WantType: history.Info, WantValue: int64(-3), Exception: "malformed-rpc-response"},
		{Name: "read_ok with an extra key", Op: read, Reply: `{"type":"read_ok","value":1,"values":[1],"in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "read_ok without value", Op: read, Reply: `{"type":"read_ok","in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "read_ok with a float", Op: read, Reply: `{"type":"read_ok","value":1.5,"in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "read_ok with a string", Op: read, Reply: `{"type":"read_ok","value":"3","in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		{Name: "wrong reply type", Op: read, Reply: `{"type":"add_ok","in_reply_to":1}`, WantType: history.Info, Exception: "malformed-rpc-response"},
		// No error wrapping: even a definite error is indeterminate.
		{Name: "definite error", Op: add, Reply: `{"type":"error","code":20,"text":"nope","in_reply_to":1}`, WantType: history.Info, WantValue: int64(-3), Exception: "rpc-error"},
		{Name: "timeout", Op: add, Reply: "", Err: netsim.ErrTimeout, WantType: history.Info, WantValue: int64(-3), Exception: "net-timeout"},
		{Name: "read timeout", Op: read, Reply: "", Err: netsim.ErrTimeout, WantType: history.Info, Exception: "net-timeout"},
	}
	workloadtest.CheckInvokes(t, w, cases, func(op history.Op) map[string]any {
		if op.F == "add" {
			return map[string]any{"type": "add", "delta": op.Value}
		}
		return map[string]any{"type": "read"}
	})
}

func TestCounterFinalReadsOncePerThreadMarkedFinal(t *testing.T) {
	for name, c := range map[string]workload.Constructor{"g-counter": NewGCounter, "pn-counter": NewPNCounter} {
		w := workloadtest.New(t, c, 5)
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
	w := workloadtest.New(t, NewPNCounter, 6)
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
