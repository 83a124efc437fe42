package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/results"
)

// The index takes a run's verdict and headline figures from its
// summary.json, and the workload's own figures from results.json; a run
// without summary.json is read from results.json alone.
func TestSummariseReadsTheSummary(t *testing.T) {
	dir := t.TempDir()
	resultsJSON := `{"net": {"servers": {"msgs-per-op": 4.2}}, "stats": {"count": 9, "ok-count": 9},
		"workload": {"stable-latencies": {"0": 0, "0.5": 100, "1": 400}}, "valid?": true}`
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(resultsJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	figures := func() (string, string) {
		s := summarise(os.DirFS(dir), "broadcast", "x")
		var got []string
		for _, f := range s.Figures {
			got = append(got, f.Name+"="+f.Value)
		}
		return s.Valid, strings.Join(got, " ")
	}
	valid, got := figures()
	if want := "msgs-per-op=4.2 ops=9 ok / 9 stable-latencies=min 0 · p50 100 · max 400 ms"; valid != "true" || got != want {
		t.Errorf("without summary.json: %s, %q; want true, %q", valid, got, want)
	}

	sum := results.Summary{Valid: checker.Invalid, Failing: []string{"workload"}, MsgsPerOp: &results.MsgsPerOp{Servers: 1.5, All: 3},
		OKFraction: 0.5, Ops: results.Ops{Invoked: 6, OK: 3, Info: 3}}
	b, err := sum.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.File), b, 0o644); err != nil {
		t.Fatal(err)
	}
	valid, got = figures()
	if want := "msgs-per-op=1.5 ok-fraction=0.5 ops=3 ok / 6 stable-latencies=min 0 · p50 100 · max 400 ms"; valid != "false" || got != want {
		t.Errorf("with summary.json: %s, %q; want false, %q", valid, got, want)
	}
}
