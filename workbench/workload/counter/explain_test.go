package counter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	solution "github.com/glomers/glomers/solutions/counter"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// runCounterExplained runs g-counter on three in-process nodes in virtual
// time, without faults.
func runCounterExplained(t *testing.T, register func(*node.Node)) *workbench.Result {
	t.Helper()
	return runCounterWorkload(t, "g-counter", register)
}

func runCounterWorkload(t *testing.T, name string, register func(*node.Node)) *workbench.Result {
	t.Helper()
	return workbenchtest.Run(t, workbench.Config{
		Workload: name, Node: workbench.InProcess(register),
		NodeIDs: []string{"n0", "n1", "n2"}, TimeLimit: 10 * time.Second, Rate: 50, Seed: 1,
	})
}

func counterFinding(t *testing.T, res *workbench.Result) results.Finding {
	t.Helper()
	if res.Valid != checker.Invalid || res.Explanation == nil {
		t.Fatalf("judged %v, explanation %v", res.Valid, res.Explanation)
	}
	for _, f := range res.Explanation.Findings {
		if f.Kind == "errors" && f.Section == "workload" {
			errs, ok := workbenchtest.Get(t, res, "workload", "errors").(edn.List)
			if !ok || f.Count != len(errs) {
				t.Errorf("%d wrong reads explained, the checker found %v", f.Count, workbenchtest.Get(t, res, "workload", "errors"))
			}
			return f
		}
	}
	t.Fatalf("no counter finding: %+v", res.Explanation.Findings)
	return results.Finding{}
}

func TestExplainLocalCounter(t *testing.T) {
	for _, name := range []string{"g-counter", "pn-counter"} {
		t.Run(name, func(t *testing.T) { explainLocalCounter(t, name) })
	}
}

func explainLocalCounter(t *testing.T, name string) {
	res := runCounterWorkload(t, name, faulty.LocalCounter)
	f := counterFinding(t, res)
	if !strings.Contains(f.Summary, "each equals exactly the acknowledged adds sent to the reader's own node") {
		t.Errorf("summary %q", f.Summary)
	}
	for _, ex := range f.Examples {
		if !strings.Contains(ex.Text, "as if") || !strings.Contains(ex.Text, "final read, by process") {
			t.Errorf("example %q", ex.Text)
		}
	}
}

func TestExplainBlindCounter(t *testing.T) {
	res := runCounterExplained(t, faulty.BlindCounter)
	f := counterFinding(t, res)
	if !strings.Contains(f.Short, "final read") || !strings.Contains(f.Summary, "short") {
		t.Errorf("%+v", f)
	}
	// The summary says the nodes agree exactly when their final reads do.
	values := map[string]bool{}
	for _, op := range res.History {
		if op.Final && op.Type == history.OK {
			values[history.Key(op.Value)] = true
		}
	}
	if agree := strings.Contains(f.Summary, "so the nodes agree"); agree != (len(values) == 1) {
		t.Errorf("final reads %v, summary %q", values, f.Summary)
	}
}

func TestExplainValidCounter(t *testing.T) {
	res := runCounterExplained(t, solution.Register)
	if res.Valid != checker.Valid || res.Explanation != nil {
		t.Fatalf("judged %v, explained %+v", res.Valid, res.Explanation)
	}
}
