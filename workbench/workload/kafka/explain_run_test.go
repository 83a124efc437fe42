package kafka_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkasol "github.com/glomers/glomers/solutions/kafka"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/kafka"
)

// explainedRun runs a broken log with 5b's parameters for 10 s and
// returns its result, which must be invalid and explained.
func explainedRun(t *testing.T, fault string, nodes int, strict bool) *workbench.Result {
	t.Helper()
	cfg := kafkaConfig(faulty.Nodes()[fault], nodes, 1)
	cfg.TimeLimit = 10 * time.Second
	cfg.Strict = strict
	res := workbenchtest.Run(t, cfg)
	if res.Valid != checker.Invalid {
		t.Fatalf("%s judged %v", fault, res.Valid)
	}
	if res.Explanation == nil {
		t.Fatalf("%s: no explanation", fault)
	}
	return res
}

// kafkaFinding returns the explanation's finding of kind, failing t when
// there is none.
func kafkaFinding(t *testing.T, x *results.Explanation, kind string) results.Finding {
	t.Helper()
	var ks []string
	for _, f := range x.Findings {
		if f.Kind == kind {
			return f
		}
		ks = append(ks, f.Kind)
	}
	t.Fatalf("no %s finding among %v", kind, ks)
	return results.Finding{}
}

// checkerCount is the checker's count of an error type: :count, or for
// :unseen the sum over keys.
func checkerCount(t *testing.T, res *workbench.Result, typ string) int {
	t.Helper()
	if typ == "unseen" {
		total := 0
		for _, e := range workbenchtest.Get(t, res, "workload", "unseen", "unseen").(edn.Map) {
			n, _ := history.Int(e.Val)
			total += int(n)
		}
		return total
	}
	n, _ := history.Int(workbenchtest.Get(t, res, "workload", typ, "count"))
	return int(n)
}

// expectEveryBadType checks that each bad error type of the run has a
// workload finding of that kind whose count is the checker's, with
// examples that name operations by process and node.
func expectEveryBadType(t *testing.T, res *workbench.Result) {
	t.Helper()
	bad, _ := workbenchtest.Get(t, res, "workload", "bad-error-types").(edn.List)
	if len(bad) == 0 {
		t.Fatal("no bad error types")
	}
	for _, b := range bad {
		typ := string(b.(edn.Keyword))
		f := kafkaFinding(t, res.Explanation, typ)
		if f.Section != "workload" || f.Advisory {
			t.Errorf("%s: section %q, advisory %v", typ, f.Section, f.Advisory)
		}
		if want := checkerCount(t, res, typ); f.Count != want {
			t.Errorf("%s: count %d, the checker's %d", typ, f.Count, want)
		}
		if len(f.Examples) == 0 || !strings.Contains(strings.Join(f.Examples[0].Lines, "\n"), "(on n") {
			t.Errorf("%s: the first example names no operation on a node: %+v", typ, f.Examples)
		}
	}
}

// Per-node offsets on two nodes: offsets clash, and the explanation says
// that sends to the two different nodes got the same offset, and that
// the lost writes lost their offset to another message.
func TestExplainPerNodeOffsets(t *testing.T) {
	res := explainedRun(t, "kafka-per-node-offsets", 2, false)
	expectEveryBadType(t, res)
	inc := kafkaFinding(t, res.Explanation, "inconsistent-offsets")
	if !strings.Contains(inc.Summary, "sends to different nodes were acknowledged with the same offset") {
		t.Errorf("inconsistent-offsets summary: %s", inc.Summary)
	}
	lines := strings.Join(inc.Examples[0].Lines, "\n")
	if !strings.Contains(lines, "(on n0)") || !strings.Contains(lines, "(on n1)") {
		t.Errorf("the first clash does not name both nodes:\n%s", lines)
	}
	lost := kafkaFinding(t, res.Explanation, "lost-write")
	if !strings.Contains(lost.Summary, "polls found another message") || strings.Contains(lost.Summary, "never served") {
		t.Errorf("lost-write summary: %s", lost.Summary)
	}
	// Without --strict, the commit check is advisory.
	if f := kafkaFinding(t, res.Explanation, "committed-offsets"); !f.Advisory || f.Section != "glomers" {
		t.Errorf("committed-offsets: advisory %v, section %q", f.Advisory, f.Section)
	}
}

// A poll that leaves a message out of the middle: the explanation names
// the poll and the message left out, and says that other polls returned
// it. (Which poll skips depends on the order the node walks the keys, so
// a message may also happen to be skipped by every poll that reached it:
// then, and only then, the explanation says no poll returned it.)
func TestExplainSkippingPoll(t *testing.T) {
	res := explainedRun(t, "kafka-skipping-poll", 1, false)
	expectEveryBadType(t, res)
	f := kafkaFinding(t, res.Explanation, "int-poll-skip")
	if !strings.Contains(f.Summary, "other polls returned") {
		t.Errorf("int-poll-skip summary: %s", f.Summary)
	}
	re := regexp.MustCompile(`^one poll by process \d+ \(on n0\) returned message \d+ \(offset (\d+)\) then \d+ \(offset (\d+)\) of key "\d+", leaving out message (\d+)$`)
	elsewhere := 0
	for _, ex := range f.Examples {
		m := re.FindStringSubmatch(ex.Text)
		if m == nil {
			t.Fatalf("example %q", ex.Text)
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if b != a+2 {
			t.Errorf("the poll jumped from offset %d to %d, not over one message", a, b)
		}
		lines := strings.Join(ex.Lines, "\n")
		switch {
		case strings.Contains(lines, "other polls did return message "+m[3]+" "):
			elsewhere++
		case !strings.Contains(lines, "no poll ever returned message "+m[3]):
			t.Errorf("whether other polls returned message %s is not said:\n%s", m[3], lines)
		}
	}
	if elsewhere == 0 {
		t.Errorf("no example says other polls returned the skipped message")
	}
}

// A log that lowers committed offsets passes Maelstrom's checks; with
// --strict the committed-offsets finding counts, with the checker's
// count and the offsets it compared.
func TestExplainForgetfulCommits(t *testing.T) {
	res := explainedRun(t, "kafka-forgetful-commits", 1, true)
	if len(res.Explanation.Findings) != 1 {
		t.Errorf("findings %+v, want only the committed offsets", res.Explanation.Findings)
	}
	f := kafkaFinding(t, res.Explanation, "committed-offsets")
	n, _ := history.Int(workbenchtest.Get(t, res, "glomers", "workload", "count"))
	if f.Section != "glomers" || f.Advisory || f.Count != int(n) || n == 0 {
		t.Errorf("section %q advisory %v count %d, the check's %d", f.Section, f.Advisory, f.Count, n)
	}
	first := workbenchtest.Get(t, res, "glomers", "workload", "errs").(edn.Vector)[0].(edn.Map)
	want, _ := first.Get(edn.Keyword("expected"))
	got, _ := first.Get(edn.Keyword("committed"))
	if text := fmt.Sprintf("committed %v (by process", want); !strings.Contains(f.Examples[0].Text, text) ||
		!strings.Contains(f.Examples[0].Text, fmt.Sprintf("later listed as %v", got)) {
		t.Errorf("first example %q, want committed %v listed as %v", f.Examples[0].Text, want, got)
	}
	if !slices.Contains(res.Summary.Reasons, f.Short) {
		t.Errorf("reasons %v lack %q", res.Summary.Reasons, f.Short)
	}
}

// A log with holes (offsets 6, 13, … acknowledged, never served): lost
// writes, each acknowledged at such an offset and blamed on nothing
// having been served there, not on another message.
func TestExplainSkippedOffsets(t *testing.T) {
	res := explainedRun(t, "kafka-skipped-offsets", 1, false)
	expectEveryBadType(t, res)
	lost := kafkaFinding(t, res.Explanation, "lost-write")
	if !strings.Contains(lost.Summary, "the log acknowledged offsets it never served") || strings.Contains(lost.Summary, "another message") {
		t.Errorf("lost-write summary: %s", lost.Summary)
	}
	re := regexp.MustCompile(`^key "\d+": message \d+, acknowledged at offset (\d+), was never polled$`)
	for _, ex := range lost.Examples {
		m := re.FindStringSubmatch(ex.Text)
		if m == nil {
			t.Fatalf("example %q", ex.Text)
		}
		if off, _ := strconv.Atoi(m[1]); off%7 != 6 {
			t.Errorf("lost at offset %d, which the log serves", off)
		}
	}
	skip := kafkaFinding(t, res.Explanation, "int-poll-skip")
	if !strings.Contains(skip.Summary, "no poll ever returned the skipped messages shown") {
		t.Errorf("int-poll-skip summary: %s", skip.Summary)
	}
	for _, r := range []string{lost.Short, kafkaFinding(t, res.Explanation, "unseen").Short} {
		if !slices.Contains(res.Summary.Reasons, r) {
			t.Errorf("reasons %v lack %q", res.Summary.Reasons, r)
		}
	}
}

// A correct log (solutions/kafka) on two nodes is valid and explained by
// nothing, neither by the runner nor when asked directly.
func TestExplainValidSolution(t *testing.T) {
	cfg := kafkaConfig(kafkasol.Register, 2, 1)
	cfg.TimeLimit = 10 * time.Second
	cfg.Strict = true
	res := workbenchtest.Run(t, cfg)
	if res.Valid != checker.Valid {
		t.Fatalf("solutions/kafka judged %v: %v", res.Valid, workbenchtest.Get(t, res, "workload"))
	}
	if res.Explanation != nil && len(res.Explanation.Findings) > 0 {
		t.Errorf("a valid run explained: %+v", res.Explanation.Findings)
	}
	wl, err := kafka.New(&workload.Env{Concurrency: cfg.Concurrency})
	if err != nil {
		t.Fatal(err)
	}
	ex, ok := wl.(explain.Explainer)
	if !ok {
		t.Fatal("the kafka workload is not an explain.Explainer")
	}
	ev := &explain.Evidence{Ops: res.History, Nodes: cfg.NodeIDs, Concurrency: cfg.Concurrency,
		Workload: workbenchtest.Get(t, res, "workload").(edn.Map), Extra: workbenchtest.Get(t, res, "glomers", "workload").(edn.Map)}
	if fs := ex.Explain(ev); len(fs) != 0 {
		t.Errorf("findings for a valid run: %+v", fs)
	}
}
