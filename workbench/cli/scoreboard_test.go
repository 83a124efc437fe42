package cli

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

func TestFiguresReadEveryNumberType(t *testing.T) {
	// Broadcast's stable latencies are read from the results map, whose
	// numbers may be of any type; the rest from the run's summary.
	res := edn.K(
		"workload", edn.K("stable-latencies", edn.Map{{Key: 0, Val: int64(0)}, {Key: 0.5, Val: int64(88)}, {Key: 1, Val: 368}}),
	)
	ops := []history.Op{
		{Type: history.Invoke, Process: 0, Time: 0}, {Type: history.OK, Process: 0, Time: 2e6},
		{Type: history.Invoke, Process: 1, Time: 0}, {Type: history.OK, Process: 1, Time: 8e6},
		{Type: history.Invoke, Process: 2, Time: 0}, {Type: history.Info, Process: 2, Time: 9e9},
		{Type: history.Invoke, Process: 3, F: "crash"}, {Type: history.Info, Process: 3, F: "crash"},
	}
	net := checker.NetStats{Servers: checker.NetView{Msgs: 5, Ops: 4}, All: checker.NetView{Msgs: 9, Ops: 4}}
	f := figures(workbench.Summarise(ops, nil, net), res)
	if f[challenge.MsgsPerOp] != 1.25 || f[challenge.OKFraction] != 0.5 || f[challenge.StableMedian] != 88 || f[challenge.StableMax] != 368 {
		t.Errorf("figures = %v", f)
	}
	// Latency quantiles of :ok operations only, by Jepsen's rule (index ⌊n·p⌋).
	if f[challenge.OpP50] != 8 || f[challenge.OpP99] != 8 {
		t.Errorf("op latency p50 %v, p99 %v; want 8 and 8 ms", f[challenge.OpP50], f[challenge.OpP99])
	}
	// The :info request counts; kafka's crash, which sends none, does not.
	if f[challenge.NotOKRequests] != 1 {
		t.Errorf("not-ok requests %v, want 1", f[challenge.NotOKRequests])
	}
}

// Each invalid run on the scoreboard gets its reasons and its folder; a
// valid one, and one that never ran, get none.
func TestScoreboardSaysWhyARunIsInvalid(t *testing.T) {
	c := challenge.Challenge{ID: "3c", Workload: "broadcast"}
	rows := []row{
		{c: c, verdict: "false", figures: map[challenge.Metric]float64{}, reasons: []string{"lost 30 values", "ok-fraction 0.5 < 0.99"}, dir: "store/broadcast/20261207T140000.000Z"},
		{c: challenge.Challenge{ID: "1", Workload: "echo"}, verdict: "true", figures: map[challenge.Metric]float64{}, dir: "store/echo/x"},
		{c: challenge.Challenge{ID: "2", Workload: "unique-ids"}, verdict: "missing", note: "no binary"},
	}
	var out strings.Builder
	printScoreboard(&out, rows, false)
	_, why, ok := strings.Cut(out.String(), "Why invalid")
	if !ok {
		t.Fatalf("no Why invalid block:\n%s", out.String())
	}
	if !strings.Contains(why, "3c") || !strings.Contains(why, "lost 30 values; ok-fraction 0.5 < 0.99") || !strings.Contains(why, "store/broadcast/20261207T140000.000Z") {
		t.Errorf("the invalid row's reasons or folder are missing:\n%s", why)
	}
	if strings.Contains(why, "store/echo/x") || strings.Contains(why, "unique-ids") {
		t.Errorf("a valid or missing row is explained:\n%s", why)
	}
}
