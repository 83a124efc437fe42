package report

import (
	"bytes"
	"cmp"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
)

func TestFaultIntervals(t *testing.T) {
	nem := func(f string, at int64) history.Op {
		return history.Op{Process: history.NemesisProcess, F: f, Type: history.Info, Time: at}
	}
	// pair is a nemesis op's invocation and completion.
	pair := func(f string, at int64) []history.Op { return []history.Op{nem(f, at), nem(f, at+1)} }
	client := func(typ history.Type, at int64) history.Op {
		return history.Op{Process: 0, F: "read", Type: typ, Time: at}
	}
	join := func(parts ...[]history.Op) []history.Op { return slices.Concat(parts...) }
	cases := []struct {
		name string
		ops  []history.Op
		want []FaultInterval
	}{
		{"none", []history.Op{client(history.Invoke, 1), client(history.OK, 2)}, nil},
		{"one partition healed", join(
			pair("start-partition", 10), []history.Op{client(history.Invoke, 15), client(history.OK, 16)},
			pair("stop-partition", 20),
		), []FaultInterval{{"partition", 10, 21}}},
		{"two, the last never healed", join(
			pair("start-partition", 10), pair("stop-partition", 20), pair("start-partition", 30),
			[]history.Op{client(history.Invoke, 40), client(history.Info, 50)},
		), []FaultInterval{{"partition", 10, 21}, {"partition", 30, 50}}},
		{"the final heal after a healed partition is no partition", join(
			pair("start-partition", 10), pair("stop-partition", 20),
			[]history.Op{client(history.Invoke, 25), client(history.OK, 26)},
			pair("stop-partition", 30),
		), []FaultInterval{{"partition", 10, 21}}},
		{"stop without start", pair("stop-partition", 5), nil},
		{"client ops named like nemesis ops are ignored", []history.Op{
			{Process: 3, F: "start", Type: history.Invoke, Time: 1}, {Process: 3, F: "kill", Type: history.Invoke, Time: 2},
		}, nil},
		{"kill then start, pause then resume, interleaved with a partition", join(
			pair("start-partition", 0), pair("pause", 2), pair("kill", 4),
			pair("stop-partition", 10), pair("resume", 12), pair("start", 14),
			pair("kill", 20), pair("start", 30),
		), []FaultInterval{{"partition", 0, 11}, {"pause", 2, 13}, {"kill", 4, 15}, {"kill", 20, 31}}},
		{"any start-X/stop-X pair is a fault X", join(
			pair("start-clock-skew", 3), pair("stop-clock-skew", 8), pair("start-", 9), pair("stop", 9),
		), []FaultInterval{{"clock-skew", 3, 9}}},
		{"a second start extends the fault in force", join(
			pair("start-partition", 10), pair("start-partition", 15), pair("stop-partition", 20),
		), []FaultInterval{{"partition", 10, 21}}},
		{"a kill never ended lasts to the end", join(
			pair("kill", 5), []history.Op{client(history.Invoke, 40), client(history.OK, 70)},
		), []FaultInterval{{"kill", 5, 70}}},
	}
	for _, c := range cases {
		if got := FaultIntervals(c.ops); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: FaultIntervals = %v, want %v", c.name, got, c.want)
		}
	}
}

// Each kind of fault gets its own colour and legend entry, in order of
// first appearance; partition, kill and pause keep theirs whatever else
// a run has.
func TestBackdropColours(t *testing.T) {
	b := newBackdrop([]FaultInterval{
		{"kill", 0, 1}, {"partition", 0, 2}, {"kill", 3, 4}, {"clock-skew", 5, 6}, {"pause", 7, 8}, {"disk", 9, 10},
	}, [2]float64{})
	if want := []string{"kill", "partition", "clock-skew", "pause", "disk"}; !reflect.DeepEqual(b.kinds, want) {
		t.Errorf("legend kinds %v, want %v", b.kinds, want)
	}
	seen := map[color.NRGBA]string{}
	for _, k := range b.kinds {
		if other, dup := seen[b.fills[k]]; dup {
			t.Errorf("%s and %s share the colour %v", k, other, b.fills[k])
		}
		seen[b.fills[k]] = k
		if b.fills[k].A == 0 || b.fills[k].A > 0x40 {
			t.Errorf("%s: fill %v is not a light translucent band", k, b.fills[k])
		}
	}
	for _, k := range []string{"partition", "kill", "pause"} {
		if b.fills[k] != faultFills[k] {
			t.Errorf("%s drawn in %v, not its own %v", k, b.fills[k], faultFills[k])
		}
	}
}

// The bands are really painted: a plot of a run with a partition, a
// paused node and a killed one shows each band's colour over white.
func TestPlotsShadeEveryFault(t *testing.T) {
	var ops []history.Op
	for i := range 300 {
		at := int64(i) * int64(100*time.Millisecond)
		ops = append(ops, history.Op{Process: i % 3, Type: history.Invoke, F: "read", Time: at},
			history.Op{Process: i % 3, Type: history.OK, F: "read", Time: at + int64(time.Millisecond)})
	}
	for _, n := range []struct {
		f  string
		at time.Duration
	}{{"start-partition", 2 * time.Second}, {"stop-partition", 8 * time.Second},
		{"pause", 10 * time.Second}, {"resume", 16 * time.Second}, {"kill", 19 * time.Second}, {"start", 25 * time.Second}} {
		for range 2 {
			ops = append(ops, history.Op{Process: history.NemesisProcess, Type: history.Info, F: n.f, Time: int64(n.at)})
		}
	}
	slices.SortStableFunc(ops, func(a, b history.Op) int { return cmp.Compare(a.Time, b.Time) })
	faults := FaultIntervals(ops)
	if len(faults) != 3 {
		t.Fatalf("faults %v, want three", faults)
	}
	dir := t.TempDir()
	if err := WritePlots(dir, ops, faults); err != nil {
		t.Fatal(err)
	}
	im := decodePNG(t, filepath.Join(dir, "rate.png"))
	for _, k := range []string{"partition", "pause", "kill"} {
		if want := overWhite(faultFills[k]); !hasPixel(im, want) {
			t.Errorf("rate.png has no %s band (no pixel near %v)", k, want)
		}
		// Its strip along the top, over its own band (partition's grey
		// strip cannot be told from antialiased black text, so only the
		// coloured ones are looked for).
		if k == "partition" {
			continue
		}
		band, strip := overWhite(faultFills[k]), faultFills[k]
		a := 0xa0 / 255.0
		var want [3]int
		for i, v := range []uint8{strip.R, strip.G, strip.B} {
			want[i] = int(math.Round(float64(band[i])*(1-a) + float64(v)*a))
		}
		if !hasPixel(im, want) {
			t.Errorf("rate.png has no %s strip (no pixel near %v)", k, want)
		}
	}
}

// overWhite is the colour a translucent fill makes over white.
func overWhite(c color.NRGBA) [3]int {
	blend := func(v uint8) int { return int(math.Round(255 - float64(255-int(v))*float64(c.A)/255)) }
	return [3]int{blend(c.R), blend(c.G), blend(c.B)}
}

// hasPixel reports whether im has a pixel within 2 of c in each channel.
func hasPixel(im image.Image, c [3]int) bool {
	b := im.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := im.At(x, y).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
			near := true
			for i := range got {
				if d := got[i] - c[i]; d < -2 || d > 2 {
					near = false
				}
			}
			if near {
				return true
			}
		}
	}
	return false
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return im
}

// Quantile lines break where a time bucket saw no invocation, rather
// than draw a line across the hole.
func TestQuantileLinesBreakAtGaps(t *testing.T) {
	var ops []history.Op
	for i := range 200 {
		at := int64(i) * int64(100*time.Millisecond)
		if at >= int64(8*time.Second) && at < int64(12*time.Second) {
			continue // nobody invoked anything for 4 s
		}
		ops = append(ops, history.Op{Process: 0, Type: history.Invoke, F: "read", Time: at},
			history.Op{Process: 0, Type: history.OK, F: "read", Time: at + int64(time.Millisecond)})
	}
	points := latencyPoints(ops)
	all := quantileSeries(points, bucketWidth(20))
	if len(all) != 2*len(plotQuantiles) {
		t.Fatalf("%d series, want the %d quantiles twice (before and after the hole)", len(all), len(plotQuantiles))
	}
	for _, sr := range all {
		for i := 1; i < len(sr.xys); i++ {
			if sr.xys[i-1].X < 8 && sr.xys[i].X > 8 {
				t.Errorf("quantile %s draws a line across the hole, from %v s to %v s", sr.name, sr.xys[i-1].X, sr.xys[i].X)
			}
		}
	}
}

func TestBucketWidth(t *testing.T) {
	for secs, want := range map[float64]float64{0: 0.01, 0.1: 0.01, 10: 0.5, 60: 2, 600: 20, 100: 5} {
		if got := bucketWidth(secs); got != want {
			t.Errorf("bucketWidth(%v) = %v, want %v", secs, got, want)
		}
	}
}

// randomHistory returns n client operations over a few seconds with
// mixed outcomes, and one partition.
func randomHistory(n int) []history.Op {
	rng := rand.New(rand.NewPCG(1, 2))
	var ops []history.Op
	add := func(op history.Op) {
		op.Index = len(ops)
		ops = append(ops, op)
	}
	add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: "start-partition", Time: int64(time.Second)})
	add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: "start-partition", Time: int64(time.Second)})
	fs := []string{"read", "write", "cas"}
	for i := range n {
		at := int64(i) * int64(5*time.Second) / int64(n)
		f := fs[rng.IntN(len(fs))]
		add(history.Op{Process: i % 5, Type: history.Invoke, F: f, Time: at})
		typ := []history.Type{history.OK, history.OK, history.OK, history.Fail, history.Info}[rng.IntN(5)]
		add(history.Op{Process: i % 5, Type: typ, F: f, Time: at + rng.Int64N(int64(50*time.Millisecond))})
	}
	add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: "stop-partition", Time: int64(3 * time.Second)})
	add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: "stop-partition", Time: int64(3 * time.Second)})
	return ops
}

func checkPNGs(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"latency-raw.png", "latency-quantiles.png", "rate.png"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s does not start with the PNG signature", name)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s does not decode: %v", name, err)
		}
	}
}

func TestWritePlots(t *testing.T) {
	cases := map[string][]history.Op{
		"empty": nil,
		"nemesis only": {
			{Process: history.NemesisProcess, Type: history.Info, F: "start-partition", Time: 5},
		},
		"zero latencies": {
			{Process: 0, Type: history.Invoke, F: "read", Time: 0},
			{Process: 0, Type: history.OK, F: "read", Time: 0},
		},
		"one op, unfinished": {{Process: 0, Type: history.Invoke, F: "read", Time: 7}},
		"mixed":              randomHistory(500),
	}
	for name, ops := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WritePlots(dir, ops, FaultIntervals(ops)); err != nil {
				t.Fatal(err)
			}
			checkPNGs(t, dir)
		})
	}
}

func TestStoreWritePlotsAndTimeline(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	defer s.Close()
	ops := echoHistory()
	if err := s.WritePlots(ops); err != nil {
		t.Fatal(err)
	}
	checkPNGs(t, s.Dir())
	if err := s.WriteTimeline(ops); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readFile(t, s.Path("timeline.html")), "<!DOCTYPE html>") {
		t.Error("timeline.html is not HTML")
	}
}

// TestPlotTiming reports how long plotting a large history takes; run
// it with -v and -run PlotTiming when the plots seem slow.
func TestPlotTiming(t *testing.T) {
	if testing.Short() || os.Getenv("REPORT_PLOT_TIMING") == "" {
		t.Skip("set REPORT_PLOT_TIMING=1 to time plotting 20k ops")
	}
	ops := randomHistory(20000)
	began := time.Now()
	if err := WritePlots(t.TempDir(), ops, FaultIntervals(ops)); err != nil {
		t.Fatal(err)
	}
	t.Logf("plotting %d ops took %v", len(ops)/2, time.Since(began))
}

// phasedHistory has a main phase of reads and writes over 0–10 s, a
// recovery wait, and a final phase of reads from 20 s.
func phasedHistory() []history.Op {
	var ops []history.Op
	add := func(op history.Op) {
		op.Index = len(ops)
		ops = append(ops, op)
	}
	for i := range 200 {
		at := int64(i) * int64(50*time.Millisecond)
		f := []string{"read", "write"}[i%2]
		add(history.Op{Process: i % 4, Type: history.Invoke, F: f, Time: at})
		add(history.Op{Process: i % 4, Type: history.OK, F: f, Time: at + int64(5*time.Millisecond)})
	}
	for p := range 4 {
		at := int64(20*time.Second) + int64(p)*int64(time.Millisecond)
		add(history.Op{Process: p, Type: history.Invoke, F: "read", Time: at, Final: true})
		add(history.Op{Process: p, Type: history.OK, F: "read", Time: at + int64(2*time.Millisecond), Final: true})
	}
	return ops
}

func TestPlotsLeaveTheRecoveryGapEmpty(t *testing.T) {
	points := latencyPoints(phasedHistory())
	dt := bucketWidth(20.005)
	_, _, gap := phases(points, dt)
	if gap[0] < 9.9 || gap[0] > 10 || gap[1] != 20 {
		t.Fatalf("recovery gap %v, want about [9.955, 20]", gap)
	}
	for name, all := range map[string][]series{"rate": rateSeries(points, dt), "quantiles": quantileSeries(points, dt)} {
		finals := 0
		for _, sr := range all {
			for _, xy := range sr.xys {
				if xy.X > gap[0] && xy.X < gap[1] {
					t.Errorf("%s: %s has a point at %v s, inside the recovery gap", name, sr.name, xy.X)
				}
				if (sr.phase == 0) != (xy.X < gap[0]) {
					t.Errorf("%s: %s (phase %d) has a point at %v s", name, sr.name, sr.phase, xy.X)
				}
			}
			if sr.phase == 1 {
				finals++
			}
		}
		if finals == 0 {
			t.Errorf("%s: the final phase is not drawn", name)
		}
	}
	// The main phase ran 100 reads over 10 s, the final phase 4 reads
	// within a bucket: their rates must say so, not 4 reads in 3 ms.
	for _, sr := range rateSeries(points, dt) {
		for _, xy := range sr.xys {
			if xy.Y > 20 {
				t.Errorf("rate of %s at %v s is %v/s", sr.name, xy.X, xy.Y)
			}
		}
		if sr.phase == 0 && sr.name == "read ok" {
			sum := 0.0
			for _, xy := range sr.xys {
				sum += xy.Y
			}
			if mean := sum / float64(len(sr.xys)); mean < 9 || mean > 11 {
				t.Errorf("mean read rate %v/s in the main phase, want about 10", mean)
			}
		}
	}
	// Without a final phase there is no gap.
	if _, spans, gap := phases(points[:200], dt); len(spans) != 1 || gap != [2]float64{} {
		t.Errorf("main phase alone: %d phases, gap %v", len(spans), gap)
	}
}

func TestPlainTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 62.5}, {0, 37.4}, {0, 0.3}, {12, 1300}, {0, 1}, {0.5, 20000}} {
		ticks := plainTicks{}.Ticks(r[0], r[1])
		labelled := 0
		for _, tk := range ticks {
			if tk.Label == "" {
				continue
			}
			labelled++
			if strings.Contains(tk.Label, ".") && strings.HasSuffix(tk.Label, "0") {
				t.Errorf("range %v: label %q has trailing zeros", r, tk.Label)
			}
			if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Errorf("range %v: label %q for tick %v", r, tk.Label, tk.Value)
			}
			if tk.Value < r[0] || tk.Value > r[1] {
				t.Errorf("range %v: tick %v outside it", r, tk.Value)
			}
		}
		if labelled < 4 || labelled > 12 {
			t.Errorf("range %v: %d labelled ticks", r, labelled)
		}
	}
	var labels []string
	for _, tk := range (plainTicks{}).Ticks(0, 62.5) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "0 10 20 30 40 50 60" {
		t.Errorf("rate axis 0–62.5 labelled %q", got)
	}
}

func TestWritePlotsPhased(t *testing.T) {
	dir := t.TempDir()
	ops := phasedHistory()
	if err := WritePlots(dir, ops, FaultIntervals(ops)); err != nil {
		t.Fatal(err)
	}
	checkPNGs(t, dir)
}

// latency-quantiles.png draws the quantiles the results print
// (checker.Quantiles, Jepsen's rule), as the scoreboard reports them
// (see cli's TestScoreboardQuantilesAreTheResultsQuantiles, over the
// same ten latencies): ten ops invoked together, of 1 to 10 ms, make
// one bucket whose median is 6 ms by Jepsen's rule, not 5 ms.
func TestPlotQuantilesAreTheResultsQuantiles(t *testing.T) {
	var ops []history.Op
	var latencies []int64
	for i := range 10 {
		l := int64(10-i) * int64(time.Millisecond)
		latencies = append(latencies, l)
		ops = append(ops, history.Op{Type: history.Invoke, Process: i, F: "read"},
			history.Op{Type: history.OK, Process: i, F: "read", Time: l})
	}
	printed := checker.Quantiles(latencies)
	all := quantileSeries(latencyPoints(ops), bucketWidth(0.01))
	if len(all) != len(plotQuantiles) {
		t.Fatalf("%d series, want one per quantile", len(all))
	}
	for i, sr := range all {
		q := plotQuantiles[i]
		var key any = q
		if q == 1 {
			key = int64(1)
		}
		v, ok := printed.Get(key)
		if !ok {
			t.Fatalf("results print no %v quantile: %v", q, printed)
		}
		if len(sr.xys) != 1 || sr.xys[0].Y != float64(v.(int64))/1e6 {
			t.Errorf("quantile %s plotted as %v, the results say %v ms", sr.name, sr.xys, float64(v.(int64))/1e6)
		}
	}
	if all[0].xys[0].Y != 6 {
		t.Errorf("median of 1..10 ms plotted as %v, want 6", all[0].xys[0].Y)
	}
}
