package broadcast_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/workbenchtest"
	"github.com/glomers/glomers/workbench/workload"
	bcast "github.com/glomers/glomers/workbench/workload/broadcast"
)

// What explaining a lost-values run costs beside the workload's own
// checks: a 60 s run of the flood that never re-sends, under partitions,
// at GLOMERS_COST_RATE operations a second (100 by default; at 1000 the
// reads alone would hold some 450 million elements), with its journal
// read back from the stored file as the runner reads it. Reading and
// decoding the journal file (report.ReadJournal) is nearly all of it and
// grows with the traffic, while set-full grows with reads × values; the
// test logs both (a measurement: the machine's load would make a
// threshold flaky). Part of the long suite.
func TestExplainCost(t *testing.T) {
	workbenchtest.SkipUnlessLong(t)
	rate := 100.0
	if s := os.Getenv("GLOMERS_COST_RATE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		rate = r
	}
	nodes := workbench.NodeIDs(5)
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(faulty.NoRetryBroadcast),
		NodeIDs: nodes, TimeLimit: 60 * time.Second, Rate: rate, Seed: 1,
		Nemesis: []string{"partition"}, StoreRoot: t.TempDir(),
	})
	if res.Valid != checker.Invalid {
		t.Fatalf("judged %v", res.Valid)
	}
	w, err := bcast.New(&workload.Env{Nodes: nodes, Concurrency: len(nodes), Rand: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	check := func() (edn.Map, edn.Map) {
		return w.Check(res.History), w.(interface{ ExtraCheck([]history.Op) edn.Map }).ExtraCheck(res.History)
	}
	var analyse, explainer, reading []time.Duration
	for range 5 {
		began := time.Now()
		m, extra := check()
		analyse = append(analyse, time.Since(began))
		ev := &explain.Evidence{Ops: res.History, Nodes: nodes, Concurrency: len(nodes), Workload: m, Extra: extra,
			Journal: func(yield func(netsim.Event) bool) error { return report.ReadJournalEvents(res.Dir, yield) }}
		began = time.Now()
		found := w.(explain.Explainer).Explain(ev)
		explainer = append(explainer, time.Since(began))
		if len(found) == 0 {
			t.Fatal("nothing explained")
		}
		began = time.Now()
		if err := ev.Journal(func(netsim.Event) bool { return true }); err != nil {
			t.Fatal(err)
		}
		reading = append(reading, time.Since(began))
	}
	for _, d := range [][]time.Duration{analyse, explainer, reading} {
		slices.Sort(d)
	}
	ratio := float64(explainer[2]) / float64(analyse[2])
	own := float64(explainer[2]-reading[2]) / float64(analyse[2])
	t.Logf("%d ops, %v server messages: checks %v, explanation %v of which reading the journal %v (medians of 5): %.1f%% in all, %.1f%% beyond the read",
		len(res.History), workbenchtest.Get(t, res, "net", "servers", "send-count"), analyse[2], explainer[2], reading[2], 100*ratio, 100*own)
}
