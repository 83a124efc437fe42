package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MaxDiagramEvents is how many journal events messages.svg draws at most;
// a browser struggles with more, and the start of a run is usually where
// a protocol goes wrong.
const MaxDiagramEvents = 10000

// The Lamport diagram's geometry, in pixels.
const (
	diagramWidth = 1200 // the endpoints share this width
	diagramStep  = 20   // vertical distance between journal events
	diagramTop   = 40   // room for the endpoint names above the first event
	labelEvery   = 50   // endpoint names repeat every this many steps
	labelRunes   = 48   // arrow labels are cut to this many characters
)

// Arrow colours, as in Maelstrom.
const (
	colourError  = "#FF1E90" // a reply whose body has "type": "error"
	colourClient = "#81BFFC" // traffic to or from a client
	colourServer = "#000000" // traffic among servers and services
)

// WriteMessagesSVG draws the journal as a Lamport diagram: one vertical
// line per endpoint, time flowing down one step per journal event, and
// one arrow per delivered message from the step it was sent to the step
// it arrived. Endpoints are ordered clients first (c0, c1, ... c10,
// numerically), then the servers in nodeOrder, then everything else
// (the services) by name. Arrows are pink for error replies, light blue
// for client traffic and black between servers; hovering over one shows
// the whole message. Messages that were sent but never delivered (lost
// to a partition) have no arrow. Only the first MaxDiagramEvents events
// are drawn, with a note saying how many were left out.
func WriteMessagesSVG(w io.Writer, entries []JournalEntry, nodeOrder []string) error {
	shown := entries
	if len(shown) > MaxDiagramEvents {
		shown = shown[:MaxDiagramEvents]
	}
	nodes := diagramNodes(shown, nodeOrder)
	column := make(map[string]int, len(nodes))
	for i, n := range nodes {
		column[n] = i
	}
	x := func(node string) float64 {
		return (float64(column[node]) + 0.5) * diagramWidth / float64(max(len(nodes), 1))
	}
	y := func(step int) float64 { return float64(diagramTop + step*diagramStep) }
	steps := len(shown)
	height := y(steps) + 2*diagramStep
	if len(entries) > len(shown) {
		height += 2 * diagramStep
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%s" viewBox="0 0 %d %s">
<style>
svg { font-family: Helvetica, Arial, sans-serif; font-size: 11px; }
.node { text-anchor: middle; }
.later { fill: #aaa; }
.msg text { text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.msg:hover line { stroke-width: 4; }
</style>
<defs>
`, diagramWidth, num(height), diagramWidth, num(height))
	for _, c := range []string{colourError, colourClient, colourServer} {
		fmt.Fprintf(bw, `<marker id="head%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>
`, c[1:], c)
	}
	bw.WriteString("</defs>\n")

	// Endpoint names, repeated down the diagram, and their lines.
	bw.WriteString("<g>\n")
	for step := 0; step < max(steps, 1); step += labelEvery {
		class := "node"
		if step > 0 {
			class = "node later"
		}
		for _, n := range nodes {
			fmt.Fprintf(bw, `<text class="%s" x="%s" y="%s">%s</text>
`, class, num(x(n)), num(y(step)-diagramStep/2), escape(n))
		}
	}
	for _, n := range nodes {
		fmt.Fprintf(bw, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ccc"/>
`, num(x(n)), num(y(0)), num(x(n)), num(y(steps)))
	}
	bw.WriteString("</g>\n<g>\n")

	sent := make(map[int64]int, len(shown)/2) // message id → step it was sent
	for step, e := range shown {
		if !e.Recv {
			sent[e.ID] = step
			continue
		}
		from, ok := sent[e.ID]
		if !ok {
			continue // sent before the journal began; nothing to draw from
		}
		writeArrow(bw, e, x(e.Src), y(from), x(e.Dest), y(step))
	}
	bw.WriteString("</g>\n")

	if len(entries) > len(shown) {
		yLine := y(steps) + diagramStep
		fmt.Fprintf(bw, `<g class="truncated"><line x1="30" y1="%s" x2="%d" y2="%s" stroke="#D96918"/>
<text x="%d" y="%s" fill="#D96918" text-anchor="middle">%d later network events not shown</text></g>
`, num(yLine), diagramWidth-30, num(yLine), diagramWidth/2, num(yLine+diagramStep), len(entries)-len(shown))
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// writeArrow draws one message from (x0, y0) to (x1, y1): a line with an
// arrowhead, a short label along it, and the full message as its title.
func writeArrow(w *bufio.Writer, e JournalEntry, x0, y0, x1, y1 float64) {
	body, typ := parseBody(e.Body)
	colour := colourServer
	switch {
	case typ == "error":
		colour = colourError
	case isClient(e.Src) || isClient(e.Dest):
		colour = colourClient
	}
	// The label reads along the arrow, turned the right way up.
	angle := math.Atan2(y1-y0, x1-x0) * 180 / math.Pi
	if angle > 90 || angle < -90 {
		angle -= 180
	}
	fmt.Fprintf(w, `<g class="msg"><title>%s → %s %s</title><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2" marker-end="url(#head%s)"/><text transform="translate(%s %s) rotate(%s)" y="-4">%s</text></g>
`,
		escape(e.Src), escape(e.Dest), escape(compactJSON(e.Body)),
		num(x0), num(y0), num(x1), num(y1), colour, colour[1:],
		num((x0+x1)/2), num((y0+y1)/2), num(angle), escape(label(body, typ)))
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

// diagramNodes lists the endpoints to draw, in column order.
func diagramNodes(entries []JournalEntry, nodeOrder []string) []string {
	seen := map[string]bool{}
	var clients, others []string
	add := func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		if isClient(id) {
			clients = append(clients, id)
		} else {
			others = append(others, id)
		}
	}
	for _, n := range nodeOrder {
		add(n)
	}
	for _, e := range entries {
		add(e.Src)
		add(e.Dest)
	}
	slices.SortStableFunc(clients, compareClients)
	rank := make(map[string]int, len(nodeOrder))
	for i, n := range nodeOrder {
		if _, ok := rank[n]; !ok {
			rank[n] = i
		}
	}
	slices.SortStableFunc(others, func(a, b string) int {
		ra, aServer := rank[a]
		rb, bServer := rank[b]
		switch {
		case aServer && bServer:
			return ra - rb
		case aServer:
			return -1
		case bServer:
			return 1
		}
		return strings.Compare(a, b)
	})
	return append(clients, others...)
}

// compareClients orders c2 before c10: by the number after the "c" when
// both have one, with unnumbered ids last by name.
func compareClients(a, b string) int {
	na, errA := strconv.ParseUint(a[1:], 10, 64)
	nb, errB := strconv.ParseUint(b[1:], 10, 64)
	switch {
	case errA == nil && errB == nil:
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
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
