package txn

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"

	"github.com/glomers/glomers/workbench/checker/elle"
)

// Sizes of a cycle drawing, in SVG units.
const (
	boxW, boxH = 150.0, 46.0
	svgMargin  = 20.0
)

// edgeColor gives each relationship a colour and a dash pattern: the
// data dependencies solid (rw, the anti-dependency that usually makes
// the anomaly, in red), the orders of time and process dashed.
func edgeColor(r elle.Rel) (colour, dash string) {
	switch r {
	case elle.WW:
		return "#1f5fbf", ""
	case elle.WR:
		return "#2a8a3a", ""
	case elle.RW:
		return "#c0392b", ""
	case elle.Process:
		return "#7d3c98", "6 4"
	case elle.Realtime:
		return "#666666", "6 4"
	}
	return "#000000", "2 3"
}

// drawCycle returns a writer of a small SVG picture of a cycle: its
// transactions as boxes on a circle, in cycle order clockwise, the i-th
// box holding its label (T1, T2, ...) above boxes[i], and each edge an
// arrow labelled with its relationship and key.
func drawCycle(cc elle.CycleCase, boxes []string) func(w io.Writer) error {
	return func(out io.Writer) error {
		w := bufio.NewWriter(out)
		n := len(cc.Txns)
		// The circle's radius leaves room for an arrow and its label
		// between neighbouring boxes: a chord of boxW + 90 at least.
		r := 130.0
		if n > 2 {
			r = math.Max(r, (boxW+90)/(2*math.Sin(math.Pi/float64(n))))
		}
		cx, cy := svgMargin+r+boxW/2, svgMargin+30+r+boxH/2
		width, height := 2*cx, cy+r+boxH/2+svgMargin
		pos := make([][2]float64, n)
		for i := range pos {
			a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
			pos[i] = [2]float64{cx + r*math.Cos(a), cy + r*math.Sin(a)}
		}
		fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
			width, height, width, height)
		fmt.Fprintf(w, "<title>%s</title>\n", html.EscapeString(cc.Type+" cycle"))
		w.WriteString("<defs>")
		for _, rel := range []elle.Rel{elle.WW, elle.WR, elle.RW, elle.Process, elle.Realtime, 0} {
			c, _ := edgeColor(rel)
			fmt.Fprintf(w, `<marker id="arrow-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`,
				rel, c)
		}
		w.WriteString("</defs>\n")
		fmt.Fprintf(w, `<text x="%.0f" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`+"\n",
			width/2, html.EscapeString(cc.Type))
		for i, s := range cc.Steps {
			drawEdge(w, pos[i], pos[(i+1)%n], s, n)
		}
		for i := range cc.Txns {
			p := pos[i]
			who := ""
			if i < len(boxes) {
				who = boxes[i]
			}
			fmt.Fprintf(w, `<g><rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="6" fill="#fdfdf5" stroke="#333"/>`,
				p[0]-boxW/2, p[1]-boxH/2, boxW, boxH)
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`, p[0], p[1]-5, label(i))
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text></g>`+"\n", p[0], p[1]+12, html.EscapeString(who))
		}
		w.WriteString("</svg>\n")
		return w.Flush()
	}
}

// drawEdge draws the arrow from the box at a to the box at b, bowed to
// its left so that two opposite edges between the same boxes part.
func drawEdge(w *bufio.Writer, a, b [2]float64, s elle.Step, n int) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	d := math.Hypot(dx, dy)
	if d == 0 {
		return
	}
	bow := 0.18 * d
	if n == 2 {
		bow = 0.3 * d
	}
	// The control point lies off the middle, to the left of a → b.
	mx, my := (a[0]+b[0])/2, (a[1]+b[1])/2
	qx, qy := mx+dy/d*bow, my-dx/d*bow
	from := boxExit(a, qx, qy)
	to := boxExit(b, qx, qy)
	c, dash := edgeColor(s.Rel)
	dashAttr := ""
	if dash != "" {
		dashAttr = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(w, `<path class="edge" d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="2"%s marker-end="url(#arrow-%s)"/>`+"\n",
		from[0], from[1], qx, qy, to[0], to[1], c, dashAttr, s.Rel)
	// The label sits at the curve's middle, (a + 2q + b)/4.
	lx, ly := (from[0]+2*qx+to[0])/4, (from[1]+2*qy+to[1])/4
	text := html.EscapeString(edgeTag(s))
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" stroke="white" stroke-width="3" paint-order="stroke">%s</text>`+"\n",
		lx, ly+4, c, text)
}

// boxExit is where the line from the centre p of a box towards (qx, qy)
// leaves the box.
func boxExit(p [2]float64, qx, qy float64) [2]float64 {
	dx, dy := qx-p[0], qy-p[1]
	t := math.Inf(1)
	if dx != 0 {
		t = math.Min(t, (boxW/2+2)/math.Abs(dx))
	}
	if dy != 0 {
		t = math.Min(t, (boxH/2+2)/math.Abs(dy))
	}
	if math.IsInf(t, 1) || t > 1 {
		return p
	}
	return [2]float64{p[0] + dx*t, p[1] + dy*t}
}
