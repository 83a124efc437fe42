package broadcast_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// runBroadcast runs the broadcast workload on five in-process nodes in
// virtual time, with partitions when asked. The run keeps its journal in
// memory (no store), so the test can check the explanation against it.
func runBroadcast(t *testing.T, register func(*node.Node), partitions bool) *workbench.Result {
	t.Helper()
	cfg := workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(register),
		NodeIDs: workbench.NodeIDs(5), TimeLimit: 20 * time.Second, Rate: 10, Seed: 1,
	}
	if partitions {
		cfg.Nemesis = []string{"partition"}
	}
	return workbenchtest.Run(t, cfg)
}

// finding returns the explanation's finding of kind, failing t when
// there is none.
func finding(t *testing.T, res *workbench.Result, kind string) results.Finding {
	t.Helper()
	if res.Explanation == nil {
		t.Fatalf("no explanation (valid %v)", res.Valid)
	}
	for _, f := range res.Explanation.Findings {
		if f.Kind == kind {
			return f
		}
	}
	b, _ := json.MarshalIndent(res.Explanation, "", "  ")
	t.Fatalf("no %q finding in %s", kind, b)
	return results.Finding{}
}

// lostValues reads :lost from the checker's result.
func lostValues(t *testing.T, res *workbench.Result) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	items, ok := workbenchtest.Get(t, res, "workload", "lost").(edn.List)
	if !ok {
		t.Fatalf(":lost is %T", workbenchtest.Get(t, res, "workload", "lost"))
	}
	for _, it := range items {
		n, ok := history.Int(it)
		if !ok {
			t.Fatalf(":lost holds %v", it)
		}
		out[n] = true
	}
	return out
}

// partitionDrops counts, straight from the journal, the server messages
// whose "message" is a lost value and that a partition dropped.
func partitionDrops(res *workbench.Result, lost map[int64]bool) int {
	n := 0
	for _, e := range res.Journal {
		if e.Drop != netsim.DropPartition || !strings.HasPrefix(e.Msg.Src, "n") || !strings.HasPrefix(e.Msg.Dest, "n") {
			continue
		}
		var body struct {
			Message *int64 `json:"message"`
		}
		if json.Unmarshal(e.Msg.Body, &body) == nil && body.Message != nil && lost[*body.Message] {
			n++
		}
	}
	return n
}

// A flood that never re-sends loses values across a partition: the
// explanation names the dropped messages, the partition, and says that
// nothing was re-sent after the heal.
func TestExplainNoRetryUnderPartition(t *testing.T) {
	res := runBroadcast(t, faulty.NoRetryBroadcast, true)
	if res.Valid != checker.Invalid {
		t.Fatalf("judged %v", res.Valid)
	}
	lost := lostValues(t, res)
	f := finding(t, res, "lost")
	if f.Count != len(lost) || f.Short != "lost "+results.Plural(len(lost), "value") {
		t.Errorf("count %d, short %q; the checker lost %d", f.Count, f.Short, len(lost))
	}
	drops := partitionDrops(res, lost)
	if drops == 0 {
		t.Fatal("the journal holds no partition drop of a lost value: the scenario proves nothing")
	}
	want := fmt.Sprintf("%s carrying", results.Plural(drops, "server message"))
	if !strings.Contains(f.Summary, want) || !strings.Contains(f.Summary, "dropped by partitions") || !strings.Contains(f.Summary, "none was re-sent after a heal") {
		t.Errorf("summary %q should say %q were dropped by partitions and none re-sent", f.Summary, want)
	}
	if strings.Contains(f.Summary, "never passed it on") {
		t.Errorf("summary blames a node that kept a value to itself: %q", f.Summary)
	}
	ex := f.Examples[0]
	v, _, _ := strings.Cut(strings.TrimPrefix(ex.Text, "value "), " ")
	var val int64
	fmt.Sscan(v, &val)
	if !lost[val] {
		t.Fatalf("the first example %q is not a lost value", ex.Text)
	}
	story := strings.Join(ex.Lines, "\n")
	for _, w := range []string{"broadcast " + v, "dropped", "by the partition", "final read", "nothing sent " + v + " again"} {
		if !strings.Contains(story, w) {
			t.Errorf("the story of value %s lacks %q:\n%s", v, w, story)
		}
	}
	if len(f.Examples) > results.MaxExamples {
		t.Errorf("%d examples", len(f.Examples))
	}
}

// A node that keeps some values to itself, with no partition, must not
// have its loss blamed on the network.
func TestExplainLossyWithoutPartition(t *testing.T) {
	res := runBroadcast(t, faulty.LossyBroadcast, false)
	if res.Valid != checker.Invalid {
		t.Fatalf("judged %v", res.Valid)
	}
	lost := lostValues(t, res)
	f := finding(t, res, "lost")
	if f.Count != len(lost) {
		t.Errorf("count %d, the checker lost %d", f.Count, len(lost))
	}
	if strings.Contains(f.Summary, "partition") {
		t.Errorf("a loss with no partition is blamed on one: %q", f.Summary)
	}
	if !strings.Contains(f.Summary, fmt.Sprintf("no server message ever carried %d of them", len(lost))) {
		t.Errorf("the summary should say no message carried the %d lost values: %q", len(lost), f.Summary)
	}
	for _, ex := range f.Examples {
		if strings.HasPrefix(ex.Text, "stale") {
			continue
		}
		if !strings.Contains(ex.Text, "no server message ever carried it") {
			t.Errorf("example %q", ex.Text)
		}
		if slices.ContainsFunc(ex.Lines, func(l string) bool { return strings.Contains(l, "partition") }) {
			t.Errorf("example blames a partition: %q", ex.Lines)
		}
	}
}

// A correct broadcast under partitions is not explained at all.
func TestExplainValidBroadcast(t *testing.T) {
	res := runBroadcast(t, func(n *node.Node) { broadcast.Register(n) }, true)
	if res.Valid != checker.Valid || res.Explanation != nil {
		t.Fatalf("judged %v, explained %+v", res.Valid, res.Explanation)
	}
}

// Reads that repeat a value or return one never broadcast are explained
// under glomers' extra check.
func TestExplainEchoingBroadcast(t *testing.T) {
	res := runBroadcast(t, faulty.EchoingBroadcast, false)
	dup := finding(t, res, "duplicated-reads")
	unexpected := finding(t, res, "unexpected")
	if dup.Section != "glomers" || dup.Count != int(workbenchtest.Number(workbenchtest.Get(t, res, "glomers", "workload", "duplicated-read-count"))) {
		t.Errorf("duplicated reads: %+v", dup)
	}
	if unexpected.Count != 1 || !strings.Contains(unexpected.Examples[0].Text, "value -1") {
		t.Errorf("unexpected: %+v", unexpected)
	}
	for _, f := range res.Explanation.Findings {
		if f.Kind == "lost" {
			t.Errorf("nothing was lost: %+v", f)
		}
	}
}

// A stored run reads the journal back from its file: explain.json holds
// the same story, and the log's Why: block leads with it.
func TestExplainStoredRun(t *testing.T) {
	var log bytes.Buffer
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(faulty.NoRetryBroadcast),
		NodeIDs: workbench.NodeIDs(5), TimeLimit: 20 * time.Second, Rate: 10, Seed: 1,
		Nemesis: []string{"partition"}, StoreRoot: t.TempDir(), Log: &log,
	})
	b, err := os.ReadFile(filepath.Join(res.Dir, results.ExplainFile))
	if err != nil {
		t.Fatal(err)
	}
	x, err := results.ParseExplanation(b)
	if err != nil {
		t.Fatal(err)
	}
	var f results.Finding
	for _, g := range x.Findings {
		if g.Kind == "lost" {
			f = g
		}
	}
	if f.Count == 0 || !strings.Contains(f.Summary, "dropped by partitions") || !strings.Contains(f.Summary, "none was re-sent after a heal") {
		t.Fatalf("stored finding %+v", f)
	}
	_, why, ok := strings.Cut(log.String(), "Why:\n")
	if !ok || !strings.Contains(why, "missing from the final reads") || !strings.Contains(why, "dropped by partitions") {
		t.Errorf("the Why: block does not lead with the lost values:\n%s", why)
	}
	if !slices.Contains(res.Summary.Reasons, f.Short) {
		t.Errorf("reasons %q lack %q", res.Summary.Reasons, f.Short)
	}
}
