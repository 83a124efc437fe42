package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
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
