package uniqueids_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	solution "github.com/glomers/glomers/solutions/uniqueids"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

func runIDs(t *testing.T, register func(*node.Node), rate float64) *workbench.Result {
	t.Helper()
	return workbenchtest.Run(t, workbench.Config{
		Workload: "unique-ids", Node: workbench.InProcess(register),
		NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second, Rate: rate, Seed: 1,
	})
}

// duplicatedFinding returns the "duplicated" finding and checks its
// count against the checker's and its examples against the history.
func duplicatedFinding(t *testing.T, res *workbench.Result) results.Finding {
	t.Helper()
	if res.Valid != checker.Invalid || res.Explanation == nil {
		t.Fatalf("judged %v, explanation %v", res.Valid, res.Explanation)
	}
	var f results.Finding
	for _, g := range res.Explanation.Findings {
		if g.Kind == "duplicated" {
			f = g
		}
	}
	if want := int(workbenchtest.Number(workbenchtest.Get(t, res, "workload", "duplicated-count"))); f.Count != want || f.Short != results.Plural(want, "duplicate id") {
		t.Fatalf("finding %+v; the checker counts %d duplicates", f, want)
	}
	// Every story line names an operation of the history that got the id.
	got := map[string]bool{}
	for _, op := range res.History {
		if op.F == "generate" && op.Type == history.OK {
			// the node worked out independently: three nodes, concurrency 3
			got[fmt.Sprintf("process %d (on n%d) at %.2f s got id %s", op.Process, op.Process%3, float64(op.Time)/1e9, history.Key(op.Value))] = true
		}
	}
	for _, ex := range f.Examples {
		if len(ex.Lines) < 2 {
			t.Errorf("example %q names fewer than two operations", ex.Text)
		}
		for _, l := range ex.Lines {
			if !got[l] {
				t.Errorf("line %q is no operation of the history", l)
			}
		}
	}
	return f
}

func TestExplainCollidingIDs(t *testing.T) {
	f := duplicatedFinding(t, runIDs(t, faulty.CollidingIDs, 50))
	if !strings.Contains(f.Summary, "every one by two or more different nodes") || strings.Contains(f.Summary, "clock") {
		t.Errorf("summary %q", f.Summary)
	}
}

func TestExplainClockIDs(t *testing.T) {
	f := duplicatedFinding(t, runIDs(t, faulty.ClockIDs, 500))
	if !strings.Contains(f.Summary, "millisecond clock") {
		t.Errorf("summary %q", f.Summary)
	}
}

func TestExplainValidIDs(t *testing.T) {
	res := runIDs(t, solution.Register, 200)
	if res.Valid != checker.Valid || res.Explanation != nil {
		t.Fatalf("judged %v, explained %+v", res.Valid, res.Explanation)
	}
}
