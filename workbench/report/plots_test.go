package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/history"
)

func TestPartitionIntervals(t *testing.T) {
	nem := func(f string, typ history.Type, at int64) history.Op {
		return history.Op{Process: history.NemesisProcess, F: f, Type: typ, Time: at}
	}
	client := func(typ history.Type, at int64) history.Op {
		return history.Op{Process: 0, F: "read", Type: typ, Time: at}
	}
	cases := []struct {
		name string
		ops  []history.Op
		want [][2]int64
	}{
		{"none", []history.Op{client(history.Invoke, 1), client(history.OK, 2)}, nil},
		{"one healed", []history.Op{
			nem("start-partition", history.Info, 10), nem("start-partition", history.Info, 12),
			client(history.Invoke, 15), client(history.OK, 16),
			nem("stop-partition", history.Info, 20), nem("stop-partition", history.Info, 23),
		}, [][2]int64{{10, 23}}},
		{"two, the last never healed", []history.Op{
			nem("start-partition", history.Info, 10), nem("start-partition", history.Info, 11),
			nem("stop-partition", history.Info, 20), nem("stop-partition", history.Info, 21),
			nem("start-partition", history.Info, 30), nem("start-partition", history.Info, 31),
			client(history.Invoke, 40), client(history.Info, 50),
		}, [][2]int64{{10, 21}, {30, 50}}},
		{"the final heal after a healed partition is no partition", []history.Op{
			nem("start-partition", history.Info, 10), nem("start-partition", history.Info, 11),
			nem("stop-partition", history.Info, 20), nem("stop-partition", history.Info, 21),
			client(history.Invoke, 25), client(history.OK, 26),
			nem("stop-partition", history.Info, 30), nem("stop-partition", history.Info, 31),
		}, [][2]int64{{10, 21}}},
		{"stop without start", []history.Op{
			nem("stop-partition", history.Info, 5), nem("stop-partition", history.Info, 6),
		}, nil},
		{"client ops named like nemesis ops are ignored", []history.Op{
			{Process: 3, F: "start", Type: history.Invoke, Time: 1},
		}, nil},
	}
	for _, c := range cases {
		if got := PartitionIntervals(c.ops); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: PartitionIntervals = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBucketWidthAndQuantile(t *testing.T) {
	for secs, want := range map[float64]float64{0: 0.01, 0.1: 0.01, 10: 0.5, 60: 2, 600: 20, 100: 5} {
		if got := bucketWidth(secs); got != want {
			t.Errorf("bucketWidth(%v) = %v, want %v", secs, got, want)
		}
	}
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0: 1, 0.5: 5, 0.95: 10, 1: 10} {
		if got := quantile(xs, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
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
			if err := WritePlots(dir, ops, PartitionIntervals(ops)); err != nil {
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
	if err := WritePlots(t.TempDir(), ops, PartitionIntervals(ops)); err != nil {
		t.Fatal(err)
	}
	t.Log(fmt.Sprintf("plotting %d ops took %v", len(ops)/2, time.Since(began)))
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
	var points []latencyPoint
	for _, p := range history.Pairs(phasedHistory()) {
		points = append(points, latencyPoint{f: p.Invoke.F, typ: p.Complete.Type, invoke: float64(p.Invoke.Time) / 1e9,
			done: float64(p.Complete.Time) / 1e9, latency: float64(p.Complete.Time-p.Invoke.Time) / 1e6, final: p.Invoke.Final})
	}
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
	if err := WritePlots(dir, ops, PartitionIntervals(ops)); err != nil {
		t.Fatal(err)
	}
	checkPNGs(t, dir)
}
