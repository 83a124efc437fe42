package linkv

import (
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
)

// staleKV simulates a lin-kv history of rate operations a second for
// seconds, as Maelstrom's generator shapes it: threads (2 per node, 5
// nodes) issue reads, writes and cas on keys that change every
// keySeconds (one key for the whole run when keySeconds ≥ seconds). Each
// operation takes effect at an instant inside its interval, except the
// reads a stale node serves: with probability stale (per read), a read
// returns the value the key held staleFor earlier.
func staleKV(seed uint64, seconds, rate, keySeconds, stale float64) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 42))
	const threads = 10
	type sim struct {
		thread        int
		key           int64
		f             string
		v             any
		call, at, ret int64
		typ           history.Type
		stale         bool
	}
	var sims []*sim
	gap := int64(float64(threads) / rate * 1e9) // per thread
	for th := range threads {
		t := rng.Int64N(gap)
		for t < int64(seconds*1e9) {
			s := &sim{thread: th, key: int64(float64(t) / 1e9 / keySeconds), call: t, typ: history.OK}
			s.at = t + 1e5 + rng.Int64N(5e6)
			s.ret = s.at + 1e5 + rng.Int64N(5e6)
			switch {
			case th < 5:
				s.f, s.stale = "read", rng.Float64() < stale
			case rng.IntN(3) == 0:
				s.f, s.v = "write", int64(rng.IntN(5))
			default:
				s.f, s.v = "cas", []any{int64(rng.IntN(5)), int64(rng.IntN(5))}
			}
			sims = append(sims, s)
			t = s.ret + gap/2 + rng.Int64N(gap)
		}
	}
	byAt := slices.Clone(sims)
	sort.Slice(byAt, func(i, j int) bool { return byAt[i].at < byAt[j].at })
	type change struct {
		at int64
		v  any
	}
	past := map[int64][]change{}
	state := map[int64]any{}
	const staleFor = int64(200e6)
	for _, s := range byAt {
		switch s.f {
		case "read":
			s.v = state[s.key]
			if s.stale {
				for _, c := range slices.Backward(past[s.key]) {
					if c.at <= s.at-staleFor {
						s.v = c.v
						break
					}
				}
			}
			if s.v == nil {
				s.typ = history.Fail
			}
		case "write":
			state[s.key] = s.v
			past[s.key] = append(past[s.key], change{s.at, s.v})
		case "cas":
			ft := s.v.([]any)
			if state[s.key] == nil || state[s.key].(int64) != ft[0].(int64) {
				s.typ = history.Fail
			} else {
				state[s.key] = ft[1]
				past[s.key] = append(past[s.key], change{s.at, ft[1]})
			}
		}
	}
	var ops []history.Op
	for _, s := range sims {
		inv := []any{s.key, s.v}
		if s.f == "read" {
			inv = []any{s.key, nil}
		}
		c := history.Op{Type: s.typ, Process: s.thread, F: s.f, Value: []any{s.key, s.v}, Time: s.ret}
		if s.typ == history.Fail {
			c.Error = []any{"error", "refused"}
		}
		ops = append(ops, history.Op{Type: history.Invoke, Process: s.thread, F: s.f, Value: inv, Time: s.call}, c)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Time < ops[j].Time })
	for i := range ops {
		ops[i].Index = i
	}
	return ops
}

// benchExplain measures, over b.N rounds, the analysis of a 60 s --rate
// 1000 lin-kv history (the workload's check) and its explanation, and
// reports the explanation's time as a fraction of the analysis's
// (explain/analysis, the median over rounds).
func benchExplain(b *testing.B, keySeconds, stale float64) {
	ops := staleKV(1, 60, 1000, keySeconds, stale)
	var ratios []float64
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res := (&linKV{}).Check(ops)
		analysis := time.Since(t0)
		if checker.ValidityOf(res) != checker.Invalid {
			b.Fatalf("the stale history is %v", checker.ValidityOf(res))
		}
		ev := &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1", "n2", "n3", "n4"}, Concurrency: 10, Workload: res,
			WriteFile: func(_ string, write func(io.Writer) error) error { return write(io.Discard) }}
		t1 := time.Now()
		found := (&linKV{}).Explain(ev)
		explaining := time.Since(t1)
		if len(found) == 0 {
			b.Fatal("no finding")
		}
		ratios = append(ratios, float64(explaining)/float64(analysis))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "explain/analysis")
}

// One key for the whole run, a few stale reads: the analysis runs until
// the first one; the explanation shrinks near it.
func BenchmarkExplainOneKey(b *testing.B) { benchExplain(b, 1000, 0.001) }

// A key every 2 s, 30 keys, each made stale.
func BenchmarkExplainManyKeys(b *testing.B) { benchExplain(b, 2, 0.01) }
