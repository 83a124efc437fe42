package txn

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workload"
)

// laggingHistory simulates a 60 s, --rate 1000 txn-rw-register run
// against a store that applies each transaction at once on its own node
// and on the other node lag later, last writer wins (the lost-update
// store): txns transactions from the workload's own generator, issued
// every 60 s / txns by four processes in turn over two nodes, each
// taking 3 ms. One in a hundred fails and writes nothing.
func laggingHistory(txns int, lag time.Duration) []history.Op {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := newTxnGen(rng, defaultTxnKeyCount, defaultMaxTxnLength, defaultMaxWritesPerKey)
	type event struct {
		at int64
		op history.Op
	}
	type repl struct {
		at   int64
		node int
		k, v any
	}
	stores := []map[any]any{{}, {}}
	var pending []repl // in time order: lag is constant
	var events []event
	step := int64(60*time.Second) / int64(txns)
	for i := range txns {
		p := i % 4
		node := p % 2
		inv := int64(i) * step
		exec, done := inv+int64(time.Millisecond), inv+3*int64(time.Millisecond)
		for len(pending) > 0 && pending[0].at <= exec {
			stores[pending[0].node][pending[0].k] = pending[0].v
			pending = pending[1:]
		}
		mops := gen.next("w")
		events = append(events, event{inv, history.Op{Type: history.Invoke, Process: p, F: "txn", Value: mops}})
		c := history.Op{Type: history.OK, Process: p, F: "txn"}
		if rng.IntN(100) == 0 {
			c.Type, c.Value, c.Error = history.Fail, mops, []any{edn.Keyword("txn-conflict"), "conflict"}
			events = append(events, event{done, c})
			continue
		}
		out := make([]any, len(mops))
		for j, m := range mops {
			mop := m.([]any)
			if mop[0] == edn.Keyword("r") {
				out[j] = []any{mop[0], mop[1], stores[node][mop[1]]}
				continue
			}
			stores[node][mop[1]] = mop[2]
			pending = append(pending, repl{exec + int64(lag), 1 - node, mop[1], mop[2]})
			out[j] = mop
		}
		c.Value = out
		events = append(events, event{done, c})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
	ops := make([]history.Op, len(events))
	for i, e := range events {
		e.op.Index, e.op.Time = i, e.at
		ops[i] = e.op
	}
	return ops
}

// BenchmarkExplainLagging60s times, per iteration, the analysis the
// runner does of a ~60,000-op txn-rw-register history of the lagging
// store under strict-serializable (Elle's check and the visibility
// check) and then the explanation of its results, and reports both and
// the explanation's share of the analysis (explain-%).
//
// With a 50 ms lag only Elle's findings are explained; with 1 s the
// visibility check fails too, and its explanation runs it again.
func BenchmarkExplainLagging60s(b *testing.B) {
	for _, lag := range []time.Duration{50 * time.Millisecond, time.Second} {
		b.Run("lag="+lag.String(), func(b *testing.B) { benchExplain(b, lag) })
	}
}

func benchExplain(b *testing.B, lag time.Duration) {
	ops := laggingHistory(30000, lag)
	env := &workload.Env{Nodes: []string{"n0", "n1"}, Concurrency: 4}
	w, err := newTxn(env, false)
	if err != nil {
		b.Fatal(err)
	}
	var analysis, explaining time.Duration
	var findings []string
	for b.Loop() {
		t0 := time.Now()
		res, extra := w.Check(ops), w.ExtraCheck(ops)
		t1 := time.Now()
		fs := w.Explain(&explain.Evidence{Ops: ops, Nodes: env.Nodes, Concurrency: 4, Workload: res, Extra: extra})
		t2 := time.Now()
		if checker.ValidityOf(res) == checker.Valid || len(fs) == 0 {
			b.Fatalf("workload %v with %d findings: want an invalid history explained", checker.ValidityOf(res), len(fs))
		}
		analysis += t1.Sub(t0)
		explaining += t2.Sub(t1)
		findings = findings[:0]
		for _, f := range fs {
			findings = append(findings, f.Short)
		}
	}
	b.Logf("findings: %q", findings)
	n := float64(b.N)
	b.ReportMetric(float64(len(ops)), "ops")
	b.ReportMetric(float64(len(findings)), "findings")
	b.ReportMetric(analysis.Seconds()*1e3/n, "analysis-ms/op")
	b.ReportMetric(explaining.Seconds()*1e3/n, "explain-ms/op")
	b.ReportMetric(100*explaining.Seconds()/analysis.Seconds(), "explain-%")
}
