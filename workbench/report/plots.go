package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
)

// The size of every plot.
const plotWidth, plotHeight = 10 * vg.Inch, 5 * vg.Inch

// The colours of op outcomes in plots, as in Jepsen's perf graphs, and
// of the recovery wait.
var (
	plotOK       = color.NRGBA{0x81, 0xBF, 0xFC, 0xff}
	plotInfo     = color.NRGBA{0xFF, 0xA4, 0x00, 0xff}
	plotFail     = color.NRGBA{0xFF, 0x1E, 0x90, 0xff}
	recoveryFill = color.NRGBA{0x2c, 0xa0, 0x2c, 0x1a}
)

// faultFills are the translucent band colours of the nemesis faults
// glomers knows; any other kind takes the next of otherFaultFills, in
// the order the kinds first appear.
var (
	faultFills = map[string]color.NRGBA{
		"partition": {0x00, 0x00, 0x00, 0x18},
		"kill":      {0xd6, 0x27, 0x28, 0x22},
		"pause":     {0x94, 0x67, 0xbd, 0x24},
	}
	otherFaultFills = []color.NRGBA{
		{0x8c, 0x56, 0x4b, 0x24}, {0x17, 0xbe, 0xcf, 0x24}, {0xbc, 0xbd, 0x22, 0x2c}, {0xe3, 0x77, 0xc2, 0x24},
	}
)

// plotQuantiles are the latency quantiles latency-quantiles.png draws.
var plotQuantiles = []float64{0.5, 0.95, 0.99, 1}

// FaultInterval is a stretch of a run during which one nemesis fault
// was in force, in nanoseconds since the start.
type FaultInterval struct {
	Kind     string // "partition", "kill", "pause", or X of a start-X/stop-X pair
	From, To int64
}

// faultOp tells which fault a nemesis operation :f begins or ends:
// start-X begins X and stop-X ends it (Maelstrom's start-partition and
// stop-partition); kill begins "kill", ended by start, and pause begins
// "pause", ended by resume, as Jepsen's combined nemesis names them
// (jepsen/nemesis/combined.clj, db-nemesis). ok is false for any other
// :f.
func faultOp(f string) (kind string, begins, ok bool) {
	switch f {
	case "kill":
		return "kill", true, true
	case "start":
		return "kill", false, true
	case "pause":
		return "pause", true, true
	case "resume":
		return "pause", false, true
	}
	if x, ok := strings.CutPrefix(f, "start-"); ok && x != "" {
		return x, true, true
	}
	if x, ok := strings.CutPrefix(f, "stop-"); ok && x != "" {
		return x, false, true
	}
	return "", false, false
}

// FaultIntervals returns the spans of the history during which a
// nemesis fault was in force, ordered by start (see faultOp for which
// operations begin and end which fault). Jepsen records a nemesis
// operation's invocation and completion both as :info, so they are told
// apart by order: of the entries with one :f, the first is an
// invocation, the next its completion, and so on. A span runs from the
// invocation of the operation that begins the fault to the completion
// of the one that ends it. An end with no fault in force, such as the
// final heal before the recovery wait, is ignored; a second beginning
// while the fault is in force extends it; a fault never ended lasts to
// the end of the history.
func FaultIntervals(ops []history.Op) []FaultInterval {
	var out []FaultInterval
	var end int64
	seen := map[string]int{}   // entries per :f so far
	open := map[string]int64{} // kind → the start of its span
	var kinds []string         // the kinds open, in order of opening
	for _, op := range ops {
		end = max(end, op.Time)
		if op.Process != history.NemesisProcess {
			continue
		}
		kind, begins, ok := faultOp(op.F)
		if !ok {
			continue
		}
		invocation := seen[op.F]%2 == 0
		seen[op.F]++
		_, isOpen := open[kind]
		switch {
		case begins && invocation && !isOpen:
			open[kind] = op.Time
			kinds = append(kinds, kind)
		case !begins && !invocation && isOpen:
			out = append(out, FaultInterval{kind, open[kind], op.Time})
			delete(open, kind)
			kinds = slices.DeleteFunc(kinds, func(k string) bool { return k == kind })
		}
	}
	for _, kind := range kinds {
		out = append(out, FaultInterval{kind, open[kind], end})
	}
	slices.SortStableFunc(out, func(a, b FaultInterval) int { return cmp.Compare(a.From, b.From) })
	return out
}

// latencyPoint is one completed client op.
type latencyPoint struct {
	f         string
	typ       history.Type
	invoke    float64 // seconds since the start
	done      float64 // seconds since the start
	latency   float64 // milliseconds
	latencyNs int64   // the same in nanoseconds, for checker.Quantile
	final     bool    // a final-phase operation
}

// WritePlots writes three PNG plots of the history's client operations
// into dir, with the given fault intervals (as from FaultIntervals)
// shaded, each kind of fault in its own colour named in the legend:
//
//   - latency-raw.png: every completed op at its invocation time against
//     its latency, coloured by outcome (ok blue, info orange, fail pink),
//     one marker shape per :f; the latency axis is logarithmic when
//     latencies span at least a factor of ten;
//   - latency-quantiles.png: the 0.5, 0.95, 0.99 and 1 quantiles of the
//     latency of ops invoked in each time bucket;
//   - rate.png: completions per second in each time bucket, one line per
//     :f and outcome.
//
// Time runs along the x axis in seconds since the test started. The
// recovery wait between the main phase's last operation and the final
// phase's first (final reads, say) is shaded green, and no line is drawn
// across it, nor across a time bucket in which no operation was
// invoked: nothing happened there that a line could show. Quantiles
// follow checker.Quantile, the rule of the results and the scoreboard.
// Tick labels carry no needless decimals.
//
// An empty history gives empty plots. The first error stops the work.
func WritePlots(dir string, ops []history.Op, faults []FaultInterval) error {
	points := latencyPoints(ops)
	var end float64
	for _, p := range points {
		end = max(end, p.done)
	}
	dt := bucketWidth(end)
	_, _, gap := phases(points, dt)
	shade := newBackdrop(faults, gap)
	for _, w := range []struct {
		name string
		make func([]latencyPoint, float64, backdrop) (*plot.Plot, error)
	}{
		{"latency-raw.png", rawLatencyPlot},
		{"latency-quantiles.png", quantilePlot},
		{"rate.png", ratePlot},
	} {
		p, err := w.make(points, dt, shade)
		if err != nil {
			return fmt.Errorf("report: %s: %w", w.name, err)
		}
		if err := savePlot(p, filepath.Join(dir, w.name)); err != nil {
			return fmt.Errorf("report: %s: %w", w.name, err)
		}
	}
	return nil
}

// latencyPoints lists the history's completed client operations.
func latencyPoints(ops []history.Op) []latencyPoint {
	var points []latencyPoint
	for _, p := range history.Pairs(ops) {
		if p.Complete == nil {
			continue
		}
		points = append(points, latencyPoint{
			f:         p.Invoke.F,
			typ:       p.Complete.Type,
			invoke:    float64(p.Invoke.Time) / 1e9,
			done:      float64(p.Complete.Time) / 1e9,
			latency:   float64(p.Complete.Time-p.Invoke.Time) / 1e6,
			latencyNs: p.Complete.Time - p.Invoke.Time,
			final:     p.Invoke.Final,
		})
	}
	return points
}

// savePlot starts the time axis when the test does, leaves room on the
// right for the legend, so it hides no data, and writes the plot.
func savePlot(p *plot.Plot, path string) error {
	p.X.Min = min(p.X.Min, 0)
	if p.X.Max > p.X.Min {
		p.X.Max += (p.X.Max - p.X.Min) / 5
	}
	return p.Save(plotWidth, plotHeight, path)
}

func newPlot(title, ylabel string, shade backdrop) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "Time since the test started (s)"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Legend.Top = true
	p.Add(shade)
	for _, kind := range shade.kinds {
		p.Legend.Add(kind, bandThumb{shade.fills[kind]})
	}
	if shade.recovery[1] > shade.recovery[0] {
		p.Legend.Add("recovery wait", bandThumb{recoveryFill})
	}
	return p
}

// phase is a stretch of the run drawn as one line: the main phase, or
// the final phase after the recovery wait. Its time buckets start at
// from and are dt wide, but the last ends at to, and one shorter than a
// quarter of dt is merged into the one before, so rates are counted
// over the time the phase really ran.
type phase struct {
	from, to float64
	edges    []float64 // bucket boundaries, from ... to
}

func newPhase(from, to, dt float64) phase {
	ph := phase{from: from, to: to, edges: []float64{from}}
	for e := from + dt; e < to; e += dt {
		ph.edges = append(ph.edges, e)
	}
	if n := len(ph.edges); n > 1 && to-ph.edges[n-1] < dt/4 {
		ph.edges = ph.edges[:n-1]
	}
	// A phase is at least one bucket wide: final reads that all complete
	// within milliseconds are a handful of operations, not a huge rate.
	ph.edges = append(ph.edges, max(to, from+dt))
	return ph
}

// bucket returns the index of the bucket holding time t, clamped to the
// phase.
func (ph phase) bucket(t float64) int {
	i := sort.SearchFloat64s(ph.edges, t) - 1
	if i < len(ph.edges)-1 && ph.edges[i+1] == t {
		i++ // t on a boundary opens the next bucket
	}
	return min(max(i, 0), len(ph.edges)-2)
}

// mid and width describe bucket i.
func (ph phase) mid(i int) float64   { return (ph.edges[i] + ph.edges[i+1]) / 2 }
func (ph phase) width(i int) float64 { return ph.edges[i+1] - ph.edges[i] }

// phases splits the points into the main phase and the final phase
// (operations marked final), with the recovery gap between them: from
// the main phase's last completion to the final phase's first
// invocation. A run with no final phase, or whose phases overlap, is
// one phase and has no gap.
func phases(points []latencyPoint, dt float64) (parts [][]latencyPoint, spans []phase, gap [2]float64) {
	var main, final []latencyPoint
	mainEnd, finalStart, finalEnd := 0.0, math.Inf(1), 0.0
	for _, p := range points {
		if p.final {
			final = append(final, p)
			finalStart = min(finalStart, p.invoke)
			finalEnd = max(finalEnd, p.done)
		} else {
			main = append(main, p)
			mainEnd = max(mainEnd, p.done)
		}
	}
	if len(final) == 0 || len(main) == 0 || finalStart <= mainEnd {
		return [][]latencyPoint{points}, []phase{newPhase(0, max(mainEnd, finalEnd), dt)}, gap
	}
	return [][]latencyPoint{main, final},
		[]phase{newPhase(0, mainEnd, dt), newPhase(finalStart, finalEnd, dt)},
		[2]float64{mainEnd, finalStart}
}

// plainTicks label about eight round values along an axis (steps of
// 1, 2 or 5 times a power of ten), with an unlabelled tick halfway
// between, and print them without needless decimals: "50", not "50.00".
type plainTicks struct{}

// Ticks implements plot.Ticker.
func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: plainNumber(lo)}}
	}
	step := niceStep((hi - lo) / 8)
	var ticks []plot.Tick
	for i := math.Ceil(lo / step * 2); i/2*step <= hi; i++ {
		v := i / 2 * step
		if math.Mod(i, 2) == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: plainNumber(v)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// niceStep is the smallest of 1, 2 or 5 times a power of ten at or
// above x.
func niceStep(x float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= x*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// plainNumber formats a tick value with no trailing zeros and without
// the noise of float arithmetic (0.30000000000000004 is "0.3").
func plainNumber(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// fsOf lists the :f values of the points, sorted.
func fsOf(points []latencyPoint) []string {
	var fs []string
	for _, p := range points {
		if !slices.Contains(fs, p.f) {
			fs = append(fs, p.f)
		}
	}
	sort.Strings(fs)
	return fs
}

var outcomes = []struct {
	typ    history.Type
	colour color.Color
}{{history.OK, plotOK}, {history.Info, plotInfo}, {history.Fail, plotFail}}

var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{},
	draw.PlusGlyph{}, draw.RingGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{},
}

func rawLatencyPlot(points []latencyPoint, _ float64, shade backdrop) (*plot.Plot, error) {
	p := newPlot("Latency of every operation", "Latency (ms)", shade)
	minPos, maxLat := math.Inf(1), 0.0
	for _, pt := range points {
		if pt.latency > 0 {
			minPos = math.Min(minPos, pt.latency)
		}
		maxLat = math.Max(maxLat, pt.latency)
	}
	logScale := !math.IsInf(minPos, 1) && maxLat/minPos >= 10
	if logScale {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	for i, f := range fsOf(points) {
		for _, o := range outcomes {
			var xys plotter.XYs
			for _, pt := range points {
				if pt.f == f && pt.typ == o.typ {
					y := pt.latency
					if logScale && y <= 0 {
						y = minPos // a log axis cannot show zero
					}
					xys = append(xys, plotter.XY{X: pt.invoke, Y: y})
				}
			}
			if len(xys) == 0 {
				continue
			}
			s, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: o.colour, Radius: vg.Points(2), Shape: glyphs[i%len(glyphs)]}
			p.Add(s)
			p.Legend.Add(f+" "+o.typ.String(), s)
		}
	}
	return p, nil
}

// series is one line of a plot: its legend entry, the phase it belongs
// to (each phase is drawn apart, so no line crosses the recovery gap)
// and its points.
type series struct {
	name  string
	style int // which colour, glyph or dash pattern
	phase int
	xys   plotter.XYs
}

// quantileSeries computes, per phase, the plotQuantiles of the latency
// of the ops invoked in each time bucket.
func quantileSeries(points []latencyPoint, dt float64) []series {
	var out []series
	parts, spans, _ := phases(points, dt)
	for k, part := range parts {
		ph := spans[k]
		buckets := map[int][]int64{}
		for _, pt := range part {
			b := ph.bucket(pt.invoke)
			buckets[b] = append(buckets[b], pt.latencyNs)
		}
		keys := make([]int, 0, len(buckets))
		for b := range buckets {
			keys = append(keys, b)
			slices.Sort(buckets[b])
		}
		sort.Ints(keys)
		if len(keys) == 0 {
			continue
		}
		// Buckets with no invocations break the lines.
		for _, run := range consecutive(keys) {
			for i, q := range plotQuantiles {
				xys := make(plotter.XYs, 0, len(run))
				for _, b := range run {
					xys = append(xys, plotter.XY{X: ph.mid(b), Y: float64(checker.Quantile(buckets[b], q)) / 1e6})
				}
				out = append(out, series{name: plainNumber(q), style: i, phase: k, xys: xys})
			}
		}
	}
	return out
}

// consecutive splits ascending bucket indices into runs without gaps.
func consecutive(keys []int) [][]int {
	var out [][]int
	for i, k := range keys {
		if i == 0 || k != keys[i-1]+1 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], k)
	}
	return out
}

func quantilePlot(points []latencyPoint, dt float64, shade backdrop) (*plot.Plot, error) {
	p := newPlot("Latency quantiles", "Latency (ms)", shade)
	p.Y.Min = 0
	palette := []color.Color{
		color.NRGBA{0x1f, 0x77, 0xb4, 0xff}, color.NRGBA{0x2c, 0xa0, 0x2c, 0xff},
		color.NRGBA{0xff, 0x7f, 0x0e, 0xff}, color.NRGBA{0xd6, 0x27, 0x28, 0xff},
	}
	seen := map[string]bool{}
	for _, sr := range quantileSeries(points, dt) {
		l, s, err := plotter.NewLinePoints(sr.xys)
		if err != nil {
			return nil, err
		}
		c := palette[sr.style%len(palette)]
		l.Color, s.Color, s.Radius = c, c, vg.Points(1.5)
		p.Add(l, s)
		if !seen[sr.name] {
			p.Legend.Add(sr.name, l, s)
			seen[sr.name] = true
		}
	}
	return p, nil
}

// rateSeries computes, per phase, :f and outcome, the completions per
// second in each time bucket of the phase.
func rateSeries(points []latencyPoint, dt float64) []series {
	var out []series
	parts, spans, _ := phases(points, dt)
	for i, f := range fsOf(points) {
		for j, o := range outcomes {
			for k, part := range parts {
				ph := spans[k]
				counts := make([]int, len(ph.edges)-1)
				seen := false
				for _, pt := range part {
					if pt.f == f && pt.typ == o.typ {
						counts[ph.bucket(pt.done)]++
						seen = true
					}
				}
				if !seen {
					continue
				}
				xys := make(plotter.XYs, len(counts))
				for b, n := range counts {
					xys[b] = plotter.XY{X: ph.mid(b), Y: float64(n) / ph.width(b)}
				}
				out = append(out, series{name: f + " " + o.typ.String(), style: i*len(outcomes) + j, phase: k, xys: xys})
			}
		}
	}
	return out
}

func ratePlot(points []latencyPoint, dt float64, shade backdrop) (*plot.Plot, error) {
	p := newPlot("Throughput", "Completions per second", shade)
	p.Y.Min = 0
	seen := map[string]bool{}
	for _, sr := range rateSeries(points, dt) {
		fi, oi := sr.style/len(outcomes), sr.style%len(outcomes)
		l, s, err := plotter.NewLinePoints(sr.xys)
		if err != nil {
			return nil, err
		}
		colour := outcomes[oi].colour
		l.Color, s.Color, s.Radius = colour, colour, vg.Points(1.5)
		s.Shape = glyphs[fi%len(glyphs)]
		l.Width = vg.Points(1.5)
		l.Dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}[fi%4]
		p.Add(l, s)
		if !seen[sr.name] {
			p.Legend.Add(sr.name, l, s)
			seen[sr.name] = true
		}
	}
	return p, nil
}

// bucketWidth picks a round bucket width, in seconds, giving about 30
// buckets over a run of the given length.
func bucketWidth(seconds float64) float64 {
	target := seconds / 30
	if target <= 0.01 {
		return 0.01
	}
	mag := math.Pow(10, math.Floor(math.Log10(target)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= target {
			return m * mag
		}
	}
	return 10 * mag
}

// backdrop draws, behind the data, the fault intervals (nanoseconds)
// as bands of their kind's colour and the recovery gap (seconds) as a
// green one, across the full height of a plot.
type backdrop struct {
	faults   []FaultInterval
	kinds    []string // the kinds of fault, in order of first appearance
	fills    map[string]color.NRGBA
	recovery [2]float64
}

func newBackdrop(faults []FaultInterval, recovery [2]float64) backdrop {
	b := backdrop{faults: faults, fills: map[string]color.NRGBA{}, recovery: recovery}
	others := 0
	for _, f := range faults {
		if _, ok := b.fills[f.Kind]; ok {
			continue
		}
		b.kinds = append(b.kinds, f.Kind)
		fill, known := faultFills[f.Kind]
		if !known {
			fill = otherFaultFills[others%len(otherFaultFills)]
			others++
		}
		b.fills[f.Kind] = fill
	}
	return b
}

// Plot implements plot.Plotter.
func (s backdrop) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	band := func(from, to float64, fill color.Color) {
		x0 := max(trX(from), c.Min.X)
		x1 := min(trX(to), c.Max.X)
		if x1 <= x0 {
			return
		}
		c.FillPolygon(fill, []vg.Point{
			{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y},
		})
	}
	for _, iv := range s.faults {
		band(float64(iv.From)/1e9, float64(iv.To)/1e9, s.fills[iv.Kind])
	}
	if s.recovery[1] > s.recovery[0] {
		band(s.recovery[0], s.recovery[1], recoveryFill)
	}
	// Where faults overlap their bands blend, so each kind also gets a
	// strip of its own along the top, in a stronger shade.
	for _, iv := range s.faults {
		x0 := max(trX(float64(iv.From)/1e9), c.Min.X)
		x1 := min(trX(float64(iv.To)/1e9), c.Max.X)
		if x1 <= x0 {
			continue
		}
		i := slices.Index(s.kinds, iv.Kind)
		top := c.Max.Y - vg.Length(i)*faultStrip
		fill := s.fills[iv.Kind]
		fill.A = 0xa0
		c.FillPolygon(fill, []vg.Point{
			{X: x0, Y: top - faultStrip*3/4}, {X: x1, Y: top - faultStrip*3/4}, {X: x1, Y: top}, {X: x0, Y: top},
		})
	}
}

// faultStrip is the height of each fault kind's strip along the top of
// a plot.
const faultStrip = vg.Length(5)

// bandThumb is the legend's sample of a band.
type bandThumb struct{ fill color.Color }

// Thumbnail implements plot.Thumbnailer for the legend.
func (b bandThumb) Thumbnail(c *draw.Canvas) { fillCanvas(c, b.fill) }

func fillCanvas(c *draw.Canvas, fill color.Color) {
	c.FillPolygon(fill, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}
