package workbenchtest

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/maelstrom"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/nemesis"
)

// tellOnce is a broadcast node as a learner might first write it, against
// package maelstrom: a new message is passed to every other node once,
// with Send, and never again. Without faults it is valid; a message sent
// across a partition is lost for good.
func tellOnce(n *maelstrom.Node) {
	var mu sync.Mutex
	seen := map[int]bool{}
	var messages []int
	n.Handle("broadcast", func(msg maelstrom.Message) error {
		var body map[string]any
		if err := json.Unmarshal(msg.Body, &body); err != nil {
			return err
		}
		m := int(body["message"].(float64))
		mu.Lock()
		isNew := !seen[m]
		seen[m] = true
		if isNew {
			messages = append(messages, m)
		}
		mu.Unlock()
		if isNew && !strings.HasPrefix(msg.Src, "n") { // from a client: tell the others
			for _, id := range n.NodeIDs() {
				if id != n.ID() {
					_ = n.Send(id, map[string]any{"type": "broadcast", "message": m})
				}
			}
		}
		return n.Reply(msg, map[string]any{"type": "broadcast_ok"})
	})
	n.Handle("broadcast_ok", func(maelstrom.Message) error { return nil })
	n.Handle("read", func(msg maelstrom.Message) error {
		mu.Lock()
		defer mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "read_ok", "messages": append([]int{}, messages...)})
	})
	n.Handle("topology", func(msg maelstrom.Message) error {
		return n.Reply(msg, map[string]any{"type": "topology_ok"})
	})
}

// setup3c is challenge 3c's command line: 5 nodes, 20 s, rate 10,
// partitions.
func setup3c() workbench.Config {
	return workbench.Config{
		Workload: "broadcast", Node: maelstrom.InProcess(tellOnce),
		NodeIDs: workbench.NodeIDs(5), TimeLimit: 20 * time.Second, Rate: 10,
		Nemesis: []string{"partition"},
	}
}

func TestTellOnceValidWithoutFaults(t *testing.T) {
	cfg := setup3c()
	cfg.Nemesis = nil
	cfg.Seed = 1
	if res := Run(t, cfg); res.Valid != checker.Valid {
		t.Fatalf("valid? %v: %v", res.Valid, Get(t, res, "workload"))
	}
}

// TestExploreShrinks is the exploration the README promises: 50 seeds of
// 3c, and the first failure shrunk to at most 3 nodes and one partition,
// in under 30 s on two cores.
func TestExploreShrinks(t *testing.T) {
	x := explore(t, setup3c(), 50)
	if x.first == nil {
		t.Fatal("every seed was valid")
	}
	tr := x.shrunk.trial
	report := x.report()
	t.Logf("%v, %d shrinking runs:\n%s", x.took, x.runs, report)
	if tr.plan == nil {
		t.Fatal("the faults did not become a plan")
	}
	if occ := occurrencesOf(tr.plan); tr.nodes > 3 || len(occ) != 1 || occ[0].start.Op != nemesis.StartPartition {
		t.Errorf("shrunk to %d nodes and plan %q, want at most 3 nodes and one partition", tr.nodes, tr.plan)
	}
	if x.took > 30*time.Second {
		t.Errorf("took %v, want under 30 s", x.took)
	}
	for _, want := range []string{"glomers test -w broadcast", "--node-count", "--nemesis-plan '" + tr.plan.String() + "'", "--seed", "nemesis.MustParsePlan(", ":lost"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// The report's plan reads back, and replaying the shrunk
	// configuration from it fails again.
	back, err := nemesis.ParsePlan(tr.plan.String())
	if err != nil || !reflect.DeepEqual(back, tr.plan) {
		t.Fatalf("the plan does not read back: %v", err)
	}
	cfg := setup3c()
	cfg.NodeIDs, cfg.TimeLimit, cfg.Rate, cfg.FaultPlan, cfg.Seed = workbench.NodeIDs(tr.nodes), tr.limit, tr.rate, back, tr.seed
	if res := Run(t, cfg); res.Valid != checker.Invalid {
		t.Errorf("the replay is %v, want invalid", res.Valid)
	}
}

// TestExplorePasses: a node that is valid on every seed passes.
func TestExplorePasses(t *testing.T) {
	cfg := setup3c()
	cfg.Nemesis = nil
	if x := explore(t, cfg, 4); x.first != nil {
		t.Fatalf("a failure without faults:\n%s", x.report())
	}
}

// TestFaultPlanReplays: a run given a plan performs exactly its
// operations, which planOf reads back from the history.
func TestFaultPlanReplays(t *testing.T) {
	plan := nemesis.MustParsePlan("0s start-partition n0:n1+n2,n1:n0,n2:n0; 1.5s stop-partition; 2.25s start-partition n2:n1,n1:n2")
	cfg := setup3c()
	cfg.NodeIDs, cfg.TimeLimit, cfg.FaultPlan, cfg.Seed = workbench.NodeIDs(3), 4*time.Second, plan, 7
	res := Run(t, cfg)
	if got := planOf(res, cfg.TimeLimit); !reflect.DeepEqual(got, plan) {
		t.Errorf("the run performed %q, want %q", got, plan)
	}
}

func TestShrinkSteps(t *testing.T) {
	p := nemesis.MustParsePlan("1s start-partition n0:n3,n3:n0; 3s stop-partition; 5s start-partition n0:n1+n2,n1:n0,n2:n0; 7s stop-partition; 9s start-partition n4:n0,n0:n4")
	if got, want := restrict(p, []string{"n0", "n1", "n2"}).String(), "5s start-partition n0:n1+n2,n1:n0,n2:n0; 7s stop-partition"; got != want {
		t.Errorf("restrict = %q, want %q", got, want)
	}
	if got, want := cut(p, 6*time.Second).String(), "1s start-partition n0:n3,n3:n0; 3s stop-partition; 5s start-partition n0:n1+n2,n1:n0,n2:n0"; got != want {
		t.Errorf("cut = %q, want %q", got, want)
	}
	occ := occurrencesOf(p)
	if len(occ) != 3 || occ[2].stop != nil {
		t.Fatalf("occurrences %+v", occ)
	}
	if !occ[2].shorten(10 * time.Second) {
		t.Fatal("shorten refused")
	}
	if got, want := planFrom(occ[2:]).String(), "9s start-partition n0:n4,n4:n0; 9.5s stop-partition"; got != want {
		t.Errorf("shortened = %q, want %q", got, want)
	}
}
