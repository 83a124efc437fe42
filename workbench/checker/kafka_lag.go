package checker

import (
	"math"
	"sort"

	"github.com/glomers/glomers/workbench/history"
)

// KafkaRealtimeLags returns every realtime-lag sample of a kafka history
// in history order, as Jepsen's realtime-lag computes them
// (jepsen/src/jepsen/tests/kafka.clj): for each :ok poll, one sample per
// key the polling process is assigned (keys the poll returned count too).
// Kafka reports the largest as :worst-realtime-lag; the workload draws
// them all in one plot. A history the kafka checker cannot read yields
// nil.
func KafkaRealtimeLags(ops []history.Op) []KafkaLag {
	h, err := parseKafka(ops)
	if err != nil {
		return nil
	}
	var lags []KafkaLag
	h.realtimeLags(func(l KafkaLag, _ int32) { lags = append(lags, l) })
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
func (h *kafkaHistory) realtimeLags(emit func(KafkaLag, int32)) {
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

	type assigned struct {
		key int32
		off int64
	}
	offsets := map[int][]assigned{} // process -> its keys, in insertion order
	for _, o := range h.kops {
		if o.typ != history.OK {
			continue
		}
		switch o.kind {
		case kafkaAssign:
			old := offsets[o.proc]
			var next []assigned
		keys:
			for _, k := range o.keys {
				for _, a := range next {
					if a.key == k {
						continue keys
					}
				}
				a := assigned{k, -1}
				for _, b := range old {
					if b.key == k {
						a.off = b.off
					}
				}
				next = append(next, a)
			}
			offsets[o.proc] = next
		case kafkaPoll:
			cur := offsets[o.proc]
		reads:
			for _, r := range h.reads[o.rs:o.re] {
				for i := range cur {
					if cur[i].key == r.key {
						cur[i].off = max(cur[i].off, r.maxOff)
						continue reads
					}
				}
				cur = append(cur, assigned{r.key, r.maxOff})
			}
			offsets[o.proc] = cur
			at := h.ops[o.i].Time
			if o.inv >= 0 {
				at = h.ops[o.inv].Time
			}
			for _, a := range cur {
				var lag int64
				if e, ok := expiredAt(a.key, a.off+1); ok {
					lag = max(0, at-e)
				}
				emit(KafkaLag{Time: at, Process: o.proc, Key: h.keyLabel(a.key), Lag: lag}, a.key)
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
