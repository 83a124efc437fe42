package report

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/glomers/glomers/workbench/history"
)

// LagSample is one realtime-lag sample: at Time (ns since the start),
// a poll by Process was Lag ns behind the newest message of one of its
// keys known to exist.
type LagSample struct {
	Time    int64
	Process int
	Lag     int64
}

// lagPoint is one poll's worst realtime lag.
type lagPoint struct {
	at  float64 // the poll's invocation, seconds since the start
	lag int64   // nanoseconds
}

// pollLags reduces realtime-lag samples, one per key a poll's process
// was assigned, to one point per poll: its largest lag, as Jepsen's
// plot-realtime-lag! keeps the maximum over keys at each instant
// (jepsen/src/jepsen/tests/kafka.clj). Samples of one poll share its
// invocation time and process and come together, in history order.
func pollLags(lags []LagSample) []lagPoint {
	var out []lagPoint
	for i := 0; i < len(lags); {
		j, worst := i, lags[i].Lag
		for j < len(lags) && lags[j].Time == lags[i].Time && lags[j].Process == lags[i].Process {
			worst = max(worst, lags[j].Lag)
			j++
		}
		out = append(out, lagPoint{at: float64(lags[i].Time) / 1e9, lag: worst})
		i = j
	}
	return out
}

// lagSeries returns the worst lag of each time bucket dt seconds wide,
// in the given unit of nanoseconds, as lines broken where a bucket has
// no poll (the recovery wait, say), so no line crosses a stretch
// without data.
func lagSeries(points []lagPoint, dt, unit float64) []plotter.XYs {
	worst := map[int]int64{}
	for _, p := range points {
		b := int(p.at / dt)
		if w, ok := worst[b]; !ok || p.lag > w {
			worst[b] = p.lag
		}
	}
	keys := make([]int, 0, len(worst))
	for b := range worst {
		keys = append(keys, b)
	}
	slices.Sort(keys)
	var out []plotter.XYs
	for _, run := range consecutive(keys) {
		xys := make(plotter.XYs, len(run))
		for i, b := range run {
			xys[i] = plotter.XY{X: (float64(b) + 0.5) * dt, Y: float64(worst[b]) / unit}
		}
		out = append(out, xys)
	}
	return out
}

// WriteRealtimeLagPlot writes one plot of a kafka run's realtime lag to
// path, from the samples kafka.RealtimeLags takes of the history:
// how long after a message was known to exist a poll still had not seen
// it. Each poll is a point at its invocation time with the lag of its
// most lagging key, and a line follows the worst lag in each time
// bucket, broken where no poll was made. The fault intervals and the
// recovery wait are shaded as in WritePlots. The lag axis is in
// milliseconds, or in seconds when the worst lag is a second or more.
func WriteRealtimeLagPlot(path string, ops []history.Op, lags []LagSample) error {
	name := filepath.Base(path)
	ends := latencyPoints(ops)
	var last float64
	for _, p := range ends {
		last = max(last, p.done)
	}
	_, _, gap := phases(ends, bucketWidth(last))
	points := pollLags(lags)
	var end float64
	var worst int64
	for _, p := range points {
		end = max(end, p.at)
		worst = max(worst, p.lag)
	}
	unit, unitName := 1e6, "ms"
	if worst >= 1e9 {
		unit, unitName = 1e9, "s"
	}
	p := newPlot("Realtime lag of polls", "Lag ("+unitName+")", newBackdrop(FaultIntervals(ops), gap))
	p.Y.Min = 0
	if len(points) > 0 {
		xys := make(plotter.XYs, len(points))
		for i, pt := range points {
			xys[i] = plotter.XY{X: pt.at, Y: float64(pt.lag) / unit}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: plotOK, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add("a poll's most lagging key", s)
	}
	// Headroom above the worst lag, so the line does not run along the
	// frame; an axis from 0 to 1 ms when every lag is zero.
	p.Y.Max = max(p.Y.Max, 1.15*float64(worst)/unit, 1)
	lineColour := color.NRGBA{0xd6, 0x27, 0x28, 0xff}
	for i, xys := range lagSeries(points, bucketWidth(end), unit) {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		l.Color, l.Width = lineColour, vg.Points(1.5)
		p.Add(l)
		if i == 0 {
			p.Legend.Add("worst in each time bucket", l)
		}
	}
	if err := savePlot(p, path); err != nil {
		return fmt.Errorf("report: %s: %w", name, err)
	}
	return nil
}
