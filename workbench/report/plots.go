package report

import (
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

	"github.com/glomers/glomers/workbench/history"
)

// The size of every plot.
const plotWidth, plotHeight = 10 * vg.Inch, 5 * vg.Inch

// The colours of op outcomes in plots, as in Jepsen's perf graphs, and
// of partitions.
var (
	plotOK        = color.NRGBA{0x81, 0xBF, 0xFC, 0xff}
	plotInfo      = color.NRGBA{0xFF, 0xA4, 0x00, 0xff}
	plotFail      = color.NRGBA{0xFF, 0x1E, 0x90, 0xff}
	partitionFill = color.NRGBA{0x00, 0x00, 0x00, 0x14}
	recoveryFill  = color.NRGBA{0x2c, 0xa0, 0x2c, 0x1a}
)

// plotQuantiles are the latency quantiles latency-quantiles.png draws.
var plotQuantiles = []float64{0.5, 0.95, 0.99, 1}

// PartitionIntervals returns the spans of the history during which the
// network was partitioned, in nanoseconds since the start. A span begins
// with the first nemesis op whose :f starts with "start" (the
// start-partition invocation) and ends with the second of the two "stop"
// ops that follow it (the stop-partition completion; Jepsen records
// nemesis invocations and completions both as :info, so they are told
// apart by order, not type). Stop ops with no partition to end, such as
// the final heal before the recovery wait, are ignored. A partition
// never healed lasts to the end of the history.
func PartitionIntervals(ops []history.Op) [][2]int64 {
	var out [][2]int64
	var end int64
	started, stopped := int64(-1), int64(-1)
	prevStop := false
	for _, op := range ops {
		end = max(end, op.Time)
		if op.Process != history.NemesisProcess {
			continue
		}
		switch {
		case strings.HasPrefix(op.F, "start"):
			if started >= 0 && stopped >= 0 {
				out = append(out, [2]int64{started, stopped})
				started, stopped = -1, -1
			}
			if started < 0 {
				started = op.Time
			}
			prevStop = false
		case strings.HasPrefix(op.F, "stop"):
			if started >= 0 {
				stopped = op.Time
				if prevStop {
					out = append(out, [2]int64{started, stopped})
					started, stopped = -1, -1
				}
			}
			prevStop = true
		}
	}
	switch {
	case started >= 0 && stopped >= 0:
		out = append(out, [2]int64{started, stopped})
	case started >= 0:
		out = append(out, [2]int64{started, end})
	}
	return out
}

// latencyPoint is one completed client op.
type latencyPoint struct {
	f       string
	typ     history.Type
	invoke  float64 // seconds since the start
	done    float64 // seconds since the start
	latency float64 // milliseconds
	final   bool    // a final-phase operation
}

// WritePlots writes three PNG plots of the history's client operations
// into dir, with the given partition intervals (nanoseconds since the
// start, as from PartitionIntervals) shaded grey:
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
// across it: nothing happened there that a line could show. Tick labels
// carry no needless decimals.
//
// An empty history gives empty plots. The first error stops the work.
func WritePlots(dir string, ops []history.Op, partitions [][2]int64) error {
	var points []latencyPoint
	for _, p := range history.Pairs(ops) {
		if p.Complete == nil {
			continue
		}
		points = append(points, latencyPoint{
			f:       p.Invoke.F,
			typ:     p.Complete.Type,
			invoke:  float64(p.Invoke.Time) / 1e9,
			done:    float64(p.Complete.Time) / 1e9,
			latency: float64(p.Complete.Time-p.Invoke.Time) / 1e6,
			final:   p.Invoke.Final,
		})
	}
	var end float64
	for _, p := range points {
		end = max(end, p.done)
	}
	dt := bucketWidth(end)
	_, _, gap := phases(points, dt)
	shade := backdrop{partitions: partitions, recovery: gap}
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
		p.X.Min = min(p.X.Min, 0) // time starts when the test does
		if p.X.Max > p.X.Min {
			// Room on the right for the legend, so it hides no data.
			p.X.Max += (p.X.Max - p.X.Min) / 5
		}
		if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, w.name)); err != nil {
			return fmt.Errorf("report: %s: %w", w.name, err)
		}
	}
	return nil
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
	if len(shade.partitions) > 0 {
		p.Legend.Add("partition", partitionShade(shade.partitions))
	}
	if shade.recovery[1] > shade.recovery[0] {
		p.Legend.Add("recovery wait", recoveryThumb{})
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
		buckets := map[int][]float64{}
		for _, pt := range part {
			b := ph.bucket(pt.invoke)
			buckets[b] = append(buckets[b], pt.latency)
		}
		keys := make([]int, 0, len(buckets))
		for b := range buckets {
			keys = append(keys, b)
			sort.Float64s(buckets[b])
		}
		sort.Ints(keys)
		if len(keys) == 0 {
			continue
		}
		for i, q := range plotQuantiles {
			xys := make(plotter.XYs, 0, len(keys))
			for _, b := range keys {
				xys = append(xys, plotter.XY{X: ph.mid(b), Y: quantile(buckets[b], q)})
			}
			out = append(out, series{name: plainNumber(q), style: i, phase: k, xys: xys})
		}
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

// quantile returns the q-quantile of sorted values: the smallest value
// at or above a fraction q of them (so q=1 is the maximum).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
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

// backdrop draws, behind the data, the partition intervals
// (nanoseconds) as grey bands and the recovery gap (seconds) as a green
// one, across the full height of a plot.
type backdrop struct {
	partitions [][2]int64
	recovery   [2]float64
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
	for _, iv := range s.partitions {
		band(float64(iv[0])/1e9, float64(iv[1])/1e9, partitionFill)
	}
	if s.recovery[1] > s.recovery[0] {
		band(s.recovery[0], s.recovery[1], recoveryFill)
	}
}

// partitionShade is the legend's sample of a partition band.
type partitionShade [][2]int64

// Thumbnail implements plot.Thumbnailer for the legend.
func (partitionShade) Thumbnail(c *draw.Canvas) { fillCanvas(c, partitionFill) }

// recoveryThumb is the legend's sample of the recovery band.
type recoveryThumb struct{}

// Thumbnail implements plot.Thumbnailer for the legend.
func (recoveryThumb) Thumbnail(c *draw.Canvas) { fillCanvas(c, recoveryFill) }

func fillCanvas(c *draw.Canvas, fill color.Color) {
	c.FillPolygon(fill, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}
