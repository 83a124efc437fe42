package echo_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	solution "github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

func runEcho(t *testing.T, register func(*node.Node)) *workbench.Result {
	t.Helper()
	return workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(register),
		NodeIDs: workbench.NodeIDs(2), TimeLimit: 5 * time.Second, Rate: 20, Seed: 1,
	})
}

// Every seventh echo comes back "not-right": each is named with what was
// sent and what came back, and counted as the checker counts them.
func TestExplainMangledEcho(t *testing.T) {
	res := runEcho(t, faulty.MangledEcho)
	if res.Valid != checker.Invalid || res.Explanation == nil {
		t.Fatalf("judged %v, explained %v", res.Valid, res.Explanation)
	}
	errs, _ := workbenchtest.Get(t, res, "workload", "errors").(edn.List)
	f := res.Explanation.Findings[0]
	if f.Kind != "errors" || f.Count != len(errs) || len(errs) == 0 || f.Short != fmt.Sprintf("%d wrong echoes", len(errs)) {
		t.Fatalf("finding %+v; the checker found %d errors", f, len(errs))
	}
	// The examples are the history's mangled echoes, in order.
	var want []string
	for _, p := range history.Pairs(res.History) {
		if p.Complete != nil && p.Complete.Type == history.OK && !strings.Contains(fmt.Sprint(p.Complete.Value), p.Invoke.Value.(string)) {
			want = append(want, fmt.Sprintf("process %d (on n%d) sent echo %q at %.2f s; the reply echoed \"not-right\"",
				p.Invoke.Process, p.Invoke.Process%2, p.Invoke.Value, float64(p.Invoke.Time)/1e9))
		}
	}
	for i, ex := range f.Examples {
		if i >= len(want) || ex.Text != want[i] {
			t.Errorf("example %d: %q, want %q", i, ex.Text, want[min(i, len(want)-1)])
		}
		if len(ex.Lines) != 2 || !strings.Contains(ex.Lines[1], `"echo":"not-right"`) {
			t.Errorf("lines %q", ex.Lines)
		}
	}
	if !strings.Contains(f.Summary, "came back without the text that was sent") {
		t.Errorf("summary %q", f.Summary)
	}
}

func TestExplainValidEcho(t *testing.T) {
	res := runEcho(t, solution.Register)
	if res.Valid != checker.Valid || res.Explanation != nil {
		t.Fatalf("judged %v, explained %+v", res.Valid, res.Explanation)
	}
}
