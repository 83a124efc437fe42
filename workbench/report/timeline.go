package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
)

// Timeline geometry. Columns share timelineFitWidth, each between
// timelineColMin and timelineColMax wide; time flows down, scaled at
// first so that the whole run fits in timelineFitHeight, with zoom
// levels timelineZoomStep, timelineZoomStep², ... times that.
const (
	timelineColMax     = 110  // px per column, at most
	timelineColMin     = 44   // px per column, at least
	timelineFitWidth   = 1300 // px the columns share before they shrink
	timelineGutter     = 64   // px on the left for the time axis
	timelineFitHeight  = 760  // px: the whole run at the first zoom level
	timelineZoomLevels = 4    // fit, ×4, ×16, ×64
	timelineZoomStep   = 4
	timelineTickPixels = 60  // px at least between two ticks of the axis
	timelineTextRunes  = 40  // characters of text inside a box
	timelineValueRunes = 500 // characters of a value in a box's title
	// timelineMaxOps bounds the boxes drawn, as Jepsen's timeline does
	// (jepsen/checker/timeline.clj, op-limit): past it the page says how
	// many operations it leaves out, and history.txt has them all.
	timelineMaxOps = 10_000
)

// The colours of op outcomes, as in Jepsen's timeline.
const (
	colourOK      = "#6DB6FE"
	colourInfo    = "#FFAA26"
	colourFail    = "#FEB5DA"
	colourPending = "#DDDDDD"
)

// TimelineLayout says which node each client process talks to, so the
// timeline can group them: the nodes in order and the number of worker
// threads. Thread t talks to Nodes[t mod len(Nodes)] for the whole run
// and takes the processes t, t+Concurrency, ... (a process that crashes
// is replaced by the next), so process p talks to
// Nodes[(p mod Concurrency) mod len(Nodes)]. The zero layout gives one
// column per process.
type TimelineLayout struct {
	Nodes       []string `json:"nodes"`
	Concurrency int      `json:"concurrency"`
}

// timelineOp is one box of the timeline. T and D are its start and
// duration in milliseconds; the page's zoom level turns them into
// pixels.
type timelineOp struct {
	Left, Width int
	T, D        string
	Class       string // ok, info, fail or pending: the box's colour
	Text        string // shown in the box
	Title       string // shown on hover
}

// timelineColumn is one column: a worker thread (its processes one
// after another), or the nemesis.
type timelineColumn struct {
	Left, Width int
	Name, Title string
}

// timelineGroup heads the columns of one node (or the nemesis).
type timelineGroup struct {
	Left, Width int
	Name        string
}

// timelineSpan is a fault: shaded across every column (a partition) or
// across a node's group (a kill, a pause), named in the right margin.
type timelineSpan struct {
	Left, Width int
	T, D        string
	Class       string // partition, kill or pause
	Label       string
	Offset      int // px the label is pushed down, so labels that start together do not overlap
}

// timelineTick is a mark of the time axis, shown from zoom level Level on.
type timelineTick struct {
	T, Label string
	Level    int
}

type timelinePage struct {
	Width   int    // px: the gutter, the columns and the right margin
	Right   int    // px: where the columns end
	End     string // ms: the last op's time
	Fit     string // px per ms at the first zoom level
	Zoom    template.CSS
	Columns []timelineColumn
	Groups  []timelineGroup
	Ops     []timelineOp
	Faults  []timelineSpan
	Ticks   []timelineTick
	Total   int  // operations in the history, drawn or not
	Grouped bool // columns are threads under their nodes
}

// Truncated reports whether some operations are not drawn.
func (p timelinePage) Truncated() bool { return p.Total > len(p.Ops) }

// ZoomLevels lists the zoom levels for the page's controls: 1, 4, 16, ...
func (p timelinePage) ZoomLevels() []int {
	out := make([]int, timelineZoomLevels)
	for i := range out {
		out[i] = timelineZoom(i)
	}
	return out
}

func timelineZoom(level int) int {
	z := 1
	for range level {
		z *= timelineZoomStep
	}
	return z
}

var timelineTemplate = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Timeline</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; font-size: 11px; margin: 8px; }
.key span { display: inline-block; padding: 2px 6px; margin-right: 4px; }
.zoom { margin: 6px 0; } .zoom label { margin-right: 10px; }
.page { --k: {{.Page.Fit}}px; --minh: 3px; --text: transparent; position: relative; width: {{.Page.Width}}px; }
{{.Page.Zoom}}
.heads { position: sticky; top: 0; height: 34px; background: #fff; z-index: 3; border-bottom: 1px solid #999; }
.grp { position: absolute; top: 0; text-align: center; font-weight: bold; font-size: 12px; border-left: 1px solid #999; box-sizing: border-box; }
.col { position: absolute; top: 17px; text-align: center; color: #555; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.body { position: relative; margin-top: 10px; height: calc(var(--k) * {{.Page.End}} + 20px); }
.sep { position: absolute; top: 0; bottom: 0; border-left: 1px solid #ccc; }
.tk { position: absolute; left: 0; width: {{.Page.Right}}px; top: calc(var(--k) * var(--t)); border-top: 1px solid #eee; }
.tk span { position: absolute; left: 0; width: {{.Gutter}}px; padding-right: 6px; box-sizing: border-box; text-align: right; top: -7px; color: #555; }
.fault { position: absolute; top: calc(var(--k) * var(--t)); height: calc(var(--k) * var(--d)); }
.partition { background: rgba(214, 39, 40, 0.13); }
.kill { background: rgba(0, 0, 0, 0.14); }
.pause { background: rgba(224, 176, 0, 0.2); }
.fault span { position: absolute; left: var(--label); top: 0; white-space: nowrap; color: #8B1A1A; }
.op { position: absolute; top: calc(var(--k) * var(--t)); height: max(var(--minh), calc(var(--k) * var(--d)));
      overflow: hidden; white-space: nowrap; text-overflow: ellipsis; border-radius: 2px; padding: 0 3px; box-sizing: border-box; z-index: 1;
      color: var(--text); }
.op:hover { outline: 1px solid #000; z-index: 2; }
.ok { background: {{.OK}}; } .info { background: {{.Info}}; } .fail { background: {{.Fail}}; } .pending { background: {{.Pending}}; }
</style>
</head>
<body>
<div class="key">
<span style="background: {{.OK}}">ok</span><span style="background: {{.Info}}">info</span><span style="background: {{.Fail}}">fail</span><span style="background: {{.Pending}}">no completion</span>
<span class="partition">partition</span><span class="kill">killed</span><span class="pause">paused</span>
Columns are the client processes{{if .Page.Grouped}} (a thread's, one after another), under the node they talk to{{end}}; hover over an operation for its details.
</div>
{{range $i, $z := .Page.ZoomLevels}}<input type="radio" name="zoom" id="z{{$i}}"{{if eq $i 0}} checked{{end}}><label for="z{{$i}}">{{if eq $i 0}}whole run{{else}}×{{$z}}{{end}}</label>
{{end}}
{{if .Page.Truncated}}<p class="truncation-warning">Showing only the first {{len .Page.Ops}} of {{.Page.Total}} operations in this history; <a href="history.txt">history.txt</a> has them all.</p>
{{end}}
<div class="page">
<div class="heads">
{{range .Page.Groups}}<div class="grp" style="left: {{.Left}}px; width: {{.Width}}px">{{.Name}}</div>
{{end}}{{range .Page.Columns}}<div class="col" style="left: {{.Left}}px; width: {{.Width}}px" title="{{.Title}}">{{.Name}}</div>
{{end}}</div>
<div class="body">
{{range .Page.Ticks}}<div class="tk l{{.Level}}" style="--t: {{.T}}"><span>{{.Label}}</span></div>
{{end}}{{range .Page.Groups}}<div class="sep" style="left: {{.Left}}px"></div>
{{end}}{{range .Page.Faults}}<div class="fault {{.Class}}" style="left: {{.Left}}px; width: {{.Width}}px; --t: {{.T}}; --d: {{.D}}; --label: calc({{$.Page.Right}}px - {{.Left}}px + 8px)" title="{{.Label}}"><span style="top: {{.Offset}}px">{{.Label}}</span></div>
{{end}}{{range .Page.Ops}}<div class="op {{.Class}}" style="left: {{.Left}}px; width: {{.Width}}px; --t: {{.T}}; --d: {{.D}}" title="{{.Title}}">{{.Text}}</div>
{{end}}</div>
</div>
</body>
</html>
`))

// WriteTimelineHTML writes a self-contained HTML page (no script) showing
// every operation as a box from its invocation to its completion: blue
// for ok, orange for info, pink for fail, grey when it never completed.
// Columns are worker threads, grouped under the node they talk to (see
// TimelineLayout), the nemesis last; a time axis runs down the left; the
// nemesis's faults are shaded, a partition across every column and a
// kill or pause across its node's, and named in the right margin. The
// whole run fits on a screen at first; radio buttons zoom in (pure CSS).
// Hovering over a box shows the op in full. All values are
// HTML-escaped.
func WriteTimelineHTML(w io.Writer, ops []history.Op, layout TimelineLayout) error {
	page, err := layoutTimeline(ops, layout)
	if err != nil {
		return fmt.Errorf("report: timeline: %w", err)
	}
	data := map[string]any{
		"Page": page, "Gutter": timelineGutter,
		"OK": colourOK, "Info": colourInfo, "Fail": colourFail, "Pending": colourPending,
	}
	if err := timelineTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("report: timeline: %w", err)
	}
	return nil
}

func layoutTimeline(ops []history.Op, layout TimelineLayout) (timelinePage, error) {
	var end int64
	for _, op := range ops {
		end = max(end, op.Time)
	}
	page := timelinePage{End: ms(end)}
	fit := float64(timelineFitHeight) / max(float64(end)/1e6, 1)
	page.Fit = strconv.FormatFloat(fit, 'g', 4, 64)
	page.Zoom, page.Ticks = timelineZoomCSS(fit), timelineTicks(end, fit)
	col := timelineColumns(ops, layout, &page)
	page.Faults = timelineFaults(ops, page, end)

	open := map[int]history.Op{} // process → its invocation in flight
	add := func(inv history.Op, done *history.Op) error {
		page.Total++
		if len(page.Ops) >= timelineMaxOps {
			return nil
		}
		box, err := timelineBox(inv, done)
		if err != nil {
			return err
		}
		c := page.Columns[col(inv.Process)]
		box.Left, box.Width = c.Left+2, c.Width-4
		stop := end
		if done != nil {
			stop = done.Time
		}
		box.T, box.D = ms(inv.Time), ms(stop-inv.Time)
		page.Ops = append(page.Ops, box)
		return nil
	}
	for _, op := range ops {
		_, busy := open[op.Process]
		// Jepsen records a nemesis op's invocation as :info too, so for
		// the nemesis an op with nothing in flight is the invocation.
		nemesisInvoke := op.Process == history.NemesisProcess && !busy
		if op.Type == history.Invoke || nemesisInvoke {
			if prev, ok := open[op.Process]; ok {
				// A process invoked again without completing: show the
				// first as never completed.
				if err := add(prev, nil); err != nil {
					return page, err
				}
			}
			open[op.Process] = op
			continue
		}
		inv, ok := open[op.Process]
		if !ok {
			inv = op // a completion with no invocation: draw it alone
		}
		delete(open, op.Process)
		done := op
		if err := add(inv, &done); err != nil {
			return page, err
		}
	}
	for _, op := range ops { // what is still in flight, by first appearance
		if inv, ok := open[op.Process]; ok {
			delete(open, op.Process)
			if err := add(inv, nil); err != nil {
				return page, err
			}
		}
	}
	return page, nil
}

// ms renders a time in nanoseconds as milliseconds for the page's CSS.
func ms(ns int64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', -1, 64) }

// timelineColumns lays out the columns and their groups in page and
// returns where each process goes. With a layout, a column is a worker
// thread and a group a node, in the layout's order; without, a column
// is a process, all under one group. The nemesis comes last.
func timelineColumns(ops []history.Op, layout TimelineLayout, page *timelinePage) func(process int) int {
	grouped := layout.Concurrency > 0 && len(layout.Nodes) > 0
	page.Grouped = grouped
	key := func(p int) int { // the nemesis (process -1) keeps a column of its own
		if grouped && p >= 0 {
			return p % layout.Concurrency
		}
		return p
	}
	group := func(k int) int { // the node's index, or 0
		if grouped && k >= 0 {
			return k % len(layout.Nodes)
		}
		return 0
	}
	processes := map[int][]int{} // column key → its processes, in order of appearance
	var keys []int
	for _, op := range ops {
		k := key(op.Process)
		if _, ok := processes[k]; !ok {
			keys = append(keys, k)
		}
		if ps := processes[k]; !slices.Contains(ps, op.Process) {
			processes[k] = append(ps, op.Process)
		}
	}
	// By node, then thread; the nemesis last.
	nemesisLast := func(k int) bool { return k == history.NemesisProcess }
	slices.SortFunc(keys, func(a, b int) int {
		if nemesisLast(a) != nemesisLast(b) {
			if nemesisLast(a) {
				return 1
			}
			return -1
		}
		if ga, gb := group(a), group(b); ga != gb {
			return ga - gb
		}
		return a - b
	})
	width := min(max(timelineFitWidth/max(len(keys), 1), timelineColMin), timelineColMax)
	index := map[int]int{}
	for i, k := range keys {
		index[k] = i
		left := timelineGutter + i*width
		c := timelineColumn{Left: left, Width: width}
		name := "processes"
		switch {
		case nemesisLast(k):
			name, c.Name, c.Title = "nemesis", "", "the nemesis"
		case grouped:
			name = layout.Nodes[group(k)]
			c.Name, c.Title = joinInts(processes[k]), fmt.Sprintf("thread %d, on %s: processes %s", k, name, joinInts(processes[k]))
		default:
			c.Name, c.Title = fmt.Sprint(k), fmt.Sprintf("process %d", k)
		}
		page.Columns = append(page.Columns, c)
		if n := len(page.Groups); n > 0 && page.Groups[n-1].Name == name {
			page.Groups[n-1].Width += width
		} else {
			page.Groups = append(page.Groups, timelineGroup{Left: left, Width: width, Name: name})
		}
	}
	page.Right = timelineGutter + len(keys)*width
	page.Width = page.Right + 320
	return func(p int) int { return index[key(p)] }
}

// joinInts renders process ids for a column's head: "0 5 10".
func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, " ")
}

// timelineFaults shades the history's faults (see explain.FaultsOf): a
// partition across every client column, a kill or pause across the
// columns of its nodes (all of them when the layout does not say which
// columns are whose); a fault nothing ended lasts to the end.
func timelineFaults(ops []history.Op, page timelinePage, end int64) []timelineSpan {
	var out []timelineSpan
	for i, f := range explain.FaultsOf(ops) {
		stop := f.End
		if stop < 0 {
			stop = end
		}
		span := timelineSpan{Left: timelineGutter, Width: page.Right - timelineGutter, Class: f.Kind,
			T: ms(f.Start), D: ms(max(stop-f.Start, 0)), Label: f.String(), Offset: (i % 3) * 14}
		if f.Kind == nemesis.FaultPartition {
			span.Label = partitionName(explain.Sides(f.Grudge)) + ", " + f.Window()
			out = append(out, span)
			continue
		}
		placed := false
		for _, g := range page.Groups {
			if slices.Contains(f.Nodes, g.Name) {
				s := span
				s.Left, s.Width = g.Left, g.Width
				out, placed = append(out, s), true
			}
		}
		if !placed {
			out = append(out, span)
		}
	}
	return out
}

// timelineZoomCSS is the style of each zoom level: its scale, the
// shortest box (tall enough to hover and read once zoomed in; at the
// first level the boxes' text is hidden, too small to read) and its
// ticks.
func timelineZoomCSS(fit float64) template.CSS {
	var b strings.Builder
	for level := range timelineZoomLevels {
		if level > 0 {
			fmt.Fprintf(&b, ".tk.l%d { display: none; }\n", level)
			fmt.Fprintf(&b, "#z%d:checked ~ .page { --k: %spx; --minh: %dpx; --text: #000; }\n",
				level, strconv.FormatFloat(fit*float64(timelineZoom(level)), 'g', 4, 64), min(3*timelineZoom(level), 16))
		}
		for shown := 1; shown <= level; shown++ {
			fmt.Fprintf(&b, "#z%d:checked ~ .page .tk.l%d { display: block; }\n", level, shown)
		}
	}
	return template.CSS(b.String())
}

// timelineTicks marks the time axis: at each zoom level, ticks a round
// number of seconds apart and at least timelineTickPixels apart; each
// tick belongs to the first level that shows it.
func timelineTicks(end int64, fit float64) []timelineTick {
	steps := make([]int64, timelineZoomLevels)
	for level := range steps {
		pxPerNs := fit * float64(timelineZoom(level)) / 1e6
		steps[level] = max(int64(math.Round(niceStep(timelineTickPixels/pxPerNs))), int64(time.Microsecond))
	}
	finest := steps[len(steps)-1]
	var out []timelineTick
	for t := int64(0); t <= end; t += finest {
		level := 0
		for level < len(steps)-1 && t%steps[level] != 0 {
			level++
		}
		out = append(out, timelineTick{T: ms(t), Label: tickLabel(t, steps[level]), Level: level})
	}
	return out
}

// tickLabel renders a tick's time in seconds with as many decimals as
// its level's step needs: "2 s", "2.5 s", "2.25 s".
func tickLabel(t, step int64) string {
	decimals := 0
	for unit := int64(time.Second); unit > step && decimals < 6; unit /= 10 {
		decimals++
	}
	return strconv.FormatFloat(float64(t)/1e9, 'f', decimals, 64) + " s"
}

// timelineBox fills in the colour and texts of one op's box.
func timelineBox(inv history.Op, done *history.Op) (timelineOp, error) {
	// Values are cut short: a broadcast read can hold thousands of
	// numbers, and the page holds every op twice (box and title).
	value := func(v any) (string, error) {
		b, err := edn.Marshal(v)
		return cut(string(b), timelineValueRunes), err
	}
	iv, err := value(inv.Value)
	if err != nil {
		return timelineOp{}, fmt.Errorf("op %d: %w", inv.Index, err)
	}
	box := timelineOp{Class: "pending", Text: cut(inv.F+" "+iv, timelineTextRunes)}
	title := fmt.Sprintf("process %s\n:f %s\ninvoked at %s with %s", processName(inv.Process), inv.F, seconds(inv.Time), iv)
	if done != nil {
		dv, err := value(done.Value)
		if err != nil {
			return timelineOp{}, fmt.Errorf("op %d: %w", done.Index, err)
		}
		switch done.Type {
		case history.OK:
			box.Class = "ok"
		case history.Fail:
			box.Class = "fail"
		default:
			box.Class = "info"
		}
		box.Text = cut(fmt.Sprintf("%s %s → %s", inv.F, iv, dv), timelineTextRunes)
		title += fmt.Sprintf("\n:%s at %s (latency %s) with %s", done.Type, seconds(done.Time), time.Duration(done.Time-inv.Time), dv)
		if done.Error != nil {
			ev, err := value(done.Error)
			if err != nil {
				return timelineOp{}, fmt.Errorf("op %d: %w", done.Index, err)
			}
			title += "\n:error " + ev
		}
		if done.Exception != "" {
			title += "\n:exception " + done.Exception + ": " + done.ExceptionMessage
		}
	} else {
		title += "\nnever completed"
	}
	box.Title = title
	return box, nil
}

func processName(p int) string {
	if p == history.NemesisProcess {
		return ":nemesis"
	}
	return fmt.Sprint(p)
}

func seconds(ns int64) string { return fmt.Sprintf("%.3f s", float64(ns)/1e9) }

// cut shortens s to at most n runes, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
