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
	laneWidth    = 72 // each lane's width: room for its header and a short label
	timeGutter   = 70 // room on the left for the time of each header row
	diagramStep  = 16 // vertical distance between journal events
	diagramTop   = 56 // room for the title and the first header row
	labelEvery   = 40 // lane headers repeat every this many steps
	labelRunes   = 40 // arrow labels are cut to this many characters
	clientsLane  = "clients"
	headerHeight = 18
)

// Arrow colours, as in Maelstrom.
const (
	colourError  = "#FF1E90" // a reply whose body has "type": "error"
	colourClient = "#81BFFC" // traffic to or from a client
	colourServer = "#000000" // traffic among servers and services
)

// MessageSlice describes one window of the Lamport diagram: an SVG file
// drawing journal events [First, End) of Total.
type MessageSlice struct {
	File              string
	First, End, Total int
	From, To          int64 // times of the window's first and last events, ns since the start
}

// Label describes the window for a link: its events and its time span.
func (m MessageSlice) Label() string {
	if m.Total == 0 {
		return "(no network events)"
	}
	return fmt.Sprintf("events %d–%d of %d, %s – %s", m.First+1, m.End, m.Total, seconds(m.From), seconds(m.To))
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
func WriteMessagesSVG(w io.Writer, entries []JournalEntry, nodeOrder []string) error {
	return WriteMessagesWindow(w, entries, nodeOrder, MessageWindows(entries)[0])
}

// WriteMessagesWindow draws journal events [win.First, win.End) as a
// Lamport diagram: one vertical lane per endpoint, time flowing down
// one step per journal event, and one arrow per delivered message from
// the step it was sent to the step it arrived. Every client shares one
// lane, "clients", drawn first, and each arrow to or from a client
// names it; the servers follow in nodeOrder, then everything else (the
// services) by name. The lanes are those of the whole journal, so every
// window of a run has the same columns. Lane headers, with the time in
// seconds since the test started, repeat every few dozen steps.
//
// Arrows are pink for error replies, light blue for client traffic and
// black between servers; hovering over one shows the whole message. A
// message sent before the window and delivered in it starts at the top
// edge, dashed; one sent in it and delivered later runs dashed to the
// bottom edge. Messages never delivered (lost to a partition) have no
// arrow.
func WriteMessagesWindow(w io.Writer, entries []JournalEntry, nodeOrder []string, win MessageSlice) error {
	return newDiagram(entries, nodeOrder).write(w, win)
}

// diagram is an in-memory journal ready to be drawn window by window:
// its lanes, and where each message was sent and delivered, so arrows
// crossing a window's edges can be drawn.
type diagram struct {
	entries        []JournalEntry
	lanes          []string
	sentAt, recvAt map[int64]int // message id → journal index
}

func newDiagram(entries []JournalEntry, nodeOrder []string) *diagram {
	d := &diagram{
		entries: entries,
		lanes:   diagramLanes(entries, nodeOrder),
		sentAt:  make(map[int64]int, len(entries)/2),
		recvAt:  make(map[int64]int, len(entries)/2),
	}
	for i, e := range entries {
		if e.Recv {
			if _, ok := d.recvAt[e.ID]; !ok {
				d.recvAt[e.ID] = i
			}
		} else if _, ok := d.sentAt[e.ID]; !ok {
			d.sentAt[e.ID] = i
		}
	}
	return d
}

func (d *diagram) write(w io.Writer, win MessageSlice) error {
	win.First = min(max(win.First, 0), len(d.entries))
	win.End = min(max(win.End, win.First), len(d.entries))
	v := windowView{
		win:   win,
		lanes: d.lanes,
		sentBefore: func(id int64) bool {
			i, ok := d.sentAt[id]
			return ok && i < win.First
		},
		recvLater: map[int64]bool{},
	}
	for _, e := range d.entries[win.First:win.End] {
		v.shown = append(v.shown, shownOf(e))
		if to, ok := d.recvAt[e.ID]; ok && !e.Recv && to >= win.End {
			v.recvLater[e.ID] = true
		}
	}
	return v.write(w)
}

// shownEvent is a journal event as a window draws it: its body already
// reduced to what the arrow shows, so a window holds at most a few
// kilobytes per event whatever the bodies weigh.
type shownEvent struct {
	Recv      bool
	Time, ID  int64
	Src, Dest string
	arrow     arrowText
}

func shownOf(e JournalEntry) shownEvent {
	return shownEvent{Recv: e.Recv, Time: e.Time, ID: e.ID, Src: e.Src, Dest: e.Dest, arrow: describeArrow(e)}
}

// windowView is everything drawing one window takes: its events, the
// run's lanes, which messages delivered in it were sent before it, and
// which sent in it are delivered after it.
type windowView struct {
	win        MessageSlice
	lanes      []string
	shown      []shownEvent
	sentBefore func(id int64) bool
	recvLater  map[int64]bool
}

func (v *windowView) write(w io.Writer) error {
	win, lanes, shown := v.win, v.lanes, v.shown
	column := make(map[string]int, len(lanes))
	for i, n := range lanes {
		column[n] = i
	}
	laneX := func(lane string) float64 {
		return timeGutter + (float64(column[lane])+0.5)*laneWidth
	}
	x := func(endpoint string) float64 {
		if isClient(endpoint) {
			return laneX(clientsLane)
		}
		return laneX(endpoint)
	}
	// Where each message sent in the window was sent, by step.
	sentIn := make(map[int64]int, len(shown)/2)
	for i, e := range shown {
		if _, ok := sentIn[e.ID]; !e.Recv && !ok {
			sentIn[e.ID] = i
		}
	}
	width := timeGutter + len(lanes)*laneWidth
	y := func(step int) float64 { return float64(diagramTop + step*diagramStep) }
	steps := len(shown)
	height := y(steps) + 3*diagramStep

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, diagramHead, width, num(height), width, num(height), escape(win.Label()), diagramScript)
	for _, c := range []string{colourError, colourClient, colourServer} {
		fmt.Fprintf(bw, `<marker id="head%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>
`, c[1:], c)
	}
	bw.WriteString("</defs>\n")
	fmt.Fprintf(bw, `<text class="heading" x="8" y="16">Network messages, %s. Time flows down; hover over an arrow for its message, click it to follow its value.</text>
<text id="follow" x="8" y="34"></text>
`, escape(win.Label()))

	// The lanes' lines, then the messages, then the headers on top.
	bw.WriteString("<g>\n")
	for _, n := range lanes {
		xl := laneX(n)
		fmt.Fprintf(bw, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ccc"/>
`, num(xl), num(y(0)-diagramStep), num(xl), num(y(steps)+diagramStep))
	}
	bw.WriteString("</g>\n<g>\n")
	top, bottom := y(0)-diagramStep, y(steps)+diagramStep
	for i, e := range shown {
		if e.Recv {
			from, ok := sentIn[e.ID]
			switch {
			case ok && from <= i:
				writeArrow(bw, e, x(e.Src), y(from), x(e.Dest), y(i), false)
			case !ok && v.sentBefore != nil && v.sentBefore(e.ID):
				writeArrow(bw, e, x(e.Src), top, x(e.Dest), y(i), true)
			}
			// Otherwise it was sent before the journal began (or after
			// it was delivered): nothing to draw from.
			continue
		}
		if v.recvLater[e.ID] {
			writeArrow(bw, e, x(e.Src), y(i), x(e.Dest), bottom, true)
		}
	}
	bw.WriteString("</g>\n<g>\n")
	for step := 0; step < max(steps, 1); step += labelEvery {
		yh := y(step) - diagramStep
		fmt.Fprintf(bw, `<g class="hdr"><rect x="0" y="%s" width="%d" height="%d"/>`, num(yh-headerHeight+4), width, headerHeight)
		if step < steps {
			fmt.Fprintf(bw, `<text class="t" x="%d" y="%s">%s</text>`, timeGutter-6, num(yh), seconds(shown[step].Time))
		}
		for _, n := range lanes {
			fmt.Fprintf(bw, `<text class="lane" x="%s" y="%s">%s</text>`, num(laneX(n)), num(yh), escape(cut(n, 10)))
		}
		bw.WriteString("</g>\n")
	}
	bw.WriteString("</g>\n")
	bw.WriteString("</svg>\n")
	return bw.Flush()
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
.msg text { text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.msg:hover line { stroke-width: 4; }
.msg:hover text { font-weight: bold; }
.cont line { stroke-dasharray: 5 3; }
.heading { font-size: 13px; }
#follow { font-size: 13px; font-weight: bold; fill: #b4005a; }
.msg { cursor: pointer; }
.following .msg { opacity: 0.12; }
.following .msg.hit { opacity: 1; }
.msg.hit line { stroke-width: 4; }
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
// arrowhead, a short label along it, and the message, cut, as its
// title. cont marks an arrow cut by the window's edge.
func writeArrow(w *bufio.Writer, e shownEvent, x0, y0, x1, y1 float64, cont bool) {
	class := "msg"
	if cont {
		class = "msg cont"
	}
	// The label reads along the arrow, turned the right way up.
	angle := math.Atan2(y1-y0, x1-x0) * 180 / math.Pi
	if angle > 90 || angle < -90 {
		angle -= 180
	}
	a := e.arrow
	fmt.Fprintf(w, `<g class="%s" data-v="%s"><title>%s → %s %s</title><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2" marker-end="url(#head%s)"/><text transform="translate(%s %s) rotate(%s)" y="-4">%s</text></g>
`,
		class, escape(a.values), escape(e.Src), escape(e.Dest), escape(a.title),
		num(x0), num(y0), num(x1), num(y1), a.colour, a.colour[1:],
		num((x0+x1)/2), num((y0+y1)/2), num(angle), escape(a.label))
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
		for _, id := range []string{e.Src, e.Dest} {
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
