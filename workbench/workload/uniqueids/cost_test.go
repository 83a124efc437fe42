package uniqueids

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

// clockHistory is 60 s of :generate at 1000 a second over three nodes
// whose ids are the millisecond clock: tens of thousands of duplicates.
func clockHistory() []history.Op {
	rng := rand.New(rand.NewPCG(1, 1))
	var ops []history.Op
	for i := 0; i < 60_000; i++ {
		t := int64(i)*1e6 + rng.Int64N(1e6)
		p := i % 3
		ops = append(ops,
			history.Op{Index: len(ops), Time: t, Type: history.Invoke, Process: p, F: "generate"},
			history.Op{Index: len(ops) + 1, Time: t + 2e5, Type: history.OK, Process: p, F: "generate", Value: json.Number(strconv.FormatInt((t+2e5)/1e6, 10))})
	}
	return ops
}

// BenchmarkExplain measures explaining a 60 s, 1000 op/s unique-ids
// history full of duplicates, beside the analysis the runner does
// (stats, availability, exceptions and the workload's check): go test
// ./workbench/workload/uniqueids -run '^$' -bench Explain.
func BenchmarkExplain(b *testing.B) {
	ops := clockHistory()
	workloadtest.BenchExplain(b, ops, 3, Check, uniqueIDs{})
}
