package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/history"
)

func TestTimelineHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTimelineHTML(&buf, echoHistory()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<b>") {
		t.Error("an op value reached the page unescaped")
	}
	if !strings.Contains(page, "Please echo &lt;b&gt;&amp;") {
		t.Error("the escaped op value is missing")
	}
	boxes := regexp.MustCompile(`<div class="op (\w+)" style="left:(\d+)px;top:(\d+)px;height:(\d+)px"`).FindAllStringSubmatch(page, -1)
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
	// The ok op of process 0 runs from 100 ms to 400 ms, one pixel per ms,
	// in the first column.
	if !strings.Contains(page, `<div class="op ok" style="left:2px;top:100px;height:300px"`) {
		t.Error("the ok op is not where its times put it")
	}
	// The nemesis column comes last.
	cols := regexp.MustCompile(`<div class="col" style="left: \d+px">([^<]*)</div>`).FindAllStringSubmatch(page, -1)
	var names []string
	for _, c := range cols {
		names = append(names, c[1])
	}
	if strings.Join(names, " ") != "0 1 2 nemesis" {
		t.Errorf("columns %v", names)
	}
}

func TestTimelineScalesLongRuns(t *testing.T) {
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: "read", Time: 0},
		{Process: 0, Type: history.OK, F: "read", Time: 1_000_000_000_000}, // 1000 s
	}
	page, err := layoutTimeline(ops)
	if err != nil {
		t.Fatal(err)
	}
	if page.Height > timelineMaxPixels+timelineMinHeight {
		t.Errorf("page is %d px tall", page.Height)
	}
	if page.MsPerPixel != "10" {
		t.Errorf("scale %s ms per pixel, want 10", page.MsPerPixel)
	}
	var buf bytes.Buffer
	if err := WriteTimelineHTML(&buf, nil); err != nil {
		t.Fatalf("empty history: %v", err)
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
	if err := WriteTimelineHTML(&buf, ops); err != nil {
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
	if buf.Reset(); WriteTimelineHTML(&buf, ops[:20]) != nil || strings.Contains(buf.String(), "Showing only") {
		t.Error("a short history is said to be cut")
	}
}
