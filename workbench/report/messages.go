package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DiagramEventsPerWindow is how many journal events one SVG of the
// Lamport diagram draws: about a second of a busy 25-node broadcast
// test, enough to follow a message through several hops, few enough
// for a browser to show at full size.
const DiagramEventsPerWindow = 1000

// The Lamport diagram's geometry, in pixels.
const (
	laneWidth       = 72  // each lane's width: room for its header and a short label
	timeGutter      = 70  // room on the left for the time of each header row
	diagramStep     = 16  // vertical distance between journal events
	diagramTop      = 96  // room for the title, the key, and the first header row
	labelEvery      = 40  // lane headers repeat every this many steps
	labelRunes      = 40  // arrow labels are cut to this many characters
	runeWidth       = 6   // about the width of a label's character
	stubLength      = 56  // room right of the last lane for messages to nodes that do not exist
	faultMargin     = 20  // room on the right for the partitions' names
	minDiagramWidth = 720 // wide enough for the title and the key
	clientsLane     = "clients"
	headerHeight    = 18
)

// Arrow colours, as in Maelstrom.
const (
	colourError  = "#FF1E90" // a reply whose body has "type": "error"
	colourClient = "#81BFFC" // traffic to or from a client
	colourServer = "#000000" // traffic among servers and services
	colourDrop   = "#D62728" // a message that never arrived
)

// MessageSlice describes one window of the Lamport diagram: an SVG file
// drawing journal events [First, End) of Total.
type MessageSlice struct {
	File              string
	First, End, Total int
	From, To          int64 // times of the window's first and last events, ns since the network started
	// Offset is when the history's clock started, ns since the network
	// started (see DiagramNotes): the window shows times on the
	// history's clock.
	Offset int64
}

// Label describes the window for a link: its events and its time span,
// on the history's clock.
func (m MessageSlice) Label() string {
	if m.Total == 0 {
		return "(no network events)"
	}
	return fmt.Sprintf("events %d–%d of %d, %s – %s", m.First+1, m.End, m.Total, seconds(m.From-m.Offset), seconds(m.To-m.Offset))
}

// MessageWindows splits a journal of n events into the windows that
// WriteMessagesWindow draws, named messages.svg, messages-001.svg,
// ...; an empty journal has one empty window.
func MessageWindows(entries []JournalEntry) []MessageSlice {
	n := len(entries)
	count := max(1, (n+DiagramEventsPerWindow-1)/DiagramEventsPerWindow)
	out := make([]MessageSlice, count)
	for i := range out {
		first := i * DiagramEventsPerWindow
		end := min(first+DiagramEventsPerWindow, n)
		out[i] = MessageSlice{File: windowFile(i), First: first, End: end, Total: n}
		if end > first {
			out[i].From, out[i].To = entries[first].Time, entries[end-1].Time
		}
	}
	return out
}

// WriteMessagesSVG draws the first window of the journal (see
// WriteMessagesWindow).
func WriteMessagesSVG(w io.Writer, entries []JournalEntry, nodeOrder []string, notes DiagramNotes) error {
	return WriteMessagesWindow(w, entries, nodeOrder, notes, MessageWindows(entries)[0])
}

// WriteMessagesWindow draws journal events [win.First, win.End) as a
// Lamport diagram: one vertical lane per endpoint, time flowing down
// one step per journal event, and one arrow per message from the step
// it was sent to the step it arrived. Every client shares one lane,
// "clients", drawn first, and each arrow to or from a client names it;
// the servers follow in nodeOrder, then everything else (the services)
// by name. The lanes are those of the whole journal, so every window of
// a run has the same columns. Lane headers, with the time in seconds on
// the history's clock (negative before it started: the inits), repeat
// every few dozen steps.
//
// Arrows are pink for error replies, light blue for client traffic and
// black between servers; hovering over one shows the whole message. A
// message sent before the window and delivered in it starts at the top
// edge, dashed; one sent in it and delivered later runs dashed to the
// bottom edge.
//
// A message that never arrived is a red arrow (class "drop", its title
// saying why) from its sender at the step it was sent to its receiver's
// lane at the step it was dropped, where it ends in a ×, labelled with
// the reason: a partition, the node was down, still in flight when the
// test ended, the queue was full; one sent to a node that does not
// exist is a stub to the right edge. The notes' faults are shaded
// behind the arrows: each partition as a band across every
// lane, named by its sides, each kill or pause on its nodes' lanes.
func WriteMessagesWindow(w io.Writer, entries []JournalEntry, nodeOrder []string, notes DiagramNotes, win MessageSlice) error {
	d := newDiagram(entries, nodeOrder)
	d.faults, win.Offset = notes.Faults, notes.Offset
	return d.write(w, win)
}

// diagram is an in-memory journal ready to be drawn window by window:
// its lanes, and where each message was sent, delivered or dropped, so
// arrows crossing a window's edges can be drawn.
type diagram struct {
	entries                []JournalEntry
	lanes                  []string
	faults                 []DiagramFault
	sentAt, recvAt, dropAt map[int64]int // message id → journal index
}

func newDiagram(entries []JournalEntry, nodeOrder []string) *diagram {
	d := &diagram{
		entries: entries,
		lanes:   diagramLanes(entries, nodeOrder),
		sentAt:  make(map[int64]int, len(entries)/2),
		recvAt:  make(map[int64]int, len(entries)/2),
		dropAt:  map[int64]int{},
	}
	for i, e := range entries {
		at := d.sentAt
		switch {
		case e.Drop != "":
			at = d.dropAt
		case e.Recv:
			at = d.recvAt
		}
		if _, ok := at[e.ID]; !ok {
			at[e.ID] = i
		}
	}
	return d
}

func (d *diagram) write(w io.Writer, win MessageSlice) error {
	win.First = min(max(win.First, 0), len(d.entries))
	win.End = min(max(win.End, win.First), len(d.entries))
	v := newWindowView(win)
	v.lanes, v.faults = d.lanes, d.faults
	v.sentBefore = func(id int64) bool {
		i, ok := d.sentAt[id]
		return ok && i < win.First
	}
	for _, e := range d.entries[win.First:win.End] {
		v.shown = append(v.shown, shownOf(e))
		if e.Recv || e.Drop != "" {
			continue
		}
		if to, ok := d.recvAt[e.ID]; ok && to >= win.End {
			v.recvLater[e.ID] = true
		} else if to, ok := d.dropAt[e.ID]; ok && to >= win.End {
			v.dropLater[e.ID] = d.entries[to].Drop
		}
	}
	return v.write(w)
}

// shownEvent is a journal event as a window draws it: its body already
// reduced to what the arrow shows, so a window holds at most a few
// kilobytes per event whatever the bodies weigh.
type shownEvent struct {
	Recv      bool
	Drop      string
	Time, ID  int64
	Src, Dest string
	arrow     arrowText
}

func (e shownEvent) isSend() bool { return !e.Recv && e.Drop == "" }

func shownOf(e JournalEntry) shownEvent {
	return shownEvent{Recv: e.Recv, Drop: e.Drop, Time: e.Time, ID: e.ID, Src: e.Src, Dest: e.Dest, arrow: describeArrow(e)}
}

// windowView is everything drawing one window takes: its events, the
// run's lanes and faults, which messages delivered or dropped in it were
// sent before it, and which sent in it are delivered or dropped after
// it.
type windowView struct {
	win        MessageSlice
	lanes      []string
	faults     []DiagramFault
	shown      []shownEvent
	sentBefore func(id int64) bool
	recvLater  map[int64]bool
	dropLater  map[int64]string // message id → why it was dropped
}

func newWindowView(win MessageSlice) *windowView {
	return &windowView{win: win, recvLater: map[int64]bool{}, dropLater: map[int64]string{}}
}

// canvas is a window's geometry: where each lane and step is drawn.
type canvas struct {
	column     map[string]int
	lanesRight float64 // the right edge of the last lane
	width      int
	steps      int
	top        float64 // the top edge, where arrows from before the window start
	bottom     float64 // the bottom edge, where arrows to after it end
}

func newCanvas(lanes []string, steps int) canvas {
	c := canvas{column: make(map[string]int, len(lanes)), steps: steps}
	for i, n := range lanes {
		c.column[n] = i
	}
	c.lanesRight = float64(timeGutter + len(lanes)*laneWidth)
	c.width = max(int(c.lanesRight)+stubLength+faultMargin, minDiagramWidth)
	c.top, c.bottom = c.y(0)-diagramStep, c.y(steps)+diagramStep
	return c
}

func (c canvas) y(step int) float64 { return float64(diagramTop + step*diagramStep) }

func (c canvas) height() float64 { return c.y(c.steps) + 3*diagramStep }

func (c canvas) laneX(lane string) float64 {
	return timeGutter + (float64(c.column[lane])+0.5)*laneWidth
}

// x is the lane of an endpoint; ok is false for one that has none (a
// node that does not exist).
func (c canvas) x(endpoint string) (float64, bool) {
	if isClient(endpoint) {
		endpoint = clientsLane
	}
	if _, ok := c.column[endpoint]; !ok {
		return c.lanesRight + stubLength - 8, false
	}
	return c.laneX(endpoint), true
}

func (c canvas) xOf(endpoint string) float64 {
	x, _ := c.x(endpoint)
	return x
}

func (v *windowView) write(w io.Writer) error {
	c := newCanvas(v.lanes, len(v.shown))
	bw := bufio.NewWriter(w)
	label := escape(v.win.Label())
	fmt.Fprintf(bw, diagramHead, c.width, num(c.height()), c.width, num(c.height()), label, diagramScript)
	for _, colour := range []string{colourError, colourClient, colourServer} {
		fmt.Fprintf(bw, `<marker id="head%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>
`, colour[1:], colour)
	}
	bw.WriteString("</defs>\n")
	fmt.Fprintf(bw, `<text class="heading" x="8" y="16">Network messages, %s.</text>
<text x="8" y="32">Time flows down, in seconds since the test began (as in history.txt). Hover over an arrow for its message; click it to follow its value.</text>
<text x="8" y="47">Red ×: a message that never arrived, and why. Shaded: partitions (their sides named), nodes killed or paused.</text>
<text id="follow" x="8" y="63"></text>
`, label)
	bw.WriteString("<g>\n")
	v.writeFaults(bw, c, false)
	for _, n := range v.lanes {
		xl := c.laneX(n)
		fmt.Fprintf(bw, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ccc"/>
`, num(xl), num(c.top), num(xl), num(c.bottom))
	}
	bw.WriteString("</g>\n<g>\n")
	v.writeArrows(bw, c)
	bw.WriteString("</g>\n<g>\n")
	v.writeFaults(bw, c, true)
	bw.WriteString("</g>\n<g>\n")
	v.writeHeaders(bw, c)
	bw.WriteString("</g>\n</svg>\n")
	return bw.Flush()
}

// writeArrows draws every message of the window: each delivery and
// drop from where its message was sent (or the top edge), each send
// delivered or dropped after the window to the bottom edge.
func (v *windowView) writeArrows(bw *bufio.Writer, c canvas) {
	sentIn := make(map[int64]int, len(v.shown)/2) // message id → step it was sent at
	for i, e := range v.shown {
		if _, ok := sentIn[e.ID]; e.isSend() && !ok {
			sentIn[e.ID] = i
		}
	}
	before := func(id int64) bool { return v.sentBefore != nil && v.sentBefore(id) }
	for i, e := range v.shown {
		from, ok := sentIn[e.ID]
		switch {
		case e.isSend():
			if v.recvLater[e.ID] {
				writeArrow(bw, e, c, c.xOf(e.Src), c.y(i), c.xOf(e.Dest), c.bottom, true)
			} else if why, ok := v.dropLater[e.ID]; ok {
				e.Drop = why
				writeDrop(bw, e, c, c.y(i), c.bottom, true)
			}
		case e.Recv && ok && from <= i:
			writeArrow(bw, e, c, c.xOf(e.Src), c.y(from), c.xOf(e.Dest), c.y(i), false)
		case e.Recv && !ok && before(e.ID):
			writeArrow(bw, e, c, c.xOf(e.Src), c.top, c.xOf(e.Dest), c.y(i), true)
		case e.Drop != "" && ok && from <= i:
			writeDrop(bw, e, c, c.y(from), c.y(i), false)
		case e.Drop != "" && !ok && before(e.ID):
			writeDrop(bw, e, c, c.top, c.y(i), true)
		case e.Drop != "" && !ok:
			// Never sent (no such node, a closed client): lost at once.
			writeDrop(bw, e, c, c.y(i), c.y(i), false)
		}
		// Otherwise a delivery of a message sent before the journal
		// began (or after it was delivered): nothing to draw from.
	}
}

// writeHeaders draws the lanes' names, with the time, every labelEvery
// steps, over everything else.
func (v *windowView) writeHeaders(bw *bufio.Writer, c canvas) {
	for step := 0; step < max(c.steps, 1); step += labelEvery {
		yh := c.y(step) - diagramStep
		fmt.Fprintf(bw, `<g class="hdr"><rect x="0" y="%s" width="%d" height="%d"/>`, num(yh-headerHeight+4), c.width, headerHeight)
		if step < c.steps {
			fmt.Fprintf(bw, `<text class="t" x="%d" y="%s">%s</text>`, timeGutter-6, num(yh), seconds(v.shown[step].Time-v.win.Offset))
		}
		for _, n := range v.lanes {
			fmt.Fprintf(bw, `<text class="lane" x="%s" y="%s">%s</text>`, num(c.laneX(n)), num(yh), escape(cut(n, 10)))
		}
		bw.WriteString("</g>\n")
	}
}

// DiagramScript is the script every diagram carries, for following a
// value from arrow to arrow; `glomers serve` allows it by its hash in
// its Content-Security-Policy.
//
// Click an arrow to follow the first value its message carries (a
// broadcast's message, an echo's text, ...): every message of this
// window that carries it stays lit. Click on empty space to stop.
const diagramScript = `
document.addEventListener("click", function (ev) {
  var g = ev.target.closest ? ev.target.closest("g.msg") : null;
  var v = g ? (g.getAttribute("data-v") || "").trim().split(" ")[0] : "";
  var all = document.querySelectorAll("g.msg"), n = 0;
  for (var i = 0; i < all.length; i++) {
    var on = v !== "" && (all[i].getAttribute("data-v") || "").indexOf(" " + v + " ") >= 0;
    all[i].classList.toggle("hit", on);
    if (on) n++;
  }
  document.documentElement.classList.toggle("following", v !== "");
  document.getElementById("follow").textContent = v ? "Following " + v + ": " + n + " messages in this window; click on empty space to stop." : "";
});
`

// DiagramScriptHash is the CSP source expression ('sha256-…') of
// diagramScript.
var DiagramScriptHash = scriptHash(diagramScript)

func scriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

const diagramHead = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%s" viewBox="0 0 %d %s">
<title>Messages: %s</title>
<style>
svg { font-family: Helvetica, Arial, sans-serif; font-size: 11px; }
.lane { text-anchor: middle; font-weight: bold; font-size: 12px; }
.hdr rect { fill: #fff; fill-opacity: 0.9; }
.hdr .t { font-size: 11px; fill: #555; text-anchor: end; }
.msg text { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.msg:hover line { stroke-width: 4; }
.msg:hover text { font-weight: bold; }
.cont line { stroke-dasharray: 5 3; }
.heading { font-size: 13px; }
#follow { font-size: 13px; font-weight: bold; fill: #b4005a; }
.msg { cursor: pointer; }
.following .msg { opacity: 0.12; }
.following .msg.hit { opacity: 1; }
.msg.hit line { stroke-width: 4; }
.drop text { fill: #D62728; }
.fault.partition rect { fill: #F6C3C3; fill-opacity: 0.45; }
.fault.kill rect { fill: #777; fill-opacity: 0.3; }
.fault.pause rect { fill: #E0B000; fill-opacity: 0.3; }
.fault text { font-size: 11px; fill: #8B1A1A; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.fault.kill text, .fault.pause text { fill: #333; text-anchor: middle; }
</style>
<script><![CDATA[%s]]></script>
<defs>
`

// Bounds on what an arrow carries of its message, so that a window
// stays small whatever the bodies weigh.
const (
	titleRunes = 1000 // the hover text's body
	valueRunes = 40   // each value recorded for following
)

// arrowText is what one arrow shows of its message.
type arrowText struct {
	colour string
	label  string // drawn along the arrow
	values string // data-v: the values to follow, space-separated
	title  string // the hover text: the body, cut
}

// describeArrow reduces a journal event to what its arrow shows: a
// colour, a label, the values to follow and the body (cut to
// titleRunes, saying how long it was) as its title. A message to or
// from a client names the client in its label, since every client
// shares a lane.
func describeArrow(e JournalEntry) arrowText {
	body, typ := parseBody(e.Body)
	a := arrowText{colour: colourServer}
	switch {
	case typ == "error":
		a.colour = colourError
	case isClient(e.Src) || isClient(e.Dest):
		a.colour = colourClient
	}
	text := label(body, typ)
	switch {
	case isClient(e.Src):
		text = e.Src + ": " + text
	case isClient(e.Dest):
		text = "→" + e.Dest + ": " + text
	}
	a.label = cut(text, labelRunes)
	vals := bodyValues(body)
	for i, v := range vals {
		vals[i] = cut(v, valueRunes)
	}
	a.values = " " + strings.Join(vals, " ") + " "
	a.title = cutMarked(compactJSON(e.Body), titleRunes)
	return a
}

// cutMarked is cut with the full length said: "…(12345 bytes in all)".
func cutMarked(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	return cut(s, n) + fmt.Sprintf(" (%d bytes in all)", len(s))
}

// writeArrow draws one message from (x0, y0) to (x1, y1): a line with an
// arrowhead, a short label (see writeLabel), and the message, cut, as its
// title. cont marks an arrow cut by the window's edge.
func writeArrow(w *bufio.Writer, e shownEvent, c canvas, x0, y0, x1, y1 float64, cont bool) {
	class := "msg"
	if cont {
		class = "msg cont"
	}
	a := e.arrow
	fmt.Fprintf(w, `<g class="%s" data-v="%s"><title>%s → %s %s</title><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2" marker-end="url(#head%s)"/>`,
		class, escape(a.values), escape(e.Src), escape(e.Dest), escape(a.title),
		num(x0), num(y0), num(x1), num(y1), a.colour, a.colour[1:])
	writeLabel(w, a.label, x0, y0, x1, y1, float64(c.width), cont && !e.isSend())
	w.WriteString("</g>\n")
}

// writeLabel writes an arrow's label level, just above the row of the
// arrow's send (or, for an arrow from above the window, of its delivery
// or drop), starting just right of the arrow's left end and running
// right, moved left when it would pass the diagram's right edge
// (width). There is one event per step, so labels never sit on one
// another however the arrows cross, as the inits' do.
func writeLabel(w *bufio.Writer, text string, x0, y0, x1, y1, width float64, fromAbove bool) {
	y := y0
	if fromAbove {
		y = y1
	}
	long := float64(utf8.RuneCountInString(text) * runeWidth)
	x := max(min(min(x0, x1)+8, width-long-4), 2)
	fmt.Fprintf(w, `<text x="%s" y="%s">%s</text>`, num(x), num(y-3), escape(text))
}

// parseBody decodes a message body; body is nil when it is not a JSON
// object.
func parseBody(raw json.RawMessage) (body map[string]any, typ string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, ""
	}
	typ, _ = body["type"].(string)
	return body, typ
}

// label is the short description drawn on an arrow: the body's type and
// the rest of the body without its bookkeeping, or the text of an error.
func label(body map[string]any, typ string) string {
	var s string
	switch {
	case body == nil:
		s = "?"
	case typ == "error":
		text, _ := body["text"].(string)
		s = "error " + text
	default:
		rest := make(map[string]any, len(body))
		for k, v := range body {
			if k != "type" && k != "msg_id" && k != "in_reply_to" {
				rest[k] = v
			}
		}
		s = typ
		if len(rest) > 0 {
			s += " " + compactJSON(mustJSON(rest))
		}
	}
	return cut(s, labelRunes)
}

// maxValues bounds how many values of one message the diagram records
// for following; a read's reply can carry thousands.
const maxValues = 40

// bodyValues lists the scalar values a message carries, for following
// one through the diagram: numbers and strings, depth first with keys
// in order, without the type and the message ids, each once, at most
// maxValues of them. Whitespace inside a string becomes "·" so values
// stay space-separated.
func bodyValues(body map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(v any, top bool)
	walk = func(v any, top bool) {
		if len(out) >= maxValues {
			return
		}
		var atom string
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				if top && (k == "type" || k == "msg_id" || k == "in_reply_to") {
					continue
				}
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(x[k], false)
			}
			return
		case []any:
			for _, e := range x {
				walk(e, false)
			}
			return
		case json.Number:
			atom = x.String()
		case string:
			atom = strings.Join(strings.Fields(x), "·")
		default:
			return
		}
		if atom != "" && !seen[atom] {
			seen[atom] = true
			out = append(out, atom)
		}
	}
	if body != nil {
		walk(body, true)
	}
	return out
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("?")
	}
	return bytes.TrimSpace(buf.Bytes())
}

func compactJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// isClient reports whether an endpoint is a client, as Maelstrom
// decides: its id starts with "c".
func isClient(id string) bool { return strings.HasPrefix(id, "c") }

// diagramLanes lists the lanes of an in-memory journal's diagram, as
// lanesOf orders them.
func diagramLanes(entries []JournalEntry, nodeOrder []string) []string {
	clients := false
	endpoints := map[string]bool{}
	for _, e := range entries {
		for _, id := range laneEndpoints(e) {
			if isClient(id) {
				clients = true
			} else {
				endpoints[id] = true
			}
		}
	}
	return lanesOf(nodeOrder, clients, endpoints)
}

// num formats a coordinate compactly, to a hundredth of a pixel.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// escape makes text safe inside XML elements and attributes, replacing
// characters XML cannot hold.
func escape(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "?"
	}
	return b.String()
}
