package workbench_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// checkSummary checks a run's summary against its results map, which
// Maelstrom's checkers wrote independently, and against the summary.json
// in its folder.
func checkSummary(t *testing.T, res *workbench.Result) {
	t.Helper()
	s := res.Summary
	if s.Valid != res.Valid || s.Valid != checker.ValidityOf(res.Results) {
		t.Errorf("summary verdict %v, result %v, map %v", s.Valid, res.Valid, checker.ValidityOf(res.Results))
	}
	var failing []string
	for _, e := range res.Results {
		name := string(e.Key.(edn.Keyword))
		if m, ok := e.Val.(edn.Map); ok && name != "glomers" && checker.ValidityOf(m) != checker.Valid {
			failing = append(failing, name)
		}
	}
	if !slices.Equal(s.Failing, failing) {
		t.Errorf("failing sections %v, the map says %v", s.Failing, failing)
	}
	if res.Valid != checker.Valid && len(s.Failing) == 0 {
		t.Errorf("a %v run names no failing section", res.Valid)
	}
	want := map[string][2]any{
		"ok":          {s.Ops.OK, workbenchtest.Get(t, res, "stats", "ok-count")},
		"fail":        {s.Ops.Fail, workbenchtest.Get(t, res, "stats", "fail-count")},
		"info":        {s.Ops.Info, workbenchtest.Get(t, res, "stats", "info-count")},
		"completed":   {s.Ops.Completed(), workbenchtest.Get(t, res, "stats", "count")},
		"ok-fraction": {float64(s.OKFraction), workbenchtest.Number(workbenchtest.Get(t, res, "availability", "ok-fraction"))},
		"servers":     {float64(s.MsgsPerOp.Servers), workbenchtest.Number(workbenchtest.Get(t, res, "net", "servers", "msgs-per-op"))},
		"all":         {float64(s.MsgsPerOp.All), workbenchtest.Number(workbenchtest.Get(t, res, "net", "all", "msgs-per-op"))},
		"seed":        {s.Seed, res.Seed},
		"dir":         {s.Dir, res.Dir},
	}
	for name, p := range want {
		if fmt.Sprint(p[0]) != fmt.Sprint(p[1]) {
			t.Errorf("summary %s = %v, the results say %v", name, p[0], p[1])
		}
	}
	if s.Ops.OK > 0 && (s.Latency == nil || s.Latency.P50 > s.Latency.P99 || s.Latency.P99 > s.Latency.Max) {
		t.Errorf("latency quantiles %+v", s.Latency)
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, results.File))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := results.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, s) {
		t.Errorf("summary.json holds %+v, the run %+v", stored, s)
	}
}
