package report

import (
	"bufio"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
)

// DiagramFault is a nemesis fault as the Lamport diagram shades it, on
// the journal's clock.
type DiagramFault struct {
	// Kind is nemesis.FaultPartition, FaultKill or FaultPause.
	Kind string `json:"kind"`
	// Start and End are when the fault began and ended, nanoseconds
	// since the network started; End is -1 when nothing ended it.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Nodes are the nodes killed or paused.
	Nodes []string `json:"nodes,omitempty"`
	// Sides are a partition's groups of nodes, "n1 n2 | n3 n4 n5".
	Sides string `json:"sides,omitempty"`
}

// DiagramNotes is what the Lamport diagram takes from the history: the
// run's faults, to shade, and Offset, how long (ns) the network had been
// running when the history's clock started (the setup: node processes,
// init, the workload's setup), so that the diagram gives times on the
// history's clock, as history.txt, the timeline and the explanations
// do. The journal's own times count from the network's start.
type DiagramNotes struct {
	Faults []DiagramFault `json:"faults,omitempty"`
	Offset int64          `json:"offset,omitempty"`
}

// DiagramNotesOf reads the fault windows of a history (see
// explain.FaultsOf) onto the journal's clock; offset is how long the
// network had been running when the history's clock started.
func DiagramNotesOf(ops []history.Op, offset time.Duration) DiagramNotes {
	notes := DiagramNotes{Offset: offset.Nanoseconds()}
	for _, f := range explain.FaultsOf(ops) {
		d := DiagramFault{Kind: f.Kind, Start: f.Start + notes.Offset, End: -1, Nodes: f.Nodes}
		if f.End >= 0 {
			d.End = f.End + notes.Offset
		}
		if f.Kind == nemesis.FaultPartition {
			d.Sides = explain.Sides(f.Grudge)
		}
		notes.Faults = append(notes.Faults, d)
	}
	return notes
}

// span renders when the fault was in force, on the history's clock
// (offset as in DiagramNotes).
func (f DiagramFault) span(offset int64) string {
	if f.End < 0 {
		return seconds(f.Start-offset) + " – the end"
	}
	return seconds(f.Start-offset) + " – " + seconds(f.End-offset)
}

// describe is the fault's label: "partition n0 n1 | n2 n3 n4".
func (f DiagramFault) describe() string {
	switch f.Kind {
	case nemesis.FaultPartition:
		return partitionName(f.Sides)
	case nemesis.FaultKill:
		return strings.Join(f.Nodes, " ") + " killed"
	case nemesis.FaultPause:
		return strings.Join(f.Nodes, " ") + " paused"
	}
	return f.Kind
}

// partitionName names a partition by its sides: "partition n0 n1 | n2",
// or just "partition" when its sides are unknown. Sides of one group
// (explain.Sides joins two nodes when neither drops the other) mean a
// partition that cut no link, which the nemesis can draw for few nodes.
func partitionName(sides string) string {
	switch {
	case sides == "":
		return "partition"
	case !strings.Contains(sides, "|"):
		return "partition cutting no link (" + sides + ")"
	}
	return "partition " + sides
}

// laneLabel marks a killed or paused node's lane: "killed", "paused".
func (f DiagramFault) laneLabel() string {
	if f.Kind == nemesis.FaultPause {
		return "paused"
	}
	return "killed"
}

// laneEndpoints are the endpoints of a journal event that get a lane: a
// message to a node that does not exist gives it none.
func laneEndpoints(e JournalEntry) []string {
	if e.Drop == netsim.DropNoSuchNode {
		return []string{e.Src}
	}
	return []string{e.Src, e.Dest}
}

// writeDrop draws a message that never arrived: a red line from its
// sender at y0 toward its receiver's lane (or, for a node that does not
// exist, the right edge), ending at y1 in a × unless later marks a drop
// after the window (the line then runs dashed to the bottom edge). It
// carries the reason as its label and in its title, and the message's
// values, so following a value lights its drops too. A drop whose send
// is above the window (y0 at the top edge) is dashed as well.
func writeDrop(w *bufio.Writer, e shownEvent, c canvas, y0, y1 float64, cont bool) {
	x0 := c.xOf(e.Src)
	x1, hasLane := c.x(e.Dest)
	later := cont && y1 == c.bottom
	class := "msg drop"
	if cont {
		class += " cont"
	}
	why := explain.DropLabel(e.Drop)
	when := ""
	if later {
		when = ", after this window"
	}
	a := e.arrow
	fmt.Fprintf(w, `<g class="%s" data-v="%s" data-drop="%s"><title>%s → %s never arrived (%s%s): %s</title><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/>`,
		class, escape(a.values), escape(e.Drop), escape(e.Src), escape(e.Dest), escape(why), when, escape(a.title),
		num(x0), num(y0), num(x1), num(y1), colourDrop)
	if !later {
		const r = 5
		fmt.Fprintf(w, `<path d="M%s %sL%s %sM%s %sL%s %s" stroke="%s" stroke-width="2.5"/>`,
			num(x1-r), num(y1-r), num(x1+r), num(y1+r), num(x1-r), num(y1+r), num(x1+r), num(y1-r), colourDrop)
	}
	text := "× " + why
	if !hasLane {
		text = "× " + e.Dest + ": " + why
	}
	if a.label != "" {
		text += ": " + a.label
	}
	writeLabel(w, cut(text, labelRunes), x0, y0, x1, y1, float64(c.width), cont && !later)
	w.WriteString("</g>\n")
}

// writeFaults shades the faults in force during the window: a partition
// as a band across the whole width, a kill or a pause on its nodes'
// lanes. With labels, the fault's own layer is drawn twice: under the
// arrows without, over them with only its labels (see faultLabels).
func (v *windowView) writeFaults(bw *bufio.Writer, c canvas, labels bool) {
	for _, f := range v.faults {
		y0, y1 := v.faultY(c, f.Start), c.bottom
		if f.End >= 0 {
			y1 = v.faultY(c, f.End)
		}
		if y1 <= y0 {
			continue // not in force during the window
		}
		title := escape(f.describe() + ", " + f.span(v.win.Offset))
		fmt.Fprintf(bw, `<g class="fault %s"><title>%s</title>`, escape(f.Kind), title)
		rows := v.faultLabelRows(c, y0, y1)
		switch {
		case f.Kind == nemesis.FaultPartition && labels:
			// Down the right margin, where no arrow runs.
			for _, ly := range rows {
				fmt.Fprintf(bw, `<text transform="translate(%d %s) rotate(90)">%s</text>`, c.width-14, num(ly-8), title)
			}
		case f.Kind == nemesis.FaultPartition:
			fmt.Fprintf(bw, `<rect x="%d" y="%s" width="%d" height="%s"/>`, timeGutter, num(y0), c.width-timeGutter, num(y1-y0))
		default:
			for _, n := range f.Nodes {
				if _, ok := c.column[n]; !ok {
					continue
				}
				xl := c.laneX(n)
				if !labels {
					fmt.Fprintf(bw, `<rect x="%s" y="%s" width="%d" height="%s"/>`, num(xl-laneWidth/2+6), num(y0), laneWidth-12, num(y1-y0))
					continue
				}
				for _, ly := range rows {
					fmt.Fprintf(bw, `<text x="%s" y="%s">%s</text>`, num(xl), num(ly), escape(f.laneLabel()))
				}
			}
		}
		bw.WriteString("</g>\n")
	}
}

// faultLabelRows are where a fault's label goes: just inside its top
// edge, and again below each header row it spans.
func (v *windowView) faultLabelRows(c canvas, y0, y1 float64) []float64 {
	out := []float64{y0 + 12}
	for step := 0; step < c.steps; step += labelEvery {
		if ly := c.y(step) - diagramStep + 16; ly > y0+24 && ly < y1-4 {
			out = append(out, ly)
		}
	}
	return out
}

// faultY places a time of the journal's clock in the window: half a step
// above the first event at or after it, the top edge for a time before
// the window, the bottom edge for one after it.
func (v *windowView) faultY(c canvas, t int64) float64 {
	n := len(v.shown)
	if n == 0 {
		return c.top
	}
	i := sort.Search(n, func(i int) bool { return v.shown[i].Time >= t })
	switch {
	case i == 0:
		return c.top
	case i == n:
		return c.bottom
	}
	return c.y(i) - diagramStep/2
}
