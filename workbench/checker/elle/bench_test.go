package elle

import (
	"math/rand"
	"runtime"
	"sort"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// genOpts describes a synthetic txn-rw-register (or list-append) run.
type genOpts struct {
	txns        int
	processes   int     // concurrency
	nodes       int     // processes are spread over nodes
	keyCount    int     // active keys
	maxTxnLen   int     // micro-ops per txn, uniform in [1, maxTxnLen]
	maxWrites   int     // writes per key before it retires
	lagMs       float64 // replication delay between nodes; 0: one atomic store
	seed        int64
	appendMode  bool    // list-append: writes append, reads return lists
	failRate    float64 // fraction of txns that fail (definite error)
	infoRate    float64 // fraction that time out (then maybe applied)
	durationSec float64
}

// genHistory simulates clients running transactions against a store and
// records the history as the workload would: keys and values int64, reads
// of absent keys nil. With lagMs = 0 the store is one serial, atomic
// register map (strict-serializable); otherwise each node applies its own
// clients' transactions at once and the other node's writes lagMs later,
// last writer wins (read-committed, not serializable).
func genHistory(o genOpts) []history.Op {
	rng := rand.New(rand.NewSource(o.seed))
	type planned struct {
		p, node    int
		start, end int64 // ns
		lin        int64
		mops       [][]any
		typ        history.Type
		apply      bool
	}
	// Generator: Elle's wr-txns, simplified key skew.
	pool := make([]int64, o.keyCount)
	written := map[int64]int{}
	next := int64(o.keyCount)
	for i := range pool {
		pool[i] = int64(i)
	}
	genTxn := func() [][]any {
		n := 1 + rng.Intn(o.maxTxnLen)
		mops := make([][]any, 0, n)
		for len(mops) < n {
			slot := int(rng.ExpFloat64()*float64(o.keyCount)/3) % o.keyCount
			k := pool[slot]
			if rng.Intn(2) == 0 {
				mops = append(mops, []any{edn.Keyword("r"), k, nil})
				continue
			}
			if written[k] >= o.maxWrites {
				pool[slot] = next
				next++
				continue
			}
			written[k]++
			f := edn.Keyword("w")
			if o.appendMode {
				f = edn.Keyword("append")
			}
			mops = append(mops, []any{f, k, int64(written[k])})
		}
		return mops
	}
	// Schedule: each process issues back to back.
	total := int64(o.durationSec * 1e9)
	per := total / int64(o.txns/o.processes+1)
	var plan []planned
	clock := make([]int64, o.processes)
	procID := make([]int, o.processes)
	for i := range procID {
		procID[i] = i
	}
	for i := 0; i < o.txns; i++ {
		slot := i % o.processes
		start := clock[slot] + rng.Int63n(per/4+1)
		dur := per/2 + rng.Int63n(per/2+1)
		t := planned{p: procID[slot], node: slot % o.nodes, start: start, end: start + dur,
			lin: start + rng.Int63n(dur), mops: genTxn(), typ: history.OK, apply: true}
		switch x := rng.Float64(); {
		case x < o.failRate:
			t.typ, t.apply = history.Fail, false
		case x < o.failRate+o.infoRate:
			t.typ, t.apply = history.Info, rng.Intn(2) == 0
			procID[slot] += o.processes // a crashed process is replaced
		}
		clock[slot] = t.end
		plan = append(plan, t)
	}
	// Execute in linearisation order.
	order := make([]int, len(plan))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return plan[order[a]].lin < plan[order[b]].lin })
	type version struct {
		v  any
		ts int64
	}
	type repl struct {
		at   int64
		k    int64
		v    any
		ts   int64
		node int
	}
	stores := make([]map[int64]version, o.nodes)
	for i := range stores {
		stores[i] = map[int64]version{}
	}
	var queue []repl
	lag := int64(o.lagMs * 1e6)
	for _, i := range order {
		t := &plan[i]
		node := 0
		if lag > 0 {
			node = t.node
			// deliver due replication
			keep := queue[:0]
			for _, q := range queue {
				if q.node == node && q.at <= t.lin {
					if cur := stores[node][q.k]; q.ts > cur.ts {
						stores[node][q.k] = version{q.v, q.ts}
					}
				} else {
					keep = append(keep, q)
				}
			}
			queue = keep
		}
		st := stores[node]
		done := make([][]any, len(t.mops))
		for j, m := range t.mops {
			k := m[1].(int64)
			switch m[0] {
			case edn.Keyword("r"):
				var v any
				if cur, ok := st[k]; ok {
					v = cur.v
				}
				done[j] = []any{m[0], k, v}
			case edn.Keyword("w"):
				if t.apply {
					st[k] = version{m[2], t.lin}
				}
				done[j] = m
			case edn.Keyword("append"):
				if t.apply {
					var old []any
					if cur, ok := st[k]; ok {
						old = cur.v.([]any)
					}
					nl := append(append([]any(nil), old...), m[2])
					st[k] = version{nl, t.lin}
				}
				done[j] = m
			}
		}
		if lag > 0 && t.apply {
			// replicate the txn's final value of each key it wrote
			sent := map[int64]bool{}
			for j := len(t.mops) - 1; j >= 0; j-- {
				m := t.mops[j]
				k := m[1].(int64)
				if m[0] == edn.Keyword("r") || sent[k] {
					continue
				}
				sent[k] = true
				for other := 0; other < o.nodes; other++ {
					if other != node {
						queue = append(queue, repl{t.lin + lag, k, st[k].v, t.lin, other})
					}
				}
			}
		}
		if t.typ == history.OK {
			t.mops = done
		}
	}
	// Emit ops in time order.
	type ev struct {
		at  int64
		i   int
		inv bool
	}
	evs := make([]ev, 0, 2*len(plan))
	for i, t := range plan {
		evs = append(evs, ev{t.start, i, true}, ev{t.end, i, false})
	}
	sort.Slice(evs, func(a, b int) bool {
		if evs[a].at != evs[b].at {
			return evs[a].at < evs[b].at
		}
		return evs[a].inv && !evs[b].inv
	})
	ops := make([]history.Op, 0, len(evs))
	for _, e := range evs {
		t := plan[e.i]
		inv := make([]any, len(t.mops))
		for j, m := range t.mops {
			if m[0] == edn.Keyword("r") {
				inv[j] = []any{m[0], m[1], nil}
			} else {
				inv[j] = m
			}
		}
		op := history.Op{Index: len(ops), Time: e.at, Process: t.p, F: "txn", Type: history.Invoke, Value: inv}
		if !e.inv {
			op.Type = t.typ
			if t.typ == history.OK {
				v := make([]any, len(t.mops))
				for j, m := range t.mops {
					v[j] = m
				}
				op.Value = v
			}
		}
		ops = append(ops, op)
	}
	return ops
}

// maelstromRun is a 60 s, --rate 1000 txn-rw-register run: about 26,500
// transactions (53,000 ops), 2 nodes, concurrency 4, txns of 1 to 4
// micro-ops, 10 active keys retiring after 16 writes.
func maelstromRun(txns int, lagMs float64, appendMode bool) genOpts {
	return genOpts{txns: txns, processes: 4, nodes: 2, keyCount: 10, maxTxnLen: 4, maxWrites: 16,
		lagMs: lagMs, seed: 1, appendMode: appendMode, failRate: 0.01, infoRate: 0.002,
		durationSec: 60 * float64(txns) / 26500}
}

// measure runs check b.N times and reports, besides ns/op, the CPU time
// per check and the heap the runtime obtained from the OS (an upper bound
// on the peak live heap).
func measure(b *testing.B, ops []history.Op, check func() any) {
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		check()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MB")
	b.ReportMetric(float64(len(ops)), "ops")
}

func benchRW(b *testing.B, o genOpts, models []string, wantValid bool) {
	ops := genHistory(o)
	measure(b, ops, func() any {
		res := CheckRWRegister(ops, Options{ConsistencyModels: models})
		if v, _ := res.Get(edn.Keyword("valid?")); v != wantValid {
			b.Fatalf("valid? %v, want %v: %s", v, wantValid, types(res))
		}
		return res
	})
}

// BenchmarkRWRegister53k: a valid 53,000-op history under the default
// strict-serializable (realtime edges, the largest graph).
func BenchmarkRWRegister53kStrict(b *testing.B) {
	benchRW(b, maelstromRun(26500, 0, false), nil, true)
}

// BenchmarkRWRegister53kLaggingRC: two nodes replicating 50 ms late,
// checked under read-committed (valid) ...
func BenchmarkRWRegister53kLaggingRC(b *testing.B) {
	benchRW(b, maelstromRun(26500, 50, false), []string{"read-committed"}, true)
}

// ... and under strict-serializable, where stale reads make large
// components to search.
func BenchmarkRWRegister53kLaggingStrict(b *testing.B) {
	benchRW(b, maelstromRun(26500, 50, false), nil, false)
}

// BenchmarkRWRegister100kTxns: 100,000 transactions, strict-serializable.
func BenchmarkRWRegister100kTxnsStrict(b *testing.B) {
	benchRW(b, maelstromRun(100000, 0, false), nil, true)
}

func TestGeneratedHistories(t *testing.T) {
	// The generator's serial store must pass everything; its lagging one
	// must pass read-committed and fail strict-serializable.
	ok := genHistory(maelstromRun(3000, 0, false))
	for _, m := range allModels {
		if res := CheckRWRegister(ok, Options{ConsistencyModels: []string{m}}); valid(t, res) != true {
			t.Errorf("serial store, %s: %s", m, types(res))
		}
	}
	lag := genHistory(maelstromRun(3000, 50, false))
	if res := CheckRWRegister(lag, Options{ConsistencyModels: []string{"read-committed"}}); valid(t, res) != true {
		t.Errorf("lagging store, read-committed: %s", types(res))
	}
	if res := CheckRWRegister(lag, Options{}); valid(t, res) != false {
		t.Errorf("lagging store must fail strict-serializable: %s", types(res))
	}
}

func benchLA(b *testing.B, o genOpts, models []string, wantValid any) {
	ops := genHistory(o)
	measure(b, ops, func() any {
		res := CheckListAppend(ops, Options{ConsistencyModels: models})
		if v, _ := res.Get(edn.Keyword("valid?")); v != wantValid {
			b.Fatalf("valid? %v, want %v: %s", v, wantValid, types(res))
		}
		return res
	})
}

// BenchmarkListAppend53kStrict: a 60 s, --rate 1000 txn-list-append run
// against a serial store, strict-serializable.
func BenchmarkListAppend53kStrict(b *testing.B) {
	benchLA(b, maelstromRun(26500, 0, true), nil, true)
}

// BenchmarkListAppend53kLaggingStrict: the lagging two-node store.
func BenchmarkListAppend53kLaggingStrict(b *testing.B) {
	benchLA(b, maelstromRun(26500, 50, true), nil, false)
}

func TestGeneratedListAppend(t *testing.T) {
	ok := genHistory(maelstromRun(3000, 0, true))
	for _, m := range allModels {
		if res := CheckListAppend(ok, Options{ConsistencyModels: []string{m}}); valid(t, res) != true {
			t.Errorf("serial store, %s: %s", m, edn1(t, res))
		}
	}
	lag := genHistory(maelstromRun(3000, 50, true))
	if res := CheckListAppend(lag, Options{}); valid(t, res) != false {
		t.Errorf("lagging store must fail strict-serializable: %s", types(res))
	}
}
