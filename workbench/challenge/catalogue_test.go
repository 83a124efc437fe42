package challenge

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/results"
)

func TestSelect(t *testing.T) {
	all, err := Select([]string{"all"})
	if err != nil || len(all) != len(All()) || len(all) < 15 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	official, err := Select([]string{"official"})
	if err != nil || len(official) != 14 || official[13].ID != "6c" {
		t.Fatalf("official: %d, %v", len(official), err)
	}
	extras, err := Select([]string{"Extras", "1"})
	if err != nil || len(extras) != len(all)-13 || extras[0].ID != "1" {
		t.Fatalf("extras and 1: %v, %v", extras, err)
	}
	for _, c := range extras[1:] {
		if !c.Extra || len(c.Official) != 0 {
			t.Errorf("%s: extra %v with official targets %v", c.ID, c.Extra, c.Official)
		}
	}
	some, err := Select([]string{"3E", "1"})
	if err != nil || len(some) != 2 || some[0].ID != "1" || some[1].ID != "3e" {
		t.Fatalf("select 3E 1: %v, %v", some, err)
	}
	if _, err := Select([]string{"3f"}); err == nil || !strings.Contains(err.Error(), "3f") {
		t.Errorf("unknown id accepted: %v", err)
	}
	if _, err := Select(nil); err == nil {
		t.Errorf("empty selection accepted")
	}
}

func TestCommandsMatchThePublishedOnes(t *testing.T) {
	want := map[string]string{
		"1":  "maelstrom test -w echo --bin ~/go/bin/maelstrom-echo --node-count 1 --time-limit 10",
		"2":  "maelstrom test -w unique-ids --bin ~/go/bin/maelstrom-unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition",
		"3d": "maelstrom test -w broadcast --bin ~/go/bin/maelstrom-broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100",
		"4":  "maelstrom test -w g-counter --bin ~/go/bin/maelstrom-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition",
		"6c": "maelstrom test -w txn-rw-register --bin ~/go/bin/maelstrom-txn --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition",
	}
	for _, c := range All() {
		if w, ok := want[c.ID]; ok {
			if got := c.Command("maelstrom", "~/go/bin/"+flyName(c.Binary), Variant{}); got != w {
				t.Errorf("%s:\n got %s\nwant %s", c.ID, got, w)
			}
		}
	}
}

func flyName(b string) string {
	switch b {
	case "g-counter":
		return "maelstrom-counter"
	case "txn-rw-register":
		return "maelstrom-txn"
	}
	return "maelstrom-" + b
}

func TestTargets(t *testing.T) {
	lt := Target{Metric: MsgsPerOp, Bound: 30, Strict: true}
	if !lt.Met(29.9) || lt.Met(30) {
		t.Errorf("strict bound wrong")
	}
	le := Target{Metric: MsgsPerOp, Bound: 1}
	if !le.Met(1) || le.Met(1.01) {
		t.Errorf("inclusive bound wrong")
	}
	ok := Target{Metric: OKFraction, Bound: 1}
	if !ok.Met(1) || ok.Met(0.999) {
		t.Errorf("ok-fraction is a lower bound")
	}
	if s := lt.String(); s != "msgs-per-op < 30" {
		t.Errorf("String() = %q", s)
	}
}

// Every metric is read from exactly one place: the run's summary, or
// the results map of the workload that measures it.
func TestEveryMetricHasOneSource(t *testing.T) {
	sum := results.Summary{MsgsPerOp: &results.MsgsPerOp{Servers: 2, All: 3}, OKFraction: 0.5,
		Ops: results.Ops{Invoked: 4, OK: 2, Refused: 1}, Latency: &results.Latency{P50: 1, P99: 9}}
	res := edn.K(
		"workload", edn.K("stable-latencies", edn.Map{{Key: int64(0), Val: int64(0)}, {Key: 0.5, Val: int64(88)}, {Key: int64(1), Val: float32(368)}}),
		"glomers", edn.K("workload", edn.K("lag-ms", edn.Map{{Key: 0.5, Val: 40}, {Key: 0.99, Val: int64(90)}}, "after-heal", edn.K("max-ms", 700.5))),
	)
	want := map[Metric]float64{MsgsPerOp: 2, AllMsgsPerOp: 3, OKFraction: 0.5, OpP50: 1, OpP99: 9, NotOKRequests: 2, ServedFraction: 0.75,
		StableMedian: 88, StableMax: 368, VisibilityP50: 40, VisibilityP99: 90, AfterHealMax: 700.5}
	for _, m := range Metrics() {
		a, inSummary := m.FromSummary(sum)
		b, inResults := m.FromResults(res)
		switch {
		case inSummary == inResults:
			t.Errorf("%s: in the summary %v, in the results %v", m, inSummary, inResults)
		case inSummary && a != want[m], inResults && b != want[m]:
			t.Errorf("%s = %v / %v, want %v", m, a, b, want[m])
		}
	}
	if _, ok := MsgsPerOp.FromSummary(results.Summary{}); ok {
		t.Error("msgs-per-op of a run without operations")
	}
	if _, ok := StableMedian.FromResults(edn.K()); ok {
		t.Error("a stable latency from a map without one")
	}
}
