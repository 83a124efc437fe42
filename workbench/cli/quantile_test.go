package cli

import (
	"testing"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// The scoreboard's latency figures are the quantiles the results print
// (checker.Quantiles, Jepsen's rule), which the plots draw as well (see
// report's TestPlotQuantilesAreTheResultsQuantiles, over the same ten
// latencies). Ten latencies of 1 to 10 ms tell the rules apart: the
// median is 6 ms by Jepsen's index ⌊n·p⌋, 5 ms by a nearest-rank one.
func TestScoreboardQuantilesAreTheResultsQuantiles(t *testing.T) {
	var ops []history.Op
	var latencies []int64
	for i := range 10 {
		l := int64(10-i) * int64(time.Millisecond)
		latencies = append(latencies, l)
		ops = append(ops, history.Op{Type: history.Invoke, Process: i, F: "read"},
			history.Op{Type: history.OK, Process: i, F: "read", Time: l})
	}
	printed := checker.Quantiles(latencies)
	want := func(p float64) float64 {
		v, ok := printed.Get(p)
		if !ok {
			t.Fatalf("results print no %v quantile: %v", p, printed)
		}
		return float64(v.(int64)) / 1e6
	}
	f := figures(workbench.Summarise(ops, nil, checker.NetStats{}), edn.K())
	if f[challenge.OpP50] != want(0.5) || f[challenge.OpP99] != want(0.99) {
		t.Errorf("scoreboard p50 %v, p99 %v ms; the results say %v and %v", f[challenge.OpP50], f[challenge.OpP99], want(0.5), want(0.99))
	}
	if want(0.5) != 6 {
		t.Errorf("the results' median of 1..10 ms is %v, want 6 (Jepsen's rule)", want(0.5))
	}
}
