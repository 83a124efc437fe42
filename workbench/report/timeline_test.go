package report

import (
	"bytes"
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
	boxes := regexp.MustCompile(`<div class="op" style="left: (\d+)px; top: (\d+)px; height: (\d+)px; background: (#[0-9A-F]+)"`).FindAllStringSubmatch(page, -1)
	// Three client ops completed, one never did, two nemesis ops (each an
	// :info invocation and an :info completion).
	if len(boxes) != 6 {
		t.Fatalf("%d boxes, want 6:\n%s", len(boxes), page)
	}
	colours := map[string]int{}
	for _, b := range boxes {
		colours[b[4]]++
	}
	want := map[string]int{colourOK: 1, colourFail: 1, colourInfo: 3, colourPending: 1}
	for c, n := range want {
		if colours[c] != n {
			t.Errorf("%d boxes of colour %s, want %d (all: %v)", colours[c], c, n, colours)
		}
	}
	// The ok op of process 0 runs from 100 ms to 400 ms, one pixel per ms,
	// in the first column.
	if !strings.Contains(page, `left: 2px; top: 100px; height: 300px; background: `+colourOK) {
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
