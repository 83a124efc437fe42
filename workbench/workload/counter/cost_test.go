package counter

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

// BenchmarkExplain measures explaining a 60 s, 1000 op/s g-counter
// history of three nodes that count only locally, beside the analysis
// the runner does (stats, availability, exceptions and the workload's
// check): go test ./workbench/workload/counter -run '^$' -bench Explain.
func BenchmarkExplain(b *testing.B) {
	ops := localCounterHistory()
	workloadtest.BenchExplain(b, ops, 3, Check, &counterWorkload{})
}

// localCounterHistory is 60 s of adds and reads at 1000 a second over
// three nodes that each count only their own adds, then a final read
// on each.
func localCounterHistory() []history.Op {
	rng := rand.New(rand.NewPCG(1, 1))
	local := make([]int64, 3)
	var ops []history.Op
	add := func(op history.Op) { op.Index = len(ops); ops = append(ops, op) }
	for i := 0; i < 60_000; i++ {
		p, at := i%3, int64(i)*1e6
		if rng.IntN(2) == 0 {
			d := rng.Int64N(5)
			local[p] += d
			add(history.Op{Time: at, Type: history.Invoke, Process: p, F: "add", Value: d})
			add(history.Op{Time: at + 1e5, Type: history.OK, Process: p, F: "add", Value: d})
			continue
		}
		add(history.Op{Time: at, Type: history.Invoke, Process: p, F: "read"})
		add(history.Op{Time: at + 1e5, Type: history.OK, Process: p, F: "read", Value: json.Number(strconv.FormatInt(local[p], 10))})
	}
	for p := range 3 {
		add(history.Op{Time: 61e9, Type: history.Invoke, Process: p, F: "read", Final: true})
		add(history.Op{Time: 61e9 + 1e5, Type: history.OK, Process: p, F: "read", Final: true, Value: json.Number(strconv.FormatInt(local[p], 10))})
	}
	return ops
}
