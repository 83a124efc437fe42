package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/glomers/glomers/maelstrom"
	"github.com/glomers/glomers/maelstrom/internal/examples/examplestest"
	"github.com/glomers/glomers/workbench"
)

// TestChallenges runs the command lines of challenges 3a (one node), 3b
// (five) and 3c (five, with partitions) in virtual time.
func TestChallenges(t *testing.T) {
	for _, c := range []struct {
		name    string
		nodes   int
		nemesis []string
	}{
		{"3a", 1, nil},
		{"3b", 5, nil},
		{"3c", 5, []string{"partition"}},
	} {
		for _, seed := range []uint64{1, 2} {
			t.Run(fmt.Sprintf("%s/seed=%d", c.name, seed), func(t *testing.T) {
				examplestest.RequireValid(t, workbench.Config{
					Workload: "broadcast", Node: maelstrom.InProcess(setup),
					NodeIDs: workbench.NodeIDs(c.nodes), TimeLimit: 20 * time.Second, Rate: 10,
					Nemesis: c.nemesis, Seed: seed,
				})
			})
		}
	}
}

// TestBinary builds the node and runs it as processes, as
// `glomers test -w broadcast --node-count 5 --time-limit 3 --rate 10
// --nemesis partition --nemesis-interval 1` does, with a shorter recovery.
func TestBinary(t *testing.T) {
	examplestest.RequireValidBinary(t, "broadcast", workbench.Config{
		Workload: "broadcast", NodeIDs: workbench.NodeIDs(5), TimeLimit: 3 * time.Second, Rate: 10,
		Nemesis: []string{"partition"}, NemesisInterval: time.Second, Seed: 1,
	})
}
