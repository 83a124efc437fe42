package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// timelineBoxes reads back the boxes of a timeline page: class, left,
// width, start and duration (ms).
var timelineBoxRE = regexp.MustCompile(`<div class="op (\w+)" style="left: (\d+)px; width: (\d+)px; --t: ([\d.]+); --d: ([\d.]+)"`)

var timelineHeadRE = regexp.MustCompile(`<div class="(grp|col)" style="left: (\d+)px; width: (\d+)px"[^>]*>([^<]*)</div>`)

type timelineHead struct {
	left, width int
	name        string
}

func timelineHeads(page, class string) []timelineHead {
	var out []timelineHead
	for _, m := range timelineHeadRE.FindAllStringSubmatch(page, -1) {
		if m[1] == class {
			l, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			out = append(out, timelineHead{l, w, m[4]})
		}
	}
	return out
}

func TestTimelineHTML(t *testing.T) {
	var buf bytes.Buffer
	// Two threads on two nodes: process 2 is thread 0's, on n0.
	if err := WriteTimelineHTML(&buf, echoHistory(), TimelineLayout{Nodes: []string{"n0", "n1"}, Concurrency: 2}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<b>") {
		t.Error("an op value reached the page unescaped")
	}
	if !strings.Contains(page, "Please echo &lt;b&gt;&amp;") {
		t.Error("the escaped op value is missing")
	}
	if strings.Contains(page, "<script") {
		t.Error("the timeline carries a script")
	}
	boxes := timelineBoxRE.FindAllStringSubmatch(page, -1)
	// Three client ops completed, one never did, two nemesis ops (each an
	// :info invocation and an :info completion).
	if len(boxes) != 6 {
		t.Fatalf("%d boxes, want 6:\n%s", len(boxes), page)
	}
	colours := map[string]int{}
	for _, b := range boxes {
		colours[b[1]]++
	}
	want := map[string]int{"ok": 1, "fail": 1, "info": 3, "pending": 1}
	for c, n := range want {
		if colours[c] != n {
			t.Errorf("%d boxes of colour %s, want %d (all: %v)", colours[c], c, n, colours)
		}
	}
	// Columns are the nodes' threads, then the nemesis.
	groups, cols := timelineHeads(page, "grp"), timelineHeads(page, "col")
	if len(groups) != 3 || groups[0].name != "n0" || groups[1].name != "n1" || groups[2].name != "nemesis" {
		t.Fatalf("column groups %+v, want n0 n1 nemesis", groups)
	}
	if len(cols) != 3 || cols[0].name != "0 2" || cols[1].name != "1" {
		t.Fatalf("columns %+v, want processes 0 2 | 1 | nemesis", cols)
	}
	// The ok op of process 0 runs from 100 ms to 400 ms in n0's column;
	// process 2's op, never completed, is in the same column.
	var ok, pending []string
	for _, b := range boxes {
		switch b[1] {
		case "ok":
			ok = b
		case "pending":
			pending = b
		}
	}
	if ok[2] != strconv.Itoa(cols[0].left+2) || ok[4] != "100" || ok[5] != "300" {
		t.Errorf("the ok op is drawn at %v", ok)
	}
	if pending[2] != ok[2] {
		t.Errorf("process 2's op is at left %s, not in thread 0's column (%s)", pending[2], ok[2])
	}
	// The partition, from its start's completion (300 ms) to its heal's
	// (800 ms), is shaded across the client columns.
	if !strings.Contains(page, `<div class="fault partition" style="left: 64px; width: `+strconv.Itoa(groups[2].left+groups[2].width-64)+`px; --t: 300; --d: 500;`) ||
		!strings.Contains(page, "partition, from 0.30 s to 0.80 s") {
		t.Errorf("no partition span from 300 ms to 800 ms:\n%s", page)
	}
}

func TestTimelineWithoutLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTimelineHTML(&buf, echoHistory(), TimelineLayout{}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range timelineHeads(buf.String(), "col") {
		names = append(names, c.name)
	}
	if strings.Join(names, " ") != "0 1 2 " {
		t.Errorf("columns %q, want one per process and the nemesis", names)
	}
}

// A long run fits on a screen at first, with an axis of round ticks, and
// zooms in by CSS alone.
func TestTimelineFitsAndZooms(t *testing.T) {
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: "read", Time: 0},
		{Process: 0, Type: history.OK, F: "read", Time: 1_000_000_000_000}, // 1000 s
	}
	page, err := layoutTimeline(ops, TimelineLayout{})
	if err != nil {
		t.Fatal(err)
	}
	fit, _ := strconv.ParseFloat(page.Fit, 64)
	end, _ := strconv.ParseFloat(page.End, 64)
	if h := fit * end; h < timelineFitHeight*0.99 || h > timelineFitHeight*1.01 {
		t.Errorf("the run is %v px tall at first, want %d", h, timelineFitHeight)
	}
	var labels []string
	for _, tk := range page.Ticks {
		if tk.Level == 0 {
			labels = append(labels, tk.Label)
		}
	}
	if len(labels) < 5 || len(labels) > timelineFitHeight/timelineTickPixels+1 || labels[0] != "0 s" || labels[1] != "100 s" {
		t.Errorf("axis at the first zoom level: %q", labels)
	}
	if !strings.Contains(string(page.Zoom), "#z3:checked ~ .page { --k: "+strconv.FormatFloat(fit*64, 'g', 4, 64)+"px;") {
		t.Errorf("zoom styles:\n%s", page.Zoom)
	}
	var buf bytes.Buffer
	if err := WriteTimelineHTML(&buf, ops, TimelineLayout{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<input type="radio" name="zoom" id="z0" checked>`, `<label for="z3">×64</label>`, `<div class="tk l0" style="--t: 100000"><span>100 s</span></div>`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	buf.Reset()
	if err := WriteTimelineHTML(&buf, nil, TimelineLayout{}); err != nil {
		t.Fatalf("empty history: %v", err)
	}
}

func TestTimelineShadesKillsOnTheirNode(t *testing.T) {
	nem := func(f string, at int64, v any) history.Op {
		return history.Op{Process: history.NemesisProcess, F: f, Type: history.Info, Time: at, Value: v}
	}
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: "read", Time: 0},
		nem("kill", 1e9, nil), nem("kill", 1.1e9, edn.Vector{"n1"}),
		{Process: 0, Type: history.OK, F: "read", Time: 1.5e9},
		{Process: 1, Type: history.Invoke, F: "read", Time: 2e9},
		{Process: 1, Type: history.OK, F: "read", Time: 2.5e9},
		nem("start", 3e9, nil), nem("start", 3.2e9, edn.Vector{"n1"}),
	}
	var buf bytes.Buffer
	if err := WriteTimelineHTML(&buf, ops, TimelineLayout{Nodes: []string{"n0", "n1"}, Concurrency: 2}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	groups := timelineHeads(page, "grp")
	if len(groups) != 3 || groups[1].name != "n1" {
		t.Fatalf("groups %+v", groups)
	}
	want := fmt.Sprintf(`<div class="fault kill" style="left: %dpx; width: %dpx; --t: 1100; --d: 2100;`, groups[1].left, groups[1].width)
	if !strings.Contains(page, want) || !strings.Contains(page, "n1 killed from 1.10 s to 3.20 s") {
		t.Errorf("no kill span on n1's column: want %s in\n%s", want, page)
	}
}

// TestTimelineStopsAtOpLimit checks that a long history draws the first
// timelineMaxOps operations and says how many it leaves out.
func TestTimelineStopsAtOpLimit(t *testing.T) {
	var ops []history.Op
	for i := range timelineMaxOps + 500 {
		p := i % 3
		ops = append(ops,
			history.Op{Process: p, Type: history.Invoke, F: "generate", Time: int64(i) * 1e6},
			history.Op{Process: p, Type: history.OK, F: "generate", Value: i, Time: int64(i)*1e6 + 5e5})
	}
	var buf bytes.Buffer
	if err := WriteTimelineHTML(&buf, ops, TimelineLayout{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, `<div class="op `); n != timelineMaxOps {
		t.Errorf("%d boxes drawn, want %d", n, timelineMaxOps)
	}
	want := fmt.Sprintf("Showing only the first %d of %d operations", timelineMaxOps, timelineMaxOps+500)
	if !strings.Contains(page, want) {
		t.Errorf("the page does not say %q", want)
	}
	if buf.Reset(); WriteTimelineHTML(&buf, ops[:20], TimelineLayout{}) != nil || strings.Contains(buf.String(), "Showing only") {
		t.Error("a short history is said to be cut")
	}
}

// The store's timeline takes its layout from test.json.
func TestStoreTimelineGroupsByNode(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	defer s.Close()
	if err := s.WriteTest(map[string]any{"nodes": []string{"n0", "n1", "n2"}, "concurrency": 6, "rate": 5}); err != nil {
		t.Fatal(err)
	}
	var ops []history.Op
	for p := range 8 { // processes 6 and 7 replace crashed threads 0 and 1
		ops = append(ops, history.Op{Process: p, Type: history.Invoke, F: "echo", Time: int64(p) * 1e6},
			history.Op{Process: p, Type: history.OK, F: "echo", Time: int64(p)*1e6 + 5e5})
	}
	if err := s.WriteTimeline(ops); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, s.Path("timeline.html"))
	var groups, cols []string
	for _, g := range timelineHeads(page, "grp") {
		groups = append(groups, g.name)
	}
	for _, c := range timelineHeads(page, "col") {
		cols = append(cols, c.name)
	}
	if strings.Join(groups, ",") != "n0,n1,n2" || strings.Join(cols, ",") != "0 6,3,1 7,4,2,5" {
		t.Errorf("groups %q, columns %q", groups, cols)
	}
}
