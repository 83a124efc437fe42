package echo

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
)

// Explaining a 60 s, 1000 op/s echo history in which every seventh reply
// is wrong adds at most a fifth to the analysis the runner does (stats,
// availability, exceptions and the workload's check). Long suite.
func TestExplainCost(t *testing.T) {
	if os.Getenv("GLOMERS_LONG") == "" {
		t.Skip("part of the long suite: GLOMERS_LONG=1 go test runs it")
	}
	var ops []history.Op
	for i := 0; i < 60_000; i++ {
		p, at := i%5, int64(i)*1e6
		text := fmt.Sprintf("Please echo %d", i%128)
		echoed := text
		if i%7 == 0 {
			echoed = "not-right"
		}
		ops = append(ops,
			history.Op{Index: len(ops), Time: at, Type: history.Invoke, Process: p, F: "echo", Value: text},
			history.Op{Index: len(ops) + 1, Time: at + 3e5, Type: history.OK, Process: p, F: "echo",
				Value: edn.K("echo", echoed, "type", "echo_ok", "msg_id", i, "in_reply_to", i)})
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
		ev := &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1", "n2", "n3", "n4"}, Concurrency: 5, Workload: m}
		if len((&echo{}).Explain(ev)) != 1 {
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
