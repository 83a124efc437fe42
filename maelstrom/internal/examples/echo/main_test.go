package main

import (
	"testing"
	"time"

	"github.com/glomers/glomers/maelstrom"
	"github.com/glomers/glomers/maelstrom/internal/examples/examplestest"
	"github.com/glomers/glomers/workbench"
)

// TestChallenge runs challenge 1's command line (-w echo --node-count 1
// --time-limit 10) in virtual time.
func TestChallenge(t *testing.T) {
	examplestest.RequireValid(t, workbench.Config{
		Workload: "echo", Node: maelstrom.InProcess(setup),
		NodeIDs: workbench.NodeIDs(1), TimeLimit: 10 * time.Second, Rate: 5, Seed: 1,
	})
}

// TestBinary builds the node and runs it as a process under glomers test.
func TestBinary(t *testing.T) {
	examplestest.RequireValidCommand(t, "echo", "-w echo --node-count 1 --time-limit 3")
}
