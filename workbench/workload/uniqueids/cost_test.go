package uniqueids

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
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

// medianRatio times analyse and explain five times each and returns the
// ratio of their medians.
func medianRatio(t *testing.T, analyse, explain func()) float64 {
	t.Helper()
	var a, e []time.Duration
	for range 5 {
		began := time.Now()
		analyse()
		a = append(a, time.Since(began))
		began = time.Now()
		explain()
		e = append(e, time.Since(began))
	}
	slices.Sort(a)
	slices.Sort(e)
	t.Logf("analysis %v, explanation %v (medians of 5)", a[2], e[2])
	return float64(e[2]) / float64(a[2])
}

// Explaining a 60 s, 1000 op/s unique-ids history full of duplicates
// adds at most a fifth to the analysis the runner does (stats,
// availability, exceptions and the workload's check). Long suite.
func TestExplainCost(t *testing.T) {
	if os.Getenv("GLOMERS_LONG") == "" {
		t.Skip("part of the long suite: GLOMERS_LONG=1 go test runs it")
	}
	ops := clockHistory()
	m := Check(ops)
	ratio := medianRatio(t, func() {
		checker.Stats(ops)
		checker.Availability(ops, "")
		checker.Exceptions(ops)
		Check(ops)
	}, func() {
		ev := &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3, Workload: m}
		if len(uniqueIDs{}.Explain(ev)) != 1 {
			t.Fatal("nothing explained")
		}
	})
	t.Logf("explaining costs %.1f%% of the analysis", 100*ratio)
	if ratio > 0.2 {
		t.Errorf("explaining costs more than 20%% of the analysis")
	}
}
