package kafka

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// A picture of one key's log, for the examples that tell of that key:
// one column per offset seen, the messages sends were acknowledged with
// there (coloured by the node that acknowledged them) above the messages
// polls returned there. Offsets holding more than one message, and
// offsets acknowledged but never returned by a poll, stand out. The
// cells are filled in by the explanation's one pass over the history
// (kafkaIndex.scan), for at most kafkaMaxPictures keys.

// kafkaMaxPictures bounds the drawings one explanation writes.
const kafkaMaxPictures = 8

// kafkaMaxColumns bounds the offsets one drawing shows.
const kafkaMaxColumns = 40

// kcell is what the history shows at one offset of a drawn key.
type kcell struct {
	acks   []kmark // messages :ok sends were acknowledged with here
	polled []kmark // messages :ok polls returned here
}

// kmark is one message at an offset: for an acknowledgement the process
// that sent it, for polls how many returned it.
type kmark struct {
	msg  string
	proc int
	n    int
}

func (c *kcell) mark(l *[]kmark, msg string, proc int) {
	for i := range *l {
		if (*l)[i].msg == msg {
			(*l)[i].n++
			return
		}
	}
	*l = append(*l, kmark{msg: msg, proc: proc, n: 1})
}

// draw asks the index to gather key k's log for a picture, unless k is
// asked for already or the explanation draws as many keys as it may.
func (ix *kafkaIndex) draw(k string) {
	if ix.logs == nil {
		ix.logs = map[string]map[int64]*kcell{}
	}
	if _, ok := ix.logs[k]; ok || len(ix.logs) >= kafkaMaxPictures {
		return
	}
	ix.logs[k] = map[int64]*kcell{}
}

// cellAt returns the cell of offset off of a drawn log, adding it.
func cellAt(log map[int64]*kcell, off int64) *kcell {
	c := log[off]
	if c == nil {
		c = &kcell{}
		log[off] = c
	}
	return c
}

// picture writes the drawing of key k's log once and returns its file
// name; "" when the run stores no files, k was not drawn or writing
// failed.
func (x *kexplainer) picture(k string) string {
	if x.ev.WriteFile == nil {
		return ""
	}
	log, ok := x.idx.logs[k]
	if !ok || len(log) == 0 {
		return ""
	}
	if name, done := x.drawn[k]; done {
		return name
	}
	if x.drawn == nil {
		x.drawn = map[string]string{}
	}
	name := fmt.Sprintf("kafka-key-%d-%s.svg", len(x.drawn)+1, kafkaFileSafe(k))
	if err := x.ev.WriteFile(name, func(w io.Writer) error { return x.writeLog(w, k, log) }); err != nil {
		name = ""
	}
	x.drawn[k] = name
	return name
}

// kafkaFileSafe keeps the letters, digits, - and _ of a key, at most 24.
func kafkaFileSafe(k string) string {
	var b strings.Builder
	for _, r := range k {
		if b.Len() >= 24 {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "key"
	}
	return b.String()
}

// kafkaNodeColours colour the nodes that acknowledged sends, in node-list
// order.
var kafkaNodeColours = []string{"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f", "#bcbd22", "#e377c2"}

// writeLog draws key k's log as SVG: a heading, one column per offset
// (at most kafkaMaxColumns), and a legend of marks and node colours.
func (x *kexplainer) writeLog(w io.Writer, k string, log map[int64]*kcell) error {
	f := frameLog(log)
	everPolled := polledMessages(log)
	var b strings.Builder
	writeLogHeading(&b, f, k)
	for i, o := range f.offs {
		x.writeLogColumn(&b, f, i, o, log[o], everPolled)
	}
	x.writeLogLegend(&b, f)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// The left margin (row titles), the top of the first row and the height
// of one line of text in a drawing of a key's log.
const klogLeft, klogTop, klogLine = 170, 58, 16

// klogFrame is the layout of a drawing of a key's log.
type klogFrame struct {
	offs  []int64 // the offsets drawn, in order
	more  int     // offsets left out
	width int     // of one column
	rowH  int     // of each of the two rows
	W, H  int     // of the picture
}

// frameLog lays out a drawing of log: its first kafkaMaxColumns offsets,
// columns wide enough for the longest offset, rows tall enough for the
// most messages one cell holds.
func frameLog(log map[int64]*kcell) klogFrame {
	var f klogFrame
	f.offs = make([]int64, 0, len(log))
	for o := range log {
		f.offs = append(f.offs, o)
	}
	slices.Sort(f.offs)
	if len(f.offs) > kafkaMaxColumns {
		f.more = len(f.offs) - kafkaMaxColumns
		f.offs = f.offs[:kafkaMaxColumns]
	}
	f.width = 60
	rows := 1
	for _, o := range f.offs {
		f.width = max(f.width, 8*len(fmt.Sprint(o))+12)
		rows = max(rows, len(log[o].acks), len(log[o].polled))
	}
	f.rowH = rows*klogLine + 10
	f.W = klogLeft + f.width*len(f.offs) + 20
	f.H = klogTop + 2*f.rowH + 90
	return f
}

// polledMessages returns the messages some poll returned anywhere in log.
func polledMessages(log map[int64]*kcell) map[string]bool {
	everPolled := map[string]bool{}
	for _, c := range log {
		for _, p := range c.polled {
			everPolled[p.msg] = true
		}
	}
	return everPolled
}

// writeLogHeading opens the SVG: background, title and row titles.
func writeLogHeading(b *strings.Builder, f klogFrame, k string) {
	const top = klogTop
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", f.W, f.H)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", f.W, f.H)
	fmt.Fprintf(b, `<text x="10" y="20" font-size="14" font-weight="bold">key %s: what each offset held</text>`+"\n", html.EscapeString(fmt.Sprintf("%q", k)))
	fmt.Fprintf(b, `<text x="10" y="%d">offset</text>`+"\n", top-8)
	fmt.Fprintf(b, `<text x="10" y="%d">sends acknowledged</text>`+"\n", top+f.rowH/2+4)
	fmt.Fprintf(b, `<text x="10" y="%d">polls returned</text>`+"\n", top+f.rowH+f.rowH/2+4)
}

// writeLogColumn draws the i-th column, offset o holding c: the offset,
// the messages acknowledged there above those polled there, shaded
// orange when the offset holds more than one message and the polled
// cell red when sends were acknowledged there but no poll returned
// anything.
func (x *kexplainer) writeLogColumn(b *strings.Builder, f klogFrame, i int, o int64, c *kcell, everPolled map[string]bool) {
	const top, line = klogTop, klogLine
	width, rowH := f.width, f.rowH
	cx := klogLeft + i*width
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%d</text>`+"\n", cx+width/2, top-8, o)
	clash := len(c.acks) > 1 || len(c.polled) > 1 || (len(c.acks) == 1 && len(c.polled) == 1 && c.acks[0].msg != c.polled[0].msg)
	ackFill, pollFill := "#eef2f8", "#eef2f8"
	if clash {
		ackFill, pollFill = "#fdd9b5", "#fdd9b5"
	}
	if len(c.acks) > 0 && len(c.polled) == 0 {
		pollFill = "#f6c1c1"
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#999"/>`+"\n", cx, top, width, rowH, ackFill)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#999"/>`+"\n", cx, top+rowH, width, rowH, pollFill)
	for j, a := range c.acks {
		weight, lost, why := "normal", "", ""
		if !everPolled[a.msg] {
			weight, lost, why = "bold", ` <tspan fill="#c00">✗</tspan>`, ", never returned by any poll"
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="%s" font-weight="%s">%s%s<title>message %s, acknowledged to process %d (on %s)%s</title></text>`+"\n",
			cx+width/2, top+line+j*line, x.nodeColour(a.proc), weight, html.EscapeString(a.msg), lost,
			html.EscapeString(a.msg), a.proc, html.EscapeString(x.ev.NodeOf(a.proc)), why)
	}
	for j, p := range c.polled {
		label := p.msg
		if p.n > 1 {
			label = fmt.Sprintf("%s ×%d", p.msg, p.n)
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s<title>message %s, returned here by %d polls</title></text>`+"\n",
			cx+width/2, top+rowH+line+j*line, html.EscapeString(label), html.EscapeString(p.msg), p.n)
	}
	if len(c.polled) == 0 && len(c.acks) > 0 {
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="#c00">none</text>`+"\n", cx+width/2, top+rowH+line)
	}
}

// nodeColour is the colour of the node process proc ran on.
func (x *kexplainer) nodeColour(proc int) string {
	n := x.ev.NodeOf(proc)
	if i := slices.Index(x.ev.Nodes, n); i >= 0 {
		return kafkaNodeColours[i%len(kafkaNodeColours)]
	}
	return "#333"
}

// writeLogLegend writes, below the columns, how many offsets were left
// out, what the marks mean and each node's colour.
func (x *kexplainer) writeLogLegend(b *strings.Builder, f klogFrame) {
	y := klogTop + 2*f.rowH + 22
	if f.more > 0 {
		fmt.Fprintf(b, `<text x="10" y="%d">… and %d more offsets, not drawn</text>`+"\n", y, f.more)
		y += 18
	}
	fmt.Fprintf(b, `<text x="10" y="%d"><tspan fill="#c00">✗</tspan> acknowledged, never returned by any poll · <tspan fill="#c00">none</tspan>: no poll returned anything at that offset · orange: an offset holding more than one message</text>`+"\n", y)
	y += 18
	lx := 10
	fmt.Fprintf(b, `<text x="%d" y="%d">acknowledged by:</text>`+"\n", lx, y)
	lx += 110
	for i, n := range x.ev.Nodes {
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", lx, y, kafkaNodeColours[i%len(kafkaNodeColours)], html.EscapeString(n))
		lx += 8*len(n) + 16
		if lx > f.W-40 {
			break
		}
	}
}
