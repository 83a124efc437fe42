package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sort"
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
)

// plotQuantiles are the latency quantiles latency-quantiles.png draws.
var plotQuantiles = []float64{0.5, 0.95, 0.99, 1}

// PartitionIntervals returns the spans of the history during which the
// network was partitioned, in nanoseconds since the start. A span begins
// with the first nemesis op whose :f starts with "start" (the
// start-partition invocation) and ends with the last of the "stop" ops
// that follow it (the stop-partition completion; Jepsen records nemesis
// invocations and completions both as :info, so they are told apart by
// order, not type). A partition never healed lasts to the end of the
// history.
func PartitionIntervals(ops []history.Op) [][2]int64 {
	var out [][2]int64
	var end int64
	started, stopped := int64(-1), int64(-1)
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
		case strings.HasPrefix(op.F, "stop"):
			if started >= 0 {
				stopped = op.Time
			}
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
		})
	}
	shade := partitionShade(partitions)
	var end float64
	for _, p := range points {
		end = max(end, p.done)
	}
	dt := bucketWidth(end)
	for _, w := range []struct {
		name string
		make func([]latencyPoint, float64, plot.Plotter) (*plot.Plot, error)
	}{
		{"latency-raw.png", rawLatencyPlot},
		{"latency-quantiles.png", quantilePlot},
		{"rate.png", ratePlot},
	} {
		p, err := w.make(points, dt, shade)
		if err != nil {
			return fmt.Errorf("report: %s: %w", w.name, err)
		}
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

func newPlot(title, ylabel string, shade plot.Plotter) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "Time (s)"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Add(shade)
	if s := shade.(partitionShade); len(s) > 0 {
		p.Legend.Add("partition", s)
	}
	return p
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

func rawLatencyPlot(points []latencyPoint, _ float64, shade plot.Plotter) (*plot.Plot, error) {
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

func quantilePlot(points []latencyPoint, dt float64, shade plot.Plotter) (*plot.Plot, error) {
	p := newPlot("Latency quantiles", "Latency (ms)", shade)
	buckets := map[int][]float64{}
	for _, pt := range points {
		b := int(pt.invoke / dt)
		buckets[b] = append(buckets[b], pt.latency)
	}
	keys := make([]int, 0, len(buckets))
	for b := range buckets {
		keys = append(keys, b)
		sort.Float64s(buckets[b])
	}
	sort.Ints(keys)
	palette := []color.Color{
		color.NRGBA{0x1f, 0x77, 0xb4, 0xff}, color.NRGBA{0x2c, 0xa0, 0x2c, 0xff},
		color.NRGBA{0xff, 0x7f, 0x0e, 0xff}, color.NRGBA{0xd6, 0x27, 0x28, 0xff},
	}
	for i, q := range plotQuantiles {
		xys := make(plotter.XYs, 0, len(keys))
		for _, b := range keys {
			xys = append(xys, plotter.XY{X: (float64(b) + 0.5) * dt, Y: quantile(buckets[b], q)})
		}
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		c := palette[i%len(palette)]
		l.Color, s.Color, s.Radius = c, c, vg.Points(1.5)
		p.Add(l, s)
		p.Legend.Add(fmt.Sprint(q), l, s)
	}
	return p, nil
}

// quantile returns the q-quantile of sorted values: the smallest value
// at or above a fraction q of them (so q=1 is the maximum).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ratePlot(points []latencyPoint, dt float64, shade plot.Plotter) (*plot.Plot, error) {
	p := newPlot("Throughput", "Completions per second", shade)
	var last int
	for _, pt := range points {
		last = max(last, int(pt.done/dt))
	}
	for i, f := range fsOf(points) {
		for _, o := range outcomes {
			counts := make([]int, last+1)
			seen := false
			for _, pt := range points {
				if pt.f == f && pt.typ == o.typ {
					counts[int(pt.done/dt)]++
					seen = true
				}
			}
			if !seen {
				continue
			}
			xys := make(plotter.XYs, len(counts))
			for b, n := range counts {
				xys[b] = plotter.XY{X: (float64(b) + 0.5) * dt, Y: float64(n) / dt}
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color = o.colour
			l.Width = vg.Points(1.5)
			l.Dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}[i%4]
			p.Add(l)
			p.Legend.Add(f+" "+o.typ.String(), l)
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

// partitionShade draws partition intervals (nanoseconds) as grey bands
// across the full height of a plot.
type partitionShade [][2]int64

// Plot implements plot.Plotter.
func (s partitionShade) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, iv := range s {
		x0 := max(trX(float64(iv[0])/1e9), c.Min.X)
		x1 := min(trX(float64(iv[1])/1e9), c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.FillPolygon(partitionFill, []vg.Point{
			{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y},
		})
	}
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (s partitionShade) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(partitionFill, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}
