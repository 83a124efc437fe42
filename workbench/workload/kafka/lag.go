package kafka

import (
	"math"
	"slices"
	"sort"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/workload"
)

// RealtimeLags returns every realtime-lag sample of a kafka history
// in history order, as Jepsen's realtime-lag computes them
// (jepsen/src/jepsen/tests/kafka.clj): for each :ok poll, one sample per
// key the polling process is assigned (keys the poll returned count too).
// Check reports the largest as :worst-realtime-lag; the workload draws
// them all in one plot. A history the kafka checker cannot read yields
// nil.
func RealtimeLags(ops []history.Op) []Lag {
	h, err := parseKafka(ops)
	if err != nil {
		return nil
	}
	var lags []Lag
	h.realtimeLags(func(l Lag, _ int32) { lags = append(lags, l) })
	return lags
}

// kafkaKnown is the moment an offset became known to exist: from op
// completion time on, every offset up to off existed.
type kafkaKnown struct {
	off  int64
	time int64
}

// realtimeLags calls emit with every realtime-lag sample, in history
// order, with the key's id.
//
// Jepsen first records, per key k and offset j, E(k, j): the completion
// time of the first :ok or :info send or poll, in history order, that
// showed an offset ≥ j of k (a send's offset counts as at least 0; a poll
// listing k with no messages shows -1). Jepsen keeps a vector indexed by
// offset; we keep the increasing steps of that function, so sparse
// offsets cost nothing. Then, per process, the keys assigned by its last
// :ok assign (offset -1 until polled; keys it kept keep their offsets)
// are advanced by each :ok poll to the highest offsets it returned, and
// each such key k at offset o lags max(0, invocation time − E(k, o+1)),
// or 0 when no op ever showed offset o+1.
func (h *kafkaHistory) realtimeLags(emit func(Lag, int32)) {
	known := make([][]kafkaKnown, len(h.keys))
	note := func(key int32, off int64, t int64) {
		ks := known[key]
		if n := len(ks); n == 0 || off > ks[n-1].off {
			known[key] = append(ks, kafkaKnown{off, t})
		}
	}
	for _, o := range h.kops {
		if o.typ != history.OK && o.typ != history.Info {
			continue
		}
		t := h.ops[o.i].Time
		switch o.kind {
		case kafkaSend:
			if o.hasOff {
				note(o.key, max(0, o.off), t)
			}
		case kafkaPoll:
			for _, r := range h.reads[o.rs:o.re] {
				if r.maxOff >= 0 {
					note(r.key, r.maxOff, t)
				}
			}
		}
	}
	expiredAt := func(key int32, j int64) (int64, bool) {
		ks := known[key]
		i := sort.Search(len(ks), func(i int) bool { return ks[i].off >= j })
		if i == len(ks) {
			return math.MaxInt64, false
		}
		return ks[i].time, true
	}

	// A process's keys: offsets in insertion order (as a small Clojure map
	// iterates), and each key's position in it.
	type assigned struct {
		keys []int32
		offs []int64
		pos  map[int32]int
	}
	procs := map[int]*assigned{}
	for _, o := range h.kops {
		if o.typ != history.OK {
			continue
		}
		switch o.kind {
		case kafkaAssign:
			old := procs[o.proc]
			next := &assigned{pos: make(map[int32]int, len(o.keys))}
			for _, k := range o.keys {
				if _, dup := next.pos[k]; dup {
					continue
				}
				off := int64(-1)
				if old != nil {
					if i, ok := old.pos[k]; ok {
						off = old.offs[i]
					}
				}
				next.pos[k] = len(next.keys)
				next.keys = append(next.keys, k)
				next.offs = append(next.offs, off)
			}
			procs[o.proc] = next
		case kafkaPoll:
			cur := procs[o.proc]
			if cur == nil {
				cur = &assigned{pos: map[int32]int{}}
				procs[o.proc] = cur
			}
			for _, r := range h.reads[o.rs:o.re] {
				if i, ok := cur.pos[r.key]; ok {
					cur.offs[i] = max(cur.offs[i], r.maxOff)
					continue
				}
				cur.pos[r.key] = len(cur.keys)
				cur.keys = append(cur.keys, r.key)
				cur.offs = append(cur.offs, r.maxOff)
			}
			at := h.ops[o.i].Time
			if o.inv >= 0 {
				at = h.ops[o.inv].Time
			}
			for i, k := range cur.keys {
				var lag int64
				if e, ok := expiredAt(k, cur.offs[i]+1); ok {
					lag = max(0, at-e)
				}
				emit(Lag{Time: at, Process: o.proc, Key: h.keyLabel(k), Lag: lag}, k)
			}
		}
	}
}

// keyLabel is a key as text: the string itself, or its canonical form.
func (h *kafkaHistory) keyLabel(id int32) string {
	if s, ok := h.keys[id].name.(string); ok {
		return s
	}
	return history.Key(h.keys[id].name)
}

// RealtimeLagPlot is the file name of the plot of RealtimeLags.
const RealtimeLagPlot = "realtime-lag.png"

// Files declares realtime-lag.png, the plot of every poll's realtime lag
// (report.WriteRealtimeLagPlot), which Jepsen's kafka checker draws.
func (*kafka) Files() []workload.File {
	return []workload.File{{Name: RealtimeLagPlot, Write: writeRealtimeLagPlot}}
}

// writeRealtimeLagPlot draws the realtime lags of ops at path. A run
// without an :ok poll has no lag to show and gets no plot.
func writeRealtimeLagPlot(path string, ops []history.Op) error {
	polled := slices.ContainsFunc(ops, func(op history.Op) bool {
		return op.IsClient() && op.Type == history.OK && op.F == "poll"
	})
	if !polled {
		return nil
	}
	lags := RealtimeLags(ops)
	samples := make([]report.LagSample, len(lags))
	for i, l := range lags {
		samples[i] = report.LagSample{Time: l.Time, Process: l.Process, Lag: l.Lag}
	}
	return report.WriteRealtimeLagPlot(path, ops, samples)
}
