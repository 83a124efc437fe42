package gset_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	solution "github.com/glomers/glomers/solutions/gset"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

func runGSet(t *testing.T, register func(*node.Node)) *workbench.Result {
	t.Helper()
	return workbenchtest.Run(t, workbench.Config{
		Workload: "g-set", Node: workbench.InProcess(register),
		NodeIDs: workbench.NodeIDs(3), TimeLimit: 20 * time.Second, Rate: 10, Seed: 1,
		Nemesis: []string{"partition"},
	})
}

// A g-set that tells each element once loses elements across partitions:
// the explanation counts them as the checker does, names the partition
// drops and says none was re-sent. g-set's final reads carry no :final?
// flag: each process's last read stands for its node.
func TestExplainNoRetryGSet(t *testing.T) {
	res := runGSet(t, faulty.NoRetryGSet)
	if res.Valid != checker.Invalid || res.Explanation == nil {
		t.Fatalf("judged %v, explained %v", res.Valid, res.Explanation)
	}
	lost, _ := workbenchtest.Get(t, res, "workload", "lost").(edn.List)
	var f results.Finding
	for _, g := range res.Explanation.Findings {
		if g.Kind == "lost" {
			f = g
		}
	}
	if f.Count != len(lost) || f.Short != "lost "+results.Plural(len(lost), "element") {
		b, _ := json.MarshalIndent(res.Explanation, "", "  ")
		t.Fatalf("the checker lost %d elements; explained %s", len(lost), b)
	}
	if !strings.Contains(f.Summary, "dropped by partitions") || !strings.Contains(f.Summary, "none was re-sent after a heal") {
		t.Errorf("summary %q", f.Summary)
	}
	story := strings.Join(f.Examples[0].Lines, "\n")
	for _, w := range []string{"add ", "dropped", "by the partition", "final read, by process"} {
		if !strings.Contains(story, w) {
			t.Errorf("the story lacks %q:\n%s", w, story)
		}
	}
}

func TestExplainValidGSet(t *testing.T) {
	res := runGSet(t, solution.Register)
	if res.Valid != checker.Valid || res.Explanation != nil {
		t.Fatalf("judged %v, explained %+v", res.Valid, res.Explanation)
	}
}
