package report

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Timeline geometry: one column per process, time flowing down.
const (
	timelineColWidth   = 110     // px per process column
	timelineMinHeight  = 16      // px: the shortest box, so every op can be hovered
	timelineMaxPixels  = 100_000 // px: the page is scaled to stay below this
	timelineTextRunes  = 40      // characters of text inside a box
	timelineValueRunes = 500     // characters of a value in a box's title
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

// timelineOp is one box of the timeline.
type timelineOp struct {
	Left, Top, Height int
	Class             string // ok, info, fail or pending: the box's colour
	Text              string // shown in the box
	Title             string // shown on hover
}

type timelineColumn struct {
	Left int
	Name string
}

type timelinePage struct {
	Width, Height int
	MsPerPixel    string
	Columns       []timelineColumn
	Ops           []timelineOp
	Total         int // operations in the history, drawn or not
}

// Truncated reports whether some operations are not drawn.
func (p timelinePage) Truncated() bool { return p.Total > len(p.Ops) }

var timelineTemplate = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Timeline</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; font-size: 11px; margin: 8px; }
.key span { display: inline-block; padding: 2px 6px; margin-right: 4px; }
.page { position: relative; margin-top: 30px; }
.col { position: absolute; top: -20px; width: {{.ColWidth}}px; text-align: center; font-weight: bold; }
.op { position: absolute; width: {{.BoxWidth}}px; overflow: hidden; white-space: nowrap;
      text-overflow: ellipsis; border-radius: 2px; padding: 1px 3px; box-sizing: border-box; }
.op:hover { outline: 1px solid #000; z-index: 1; }
.ok { background: {{.OK}}; } .info { background: {{.Info}}; } .fail { background: {{.Fail}}; } .pending { background: {{.Pending}}; }
</style>
</head>
<body>
<div class="key">
<span style="background: {{.OK}}">ok</span><span style="background: {{.Info}}">info</span><span style="background: {{.Fail}}">fail</span><span style="background: {{.Pending}}">no completion</span>
one pixel = {{.Page.MsPerPixel}} ms; hover over an operation for its details.
</div>
{{if .Page.Truncated}}<p class="truncation-warning">Showing only the first {{len .Page.Ops}} of {{.Page.Total}} operations in this history; <a href="history.txt">history.txt</a> has them all.</p>
{{end}}
<div class="page" style="width: {{.Page.Width}}px; height: {{.Page.Height}}px">
{{range .Page.Columns}}<div class="col" style="left: {{.Left}}px">{{.Name}}</div>
{{end}}{{range .Page.Ops}}<div class="op {{.Class}}" style="left:{{.Left}}px;top:{{.Top}}px;height:{{.Height}}px" title="{{.Title}}">{{.Text}}</div>
{{end}}</div>
</body>
</html>
`))

// WriteTimelineHTML writes a self-contained HTML page showing every
// operation as a box in its process's column, from its invocation to its
// completion: blue for ok, orange for info, pink for fail, grey when it
// never completed. Hovering over a box shows the op in full. All values
// are HTML-escaped.
func WriteTimelineHTML(w io.Writer, ops []history.Op) error {
	page, err := layoutTimeline(ops)
	if err != nil {
		return fmt.Errorf("report: timeline: %w", err)
	}
	data := map[string]any{
		"Page": page, "ColWidth": timelineColWidth, "BoxWidth": timelineColWidth - 4,
		"OK": colourOK, "Info": colourInfo, "Fail": colourFail, "Pending": colourPending,
	}
	if err := timelineTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("report: timeline: %w", err)
	}
	return nil
}

func layoutTimeline(ops []history.Op) (timelinePage, error) {
	var end int64
	var processes []int
	seen := map[int]bool{}
	for _, op := range ops {
		end = max(end, op.Time)
		if !seen[op.Process] {
			seen[op.Process] = true
			processes = append(processes, op.Process)
		}
	}
	// Clients in numeric order, the nemesis last.
	slices.SortFunc(processes, func(a, b int) int {
		switch {
		case a == history.NemesisProcess:
			return 1
		case b == history.NemesisProcess:
			return -1
		}
		return a - b
	})
	column := make(map[int]int, len(processes))
	page := timelinePage{}
	for i, p := range processes {
		column[p] = i
		name := fmt.Sprint(p)
		if p == history.NemesisProcess {
			name = "nemesis"
		}
		page.Columns = append(page.Columns, timelineColumn{Left: i * timelineColWidth, Name: name})
	}
	// One pixel per millisecond unless that makes the page too tall.
	nsPerPixel := float64(time.Millisecond)
	if float64(end)/nsPerPixel > timelineMaxPixels {
		nsPerPixel = float64(end) / timelineMaxPixels
	}
	page.MsPerPixel = fmt.Sprintf("%.3g", nsPerPixel/float64(time.Millisecond))
	page.Width = max(len(processes), 1) * timelineColWidth
	px := func(t int64) int { return int(float64(t) / nsPerPixel) }

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
		box.Left = column[inv.Process]*timelineColWidth + 2
		box.Top = px(inv.Time)
		stop := end
		if done != nil {
			stop = done.Time
		}
		box.Height = max(px(stop)-box.Top, timelineMinHeight)
		page.Height = max(page.Height, box.Top+box.Height)
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
	for _, p := range processes {
		if inv, ok := open[p]; ok {
			if err := add(inv, nil); err != nil {
				return page, err
			}
		}
	}
	return page, nil
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
