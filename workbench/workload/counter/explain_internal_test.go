package counter

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// explainOps checks ops and explains the result over nodes n0..n2 with
// one worker each.
func explainOps(t *testing.T, ops []history.Op) []results.Finding {
	t.Helper()
	ev := &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3, Workload: Check(ops)}
	return (&counterWorkload{}).Explain(ev)
}

// Three nodes that only count locally: each final read is its own
// node's adds.
func TestExplainCounterNamesTheMissingNodes(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "add", 3).OK(0, "add", 3).
		Inv(1, "add", 4).OK(1, "add", 4).
		Inv(2, "add", 10).OK(2, "add", 10).
		Inv(0, "read", nil).Final().OK(0, "read", 3).Final().
		Inv(1, "read", nil).Final().OK(1, "read", 4).Final().
		Inv(2, "read", nil).Final().OK(2, "read", 17).Final()
	found := explainOps(t, b.Ops)
	if len(found) != 1 {
		t.Fatalf("%+v", found)
	}
	f := found[0]
	if f.Kind != "errors" || f.Count != 2 || f.Short != "final read 3 < 17" {
		t.Errorf("kind %q count %d short %q", f.Kind, f.Count, f.Short)
	}
	want := "2 of 3 final reads are outside the acceptable 17 (the sum of the acknowledged adds): n0 read 3 (14 short), n1 read 4 (13 short); each equals exactly the acknowledged adds sent to the reader's own node, as if the nodes never learned of each other's adds."
	if f.Summary != want {
		t.Errorf("summary\n%q, want\n%q", f.Summary, want)
	}
	if ex := f.Examples[0].Text; !strings.Contains(ex, "n0's final read, by process 0") || !strings.Contains(ex, "as if n0 missed every add sent to n1, n2 (14)") {
		t.Errorf("example %q", ex)
	}
}

// A read that matches no set of nodes' adds is not pinned on any node,
// and reads that agree are said to agree.
func TestExplainCounterDoesNotGuess(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "add", 3).OK(0, "add", 3).
		Inv(1, "add", 4).OK(1, "add", 4).
		Inv(2, "add", 10).Info(2, "add", 10).
		Inv(0, "read", nil).Final().OK(0, "read", 5).Final().
		Inv(1, "read", nil).Final().OK(1, "read", 5).Final().
		Inv(2, "read", nil).Final().OK(2, "read", 5).Final()
	f := explainOps(t, b.Ops)[0]
	if f.Count != 3 || f.Short != "final read 5 < 7" || !strings.Contains(f.Summary, "acceptable 7 or 17 (the acknowledged adds plus any") {
		t.Errorf("%+v", f)
	}
	if strings.Contains(f.Summary, "own node") || strings.Contains(f.Examples[0].Text, "as if") {
		t.Errorf("a read of 5 is pinned on a node: %q / %q", f.Summary, f.Examples[0].Text)
	}
	if !strings.Contains(f.Summary, "every final read returned 5") {
		t.Errorf("summary %q", f.Summary)
	}
	if !strings.Contains(strings.Join(f.Examples[0].Lines, "\n"), "adds sent to n2: 0 adds acknowledged, summing to 0, and 1 of unknown outcome") {
		t.Errorf("lines %q", f.Examples[0].Lines)
	}
}
