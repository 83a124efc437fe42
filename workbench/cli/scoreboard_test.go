package cli

import (
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
