package counter

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

// Explaining a 60 s, 1000 op/s g-counter history of three nodes that
// count only locally adds at most a fifth to the analysis the runner does
// (stats, availability, exceptions and the workload's check). Long suite.
func TestExplainCost(t *testing.T) {
	if os.Getenv("GLOMERS_LONG") == "" {
		t.Skip("part of the long suite: GLOMERS_LONG=1 go test runs it")
	}
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
	m := Check(ops)
	var a, e []time.Duration
	for range 5 {
		began := time.Now()
		checker.Stats(ops)
		checker.Availability(ops, "")
		checker.Exceptions(ops)
		Check(ops)
		a = append(a, time.Since(began))
		began = time.Now()
		ev := &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3, Workload: m}
		if len((&counterWorkload{}).Explain(ev)) != 1 {
			t.Fatal("nothing explained")
		}
		e = append(e, time.Since(began))
	}
	slices.Sort(a)
	slices.Sort(e)
	ratio := float64(e[2]) / float64(a[2])
	t.Logf("analysis %v, explanation %v (medians of 5): %.1f%%", a[2], e[2], 100*ratio)
	if ratio > 0.2 {
		t.Errorf("explaining costs more than 20%% of the analysis")
	}
}
