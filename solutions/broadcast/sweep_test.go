package broadcast_test

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/glomers/glomers/solutions/broadcast"
)

// sweepIntervals are the efficient-mode flush intervals the sweep tries;
// broadcast.NoDelay stands for 0 (no batching at all).
var sweepIntervals = []time.Duration{
	broadcast.NoDelay, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	200 * time.Millisecond, 250 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond,
}

// sweepSeeds is how many runs the sweep makes per interval.
const sweepSeeds = 5

// sweepPoint is the median figures over the seeds of one interval.
type sweepPoint struct {
	interval       time.Duration
	msgsPerOp      float64
	median, max    float64 // ms
	allValid       bool
	runs, failures int // runs outside the efficient targets
}

// TestSweepFlushInterval runs the 3d/3e set-up in efficient mode for each
// flush interval and writes store/broadcast-sweep/<time>/sweep.tsv and
// sweep.png under the repository root. It takes a minute or two, so it
// runs only when asked:
//
//	GLOMERS_SWEEP=1 go test ./solutions/broadcast -run Sweep -v
func TestSweepFlushInterval(t *testing.T) {
	if os.Getenv("GLOMERS_SWEEP") == "" {
		t.Skip("set GLOMERS_SWEEP=1 to sweep the flush interval")
	}
	want := modeTargets[broadcast.Efficient]
	var points []sweepPoint
	for _, iv := range sweepIntervals {
		p := sweepPoint{interval: max(iv, 0), allValid: true}
		var msgs, medians, maxes []float64
		for seed := uint64(1); seed <= sweepSeeds; seed++ {
			f := setup3d.with(broadcast.Options{FlushInterval: iv}).run(t, seed)
			msgs = append(msgs, f.msgsPerOp)
			medians = append(medians, float64(f.median))
			maxes = append(maxes, float64(f.max))
			p.allValid = p.allValid && f.lost == 0 && f.stable == f.attempts
			p.runs++
			if f.msgsPerOp > want.msgsPerOp || f.median > want.median || f.max > want.max {
				p.failures++
			}
		}
		p.msgsPerOp, p.median, p.max = medianOf(msgs), medianOf(medians), medianOf(maxes)
		t.Logf("interval %4d ms: msgs/op %.3f, median %4.0f ms, max %4.0f ms, valid %v, outside targets %d/%d",
			p.interval.Milliseconds(), p.msgsPerOp, p.median, p.max, p.allValid, p.failures, p.runs)
		points = append(points, p)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "store", "broadcast-sweep", time.Now().Format("20060102T150405.000Z0700"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sweep.tsv"), sweepTSV(points), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sweepPlot(points, filepath.Join(dir, "sweep.png")); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s/sweep.tsv and sweep.png", dir)
}

// addLine draws a thin dashed grey line through xys, for a target.
func addLine(p *plot.Plot, xys plotter.XYs) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = color.Gray{Y: 0x80}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(l)
	return nil
}

// TestSweepOutput checks the sweep's files on made-up figures, so that
// the rarely run sweep keeps working.
func TestSweepOutput(t *testing.T) {
	points := []sweepPoint{
		{interval: 0, msgsPerOp: 6.5, median: 94, max: 195},
		{interval: 250 * time.Millisecond, msgsPerOp: 1.45, median: 143, max: 347},
	}
	want := "interval_ms\tmsgs_per_op\tmedian_ms\tmax_ms\n0\t6.5000\t94\t195\n250\t1.4500\t143\t347\n"
	if got := string(sweepTSV(points)); got != want {
		t.Errorf("sweep.tsv:\n%s\nwant:\n%s", got, want)
	}
	path := filepath.Join(t.TempDir(), "sweep.png")
	if err := sweepPlot(points, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("sweep.png is not a PNG (%d bytes, %v)", len(b), err)
	}
	if got := medianOf([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 1 2 = %v", got)
	}
	if got := medianOf([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 4 1 3 2 = %v", got)
	}
}

// medianOf returns the median of xs (the mean of the middle two for an
// even count).
func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// repoRoot finds the directory holding go.mod, from the package directory
// tests run in.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sweep: no go.mod above the working directory")
		}
		dir = parent
	}
}

func sweepTSV(points []sweepPoint) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "interval_ms\tmsgs_per_op\tmedian_ms\tmax_ms\n")
	for _, p := range points {
		fmt.Fprintf(&b, "%d\t%.4f\t%.0f\t%.0f\n", p.interval.Milliseconds(), p.msgsPerOp, p.median, p.max)
	}
	return b.Bytes()
}

// sweepPlot draws latency (median and max) against msgs-per-op, one point
// per interval, labelled with the interval.
func sweepPlot(points []sweepPoint, path string) error {
	p := plot.New()
	p.Title.Text = "broadcast, efficient mode: flush interval sweep (25 nodes, 100 ms, rate 100)"
	p.X.Label.Text = "messages per operation (:net :servers :msgs-per-op)"
	p.Y.Label.Text = "stable latency (ms); dashed lines: the targets"
	p.Add(plotter.NewGrid())
	series := []struct {
		name  string
		get   func(sweepPoint) float64
		color color.Color
		shape draw.GlyphDrawer
	}{
		{"median latency", func(s sweepPoint) float64 { return s.median }, color.NRGBA{0x1f, 0x77, 0xb4, 0xff}, draw.CircleGlyph{}},
		{"max latency", func(s sweepPoint) float64 { return s.max }, color.NRGBA{0xd6, 0x27, 0x28, 0xff}, draw.TriangleGlyph{}},
	}
	for _, s := range series {
		xys := make(plotter.XYs, len(points))
		labels := make([]string, len(points))
		for i, pt := range points {
			xys[i] = plotter.XY{X: pt.msgsPerOp, Y: s.get(pt)}
			labels[i] = fmt.Sprintf("%d ms", pt.interval.Milliseconds())
		}
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		line.Color = s.color
		pts.Color = s.color
		pts.Shape = s.shape
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return err
		}
		lbl.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(4)}
		p.Add(line, pts, lbl)
		p.Legend.Add(s.name, line, pts)
	}
	// The efficient mode's targets: latency bounds and the message budget.
	want := modeTargets[broadcast.Efficient]
	lo, hi := points[0].msgsPerOp, points[0].msgsPerOp
	for _, pt := range points {
		lo, hi = min(lo, pt.msgsPerOp), max(hi, pt.msgsPerOp)
	}
	for _, y := range []float64{float64(want.median), float64(want.max)} {
		if err := addLine(p, plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}}); err != nil {
			return err
		}
	}
	if err := addLine(p, plotter.XYs{{X: want.msgsPerOp, Y: 0}, {X: want.msgsPerOp, Y: float64(want.max) * 1.2}}); err != nil {
		return err
	}
	p.Legend.Top = true
	p.Y.Min = 0
	p.Y.Max = max(p.Y.Max, float64(want.max)) * 1.1
	return p.Save(10*vg.Inch, 6*vg.Inch, path)
}
