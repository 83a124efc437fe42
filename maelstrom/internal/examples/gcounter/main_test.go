package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/glomers/glomers/maelstrom"
	"github.com/glomers/glomers/maelstrom/internal/examples/examplestest"
	"github.com/glomers/glomers/workbench"
)

// TestChallenge runs challenge 4's command line (-w g-counter
// --node-count 3 --rate 100 --time-limit 20 --nemesis partition) in
// virtual time.
func TestChallenge(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			examplestest.RequireValid(t, workbench.Config{
				Workload: "g-counter", Node: maelstrom.InProcess(setup),
				NodeIDs: workbench.NodeIDs(3), TimeLimit: 20 * time.Second, Rate: 100,
				Nemesis: []string{"partition"}, Seed: seed,
			})
		})
	}
}

// TestKillAndPause: the counter lives in seq-kv, so nodes that are
// killed (and restarted with empty memory) or paused lose nothing.
func TestKillAndPause(t *testing.T) {
	examplestest.RequireValid(t, workbench.Config{
		Workload: "g-counter", Node: maelstrom.InProcess(setup),
		NodeIDs: workbench.NodeIDs(3), TimeLimit: 20 * time.Second, Rate: 100,
		Nemesis: []string{"partition", "kill", "pause"}, NemesisInterval: 3 * time.Second, Seed: 1,
	})
}

// TestBinary builds the node and runs it as processes, as
// `glomers test -w g-counter --node-count 3 --rate 100 --time-limit 3
// --nemesis partition --nemesis-interval 1` does, with a shorter recovery.
func TestBinary(t *testing.T) {
	examplestest.RequireValidBinary(t, "gcounter", workbench.Config{
		Workload: "g-counter", NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second, Rate: 100,
		Nemesis: []string{"partition"}, NemesisInterval: time.Second, Seed: 1,
	})
}
