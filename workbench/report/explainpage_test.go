package report

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/results"
)

// The run page of an invalid run says why before the results map: its
// headline names the failures, each finding shows its sentence, its
// examples with their stories and pictures, and glomers' own findings
// come apart, marked as counting only with --strict.
func TestRunPageExplainsAnInvalidRun(t *testing.T) {
	dir := t.TempDir()
	s := newTestStore(t, dir, "broadcast", start)
	sum := results.Summary{Valid: checker.Invalid, Failing: []string{"workload"}, Reasons: []string{"lost 3 values"}}
	x := results.Explanation{Valid: checker.Invalid, Findings: []results.Finding{
		{Section: "workload", Kind: "lost", Count: 3, Short: "lost 3 values",
			Summary:  "3 acknowledged values are missing from final reads; 4 messages <carrying> them were dropped by partitions.",
			Examples: []results.Example{{Text: "value 7 entered at n1", Lines: []string{"n1→n2 at 1.20 s: dropped by the partition n1 | n2"}, File: "cycle-1.svg"}}},
		{Section: "glomers", Kind: "protocol-error", Count: 1, Short: "1 protocol error", Summary: "n2 printed junk.", Advisory: true},
	}}
	for name, marshal := range map[string]func() ([]byte, error){results.File: sum.Marshal, results.ExplainFile: x.Marshal} {
		b, err := marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteFile(name, writeBytes(b, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, s.Path("index.html"))
	for _, want := range []string{
		`>Invalid: lost 3 values</p>`,
		`<h2>Why this run is invalid</h2>`,
		`<span class="short">lost 3 values</span>`,
		`messages &lt;carrying&gt; them`, // escaped
		`<li>n1→n2 at 1.20 s: dropped by the partition n1 | n2</li>`,
		`<a href="cycle-1.svg">picture</a>`,
		`<section id="advisory">`, `n2 printed junk.`, `--strict`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	why, advisory := strings.Index(page, `id="explanation"`), strings.Index(page, `id="advisory"`)
	if why < 0 || advisory < why || strings.Contains(page[why:advisory], "printed junk") {
		t.Errorf("the advisory finding must come after, and apart from, the counting ones")
	}
	if r := strings.Index(page, "<h2>Results</h2>"); r >= 0 && r < why {
		t.Errorf("the explanation must come before the results")
	}
}

// A valid run's page has no explanation.
func TestRunPageOfAValidRunExplainsNothing(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	b, _ := results.Summary{Valid: checker.Valid}.Marshal()
	if err := s.WriteFile(results.File, writeBytes(b, '\n')); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, s.Path("index.html"))
	if strings.Contains(page, "Why this run") || strings.Contains(page, `class="finding"`) {
		t.Errorf("a valid run's page explains something")
	}
}

// The store's index gives each invalid run its reasons.
func TestStoreIndexSaysWhy(t *testing.T) {
	root := t.TempDir()
	s := newTestStore(t, root, "broadcast", start)
	b, _ := results.Summary{Valid: checker.Invalid, Reasons: []string{"lost 3 values", "no :read ok"}}.Marshal()
	if err := s.WriteFile(results.File, writeBytes(b, '\n')); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	serveIndex(rec, root)
	if page := rec.Body.String(); !strings.Contains(page, `<td class="why">lost 3 values; no :read ok</td>`) {
		t.Errorf("the index does not give the run's reasons:\n%s", page)
	}
}
