package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
)

// invalidBroadcastStore stores a finished, invalid broadcast test with
// everything a run leaves: results, history, plots, timeline, messages,
// node logs and test.json.
func invalidBroadcastStore(t *testing.T) *Store {
	t.Helper()
	s := newTestStore(t, t.TempDir(), "broadcast", start)
	results := edn.K(
		"perf", edn.K("latency-graph", edn.K("valid?", true), "valid?", true),
		"stats", edn.K("valid?", true, "count", 120, "ok-count", 117),
		"availability", edn.K("valid?", true, "ok-fraction", 0.975),
		"net", edn.K("servers", edn.K("msgs-per-op", 4.2), "valid?", true),
		"workload", edn.K("valid?", false, "lost-count", 3, "lost", []any{7, 8, 9},
			"stable-latencies", edn.K(0, 0, 0.5, 100, 1, 400)),
		"valid?", false)
	if err := s.WriteResults(results); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteTest(map[string]any{
		"nodes": []string{"n0", "n1", "n2"}, "time-limit": 20.0, "rate": 100,
		"latency": map[string]any{"mean": 100, "dist": "constant"}, "nemesis": []string{"partition"},
		"seed": uint64(18446744073709551557), "concurrency": 6,
	}); err != nil {
		t.Fatal(err)
	}
	ops := echoHistory()
	for _, err := range []error{s.WriteHistory(ops), s.WritePlots(ops), s.WriteTimeline(ops)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	journal := exchange(0, "c1", "n0", `{"type":"broadcast","message":1}`, `{"type":"broadcast_ok"}`)
	if err := s.WriteJournal(journal, []string{"n0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMessagesSVG(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n10", "n2", "n0"} {
		l, err := s.NodeLog(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(l, "hello\n")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunPage(t *testing.T) {
	s := invalidBroadcastStore(t)
	page := readFile(t, s.Path("index.html"))
	for _, want := range []string{
		`<title>broadcast 2021-02-23 15:30:56 UTC: Invalid: the analysis found errors</title>`,
		`style="background: ` + colourFail + `">Invalid: the analysis found errors</p>`,
		"3 nodes, concurrency 6, time limit 20 s, rate 100/s, latency 100 ms (constant), nemesis partition, seed 18446744073709551557",
		"<th title=\":net :servers :msgs-per-op", "<td>4.2</td>", "<td>0.975</td>", "<td>117 ok / 120</td>",
		"<td>min 0 · p50 100 · max 400 ms</td>",
		`<img class="plot" src="latency-raw.png"`, `<img class="plot" src="latency-quantiles.png"`, `<img class="plot" src="rate.png"`,
		`<a href="timeline.html" id="timeline">`, `<a href="history.txt">`, `<a href="history.edn">`,
		`<a href="jepsen.log">`, `<a href="messages.svg">messages.svg</a> events 1–4 of 4`,
		`<a href="net-journal.jsonl.gz">`, `<a href="test.json">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	// Node logs in natural order, after jepsen.log.
	logList, _, _ := strings.Cut(page[strings.Index(page, `<ul class="logs">`):], "</ul>")
	logs := regexp.MustCompile(`<li><a href="([^"]+)">`).FindAllStringSubmatch(logList, -1)
	var got []string
	for _, m := range logs {
		got = append(got, m[1])
	}
	if want := "jepsen.log node-logs/n0.log node-logs/n2.log node-logs/n10.log"; strings.Join(got, " ") != want {
		t.Errorf("logs %q, want %q", got, want)
	}
	// One fold per section; only the invalid one open; :valid? is the
	// verdict, not a section.
	folds := regexp.MustCompile(`<details( open)?><summary>:([a-z?-]+)( <span class="valid-(\w+)">)?`).FindAllStringSubmatch(page, -1)
	var sections []string
	for _, f := range folds {
		sections = append(sections, fmt.Sprintf("%s:%s:%v", f[2], f[4], f[1] != ""))
	}
	if want := "perf:true:false stats:true:false availability:true:false net:true:false workload:false:true"; strings.Join(sections, " ") != want {
		t.Errorf("sections %q", sections)
	}
	if !strings.Contains(page, ":lost-count 3") || !strings.Contains(page, ":lost [7 8 9]") {
		t.Error("the workload section's text is missing")
	}
	// Every linked file exists.
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if strings.HasPrefix(m[1], "../") {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.Dir(), m[1])); err != nil {
			t.Errorf("index.html links %s, which does not exist", m[1])
		}
	}
}

func TestRunPageWithoutResults(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, s.Path("index.html"))
	for _, want := range []string{"No results: the test crashed", `background: ` + colourPending, `<a href="jepsen.log">`} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, unwanted := range []string{"<details", "<img", `id="timeline"`} {
		if strings.Contains(page, unwanted) {
			t.Errorf("index.html of a crashed run has %s", unwanted)
		}
	}
}

func TestEDNSections(t *testing.T) {
	m := edn.K("perf", edn.K("valid?", true, "latency-graph", edn.K("valid?", true)),
		"workload", edn.K("valid?", false, "lost", []any{"a\n :b"}), "valid?", false)
	text, err := edn.MarshalIndent(m)
	if err != nil {
		t.Fatal(err)
	}
	secs := ednSections(string(text))
	var keys []string
	for _, s := range secs {
		keys = append(keys, s.Key)
	}
	if strings.Join(keys, " ") != "perf workload valid?" {
		t.Fatalf("sections %q of\n%s", keys, text)
	}
	if !strings.HasPrefix(secs[1].Text, ":workload {") || strings.HasSuffix(secs[1].Text, ",") || !strings.Contains(secs[1].Text, `"a\n :b"`) {
		t.Errorf("workload section %q", secs[1].Text)
	}
	if secs[2].Text != ":valid? false" {
		t.Errorf("last section %q", secs[2].Text)
	}
	if got := ednSections("not edn"); len(got) != 1 || got[0].Key != "results" || got[0].Text != "not edn" {
		t.Errorf("odd text: %+v", got)
	}
}

func TestSummaryFigures(t *testing.T) {
	for f, want := range map[float64]string{3.5411234: "3.541", 50: "50", 1.0: "1", 0.98765: "0.988", 0: "0", -2.5: "-2.5"} {
		if got := formatNumber(f); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", f, got, want)
		}
	}
	var results map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"net": {"servers": {"msgs-per-op": 1.4909729}},
		"workload": {"stable-latencies": {"0": 0, "0.5": 300, "0.95": 10052, "1": 11930}, "lost-latencies": {"x": 1}},
		"valid?": true}`))
	dec.UseNumber()
	if err := dec.Decode(&results); err != nil {
		t.Fatal(err)
	}
	figs := append(resultsFigures(results), workloadFigures(results)...)
	var got []string
	for _, f := range figs {
		got = append(got, f.Name+"="+f.Value)
	}
	if want := "msgs-per-op=1.491 stable-latencies=min 0 · p50 300 · p95 10052 · max 11930 ms"; strings.Join(got, " ") != want {
		t.Errorf("figures %q, want %q", got, want)
	}
	if validityOf(results) != "true" || validityOf(map[string]any{"valid?": "unknown"}) != "unknown" || validityOf(map[string]any{"valid?": false}) != "false" {
		t.Error("validityOf")
	}
	if got := compareNatural("n2.log", "n10.log"); got >= 0 {
		t.Errorf("compareNatural(n2, n10) = %d", got)
	}
	if got := compareNatural("n10.log", "n9.log"); got <= 0 {
		t.Errorf("compareNatural(n10, n9) = %d", got)
	}
}
