package report

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// kafkaHistory is a kafka run of 20 s: process 0 sends a message to key
// "k" every 100 ms; process 1 polls every 200 ms and sees every message
// but the last three, except from 8 s to 12 s, when nobody polls; a
// partition lasts from 3 s to 6 s.
func kafkaHistory() []history.Op {
	var ops []history.Op
	add := func(op history.Op) {
		op.Index = len(ops)
		ops = append(ops, op)
	}
	ms := func(n int) int64 { return int64(n) * int64(time.Millisecond) }
	pollOp := []any{[]any{edn.Keyword("poll")}}
	for i := range 200 {
		at := ms(100 * i)
		if at == ms(3000) || at == ms(6000) {
			f := map[int64]string{ms(3000): "start-partition", ms(6000): "stop-partition"}[at]
			add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: f, Time: at})
			add(history.Op{Process: history.NemesisProcess, Type: history.Info, F: f, Time: at})
		}
		add(history.Op{Process: 0, Type: history.Invoke, F: "send", Time: at,
			Value: []any{[]any{edn.Keyword("send"), "k", int64(i)}}})
		add(history.Op{Process: 0, Type: history.OK, F: "send", Time: at + ms(2),
			Value: []any{[]any{edn.Keyword("send"), "k", []any{int64(i), int64(i)}}}})
		if i%2 == 1 && i > 4 && (at < ms(8000) || at >= ms(12000)) {
			var msgs []any
			for o := int64(0); o <= int64(i)-3; o++ {
				msgs = append(msgs, []any{o, o})
			}
			add(history.Op{Process: 1, Type: history.Invoke, F: "poll", Time: at + ms(50), Value: pollOp})
			add(history.Op{Process: 1, Type: history.OK, F: "poll", Time: at + ms(60),
				Value: []any{[]any{edn.Keyword("poll"), map[string]any{"k": msgs}}}})
		}
	}
	return ops
}

func TestPollLags(t *testing.T) {
	got := pollLags([]LagSample{
		{Time: 1e9, Process: 0, Lag: 5}, {Time: 1e9, Process: 0, Lag: 9},
		{Time: 1e9, Process: 2, Lag: 1}, {Time: 2e9, Process: 0, Lag: 0},
	})
	want := []lagPoint{{1, 9}, {1, 1}, {2, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pollLags = %v, want %v", got, want)
	}
}

func TestLagSeriesBreakAtGaps(t *testing.T) {
	var points []lagPoint
	for _, at := range []float64{0.1, 0.5, 1.2, 2.7, 3.1, 9.4, 10.2} {
		points = append(points, lagPoint{at: at, lag: int64(at * 1e9)})
	}
	got := lagSeries(points, 1, 1e9)
	if len(got) != 2 || len(got[0]) != 4 || len(got[1]) != 2 {
		t.Fatalf("series %v, want buckets 0–3 and 9–10 apart", got)
	}
	if got[0][0].X != 0.5 || got[0][0].Y != 0.5 || got[1][1].X != 10.5 || got[1][1].Y != 10.2 {
		t.Errorf("series %v: want the worst lag of each bucket at its middle", got)
	}
}

// pollSamples is one lag sample per :ok poll of ops, lagging by the
// three messages each poll of kafkaHistory misses (300 ms).
func pollSamples(ops []history.Op) []LagSample {
	var out []LagSample
	for _, op := range ops {
		if op.Type == history.OK && op.F == "poll" {
			out = append(out, LagSample{Time: op.Time - 10*int64(time.Millisecond), Process: op.Process, Lag: 300 * int64(time.Millisecond)})
		}
	}
	return out
}

// A kafka run's realtime-lag.png, which the kafka workload writes, shades
// the faults; its page shows it and the serve index links it. The
// bench's own plots never include it.
func TestStoreShowsRealtimeLagPlot(t *testing.T) {
	const lagPlot = "realtime-lag.png"
	ops := kafkaHistory()
	root := t.TempDir()
	s := newTestStore(t, root, "kafka", start)
	if err := s.WritePlots(ops); err != nil {
		t.Fatal(err)
	}
	if err := WriteRealtimeLagPlot(s.Path(lagPlot), ops, pollSamples(ops)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	im := decodePNG(t, filepath.Join(s.Dir(), lagPlot))
	if b := im.Bounds(); b.Dx() < 500 || b.Dy() < 250 {
		t.Errorf("%s is %v", lagPlot, b)
	}
	if !hasPixel(im, overWhite(faultFills["partition"])) {
		t.Errorf("%s does not shade the partition", lagPlot)
	}
	page := readFile(t, filepath.Join(s.Dir(), "index.html"))
	if !strings.Contains(page, `<img class="plot" src="realtime-lag.png"`) {
		t.Error("the run page does not show realtime-lag.png")
	}
	_, index := get(t, NewServer(root), "/")
	if !strings.Contains(index, `href="/files/kafka/20210223T103056.288-0500/realtime-lag.png">realtime-lag</a>`) {
		t.Errorf("the index's plots column does not link realtime-lag.png:\n%s", index)
	}

	other := newTestStore(t, root, "echo", start)
	if err := other.WritePlots(echoHistory()); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := os.Stat(filepath.Join(other.Dir(), lagPlot)); err == nil {
		t.Errorf("an echo run has %s", lagPlot)
	}
}
