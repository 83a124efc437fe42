package kafka

import (
	"math"
	"slices"
	"sort"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/report"
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
	realtimeLags(h, func(l Lag, _ int32) { lags = append(lags, l) })
	return lags
}

// kafkaKnown is the moment an offset became known to exist: from op
// completion time on, every offset up to off existed.
type kafkaKnown struct {
	off  int64
	time int64
}

// realtimeLags calls emit with every realtime-lag sample of h, in
// history order, with the key's id.
//
// Jepsen first records, per key k and offset j, E(k, j): the completion
// time of the first :ok or :info send or poll, in history order, that
// showed an offset ≥ j of k (see knownOffsets). Then, per process, the
// keys assigned by its last :ok assign (offset -1 until polled; keys it
// kept keep their offsets) are advanced by each :ok poll to the highest
// offsets it returned (see kafkaAssigned), and each such key k at offset
// o lags max(0, invocation time − E(k, o+1)), or 0 when no op ever
// showed offset o+1.
func realtimeLags(h *kafkaHistory, emit func(Lag, int32)) {
	known := knownOffsets(h)
	procs := map[int]*kafkaAssigned{}
	for _, o := range h.kops {
		if o.typ != history.OK {
			continue
		}
		switch o.kind {
		case kafkaAssign:
			procs[o.proc] = procs[o.proc].reassign(o.keys)
		case kafkaPoll:
			cur := procs[o.proc]
			if cur == nil {
				cur = &kafkaAssigned{pos: map[int32]int{}}
				procs[o.proc] = cur
			}
			cur.advance(h.reads[o.rs:o.re])
			at := h.ops[o.i].Time
			if o.inv >= 0 {
				at = h.ops[o.inv].Time
			}
			for i, k := range cur.keys {
				var lag int64
				if e, ok := known.expiredAt(k, cur.offs[i]+1); ok {
					lag = max(0, at-e)
				}
				emit(Lag{Time: at, Process: o.proc, Key: kafkaKeyLabel(h.keys[k].name), Lag: lag}, k)
			}
		}
	}
}

// kafkaKnownSteps holds, per key, the increasing steps of E(k, ·): from
// each step's time on, every offset up to its off was known to exist.
type kafkaKnownSteps [][]kafkaKnown

// knownOffsets computes E(k, j) of realtimeLags: per key, the completion
// time of the first :ok or :info send or poll, in history order, that
// showed an offset ≥ j (a send's offset counts as at least 0; a poll
// listing the key with no messages shows -1). Jepsen keeps a vector
// indexed by offset; we keep the increasing steps of that function, so
// sparse offsets cost nothing.
func knownOffsets(h *kafkaHistory) kafkaKnownSteps {
	known := make(kafkaKnownSteps, len(h.keys))
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
	return known
}

// expiredAt returns E(key, j), false when no op ever showed offset j.
func (known kafkaKnownSteps) expiredAt(key int32, j int64) (int64, bool) {
	ks := known[key]
	i := sort.Search(len(ks), func(i int) bool { return ks[i].off >= j })
	if i == len(ks) {
		return math.MaxInt64, false
	}
	return ks[i].time, true
}

// kafkaAssigned is one process's keys in realtimeLags: their offsets in
// insertion order (as a small Clojure map iterates), and each key's
// position in it.
type kafkaAssigned struct {
	keys []int32
	offs []int64
	pos  map[int32]int
}

// reassign returns the state after an :ok assign of keys: exactly those
// keys, each at its old offset when a (which may be nil) had it, -1
// otherwise.
func (a *kafkaAssigned) reassign(keys []int32) *kafkaAssigned {
	next := &kafkaAssigned{pos: make(map[int32]int, len(keys))}
	for _, k := range keys {
		if _, dup := next.pos[k]; dup {
			continue
		}
		off := int64(-1)
		if a != nil {
			if i, ok := a.pos[k]; ok {
				off = a.offs[i]
			}
		}
		next.pos[k] = len(next.keys)
		next.keys = append(next.keys, k)
		next.offs = append(next.offs, off)
	}
	return next
}

// advance moves each key an :ok poll listed to the highest offset it
// returned, adding the keys it did not have.
func (a *kafkaAssigned) advance(reads []kread) {
	for _, r := range reads {
		if i, ok := a.pos[r.key]; ok {
			a.offs[i] = max(a.offs[i], r.maxOff)
			continue
		}
		a.pos[r.key] = len(a.keys)
		a.keys = append(a.keys, r.key)
		a.offs = append(a.offs, r.maxOff)
	}
}

// RealtimeLagPlot is the file name of the plot of RealtimeLags.
const RealtimeLagPlot = "realtime-lag.png"

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
