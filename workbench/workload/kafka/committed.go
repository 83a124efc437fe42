package kafka

import (
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// kafkaCommittedErrs caps the cases CheckCommittedOffsets lists.
const kafkaCommittedErrs = 8

// CheckCommittedOffsets checks what Maelstrom cannot see: that a kafka
// service never forgets or rewinds a committed offset. It goes beyond
// Maelstrom (whose assign keeps the keys it asked list_committed_offsets
// about but drops the answer); our kafka workload records the answer on
// the :ok completion of every assign without :seek-to-beginning? as the
// extra key :committed-offsets {k offset}.
//
// Assumption: committed offsets are monotonic, so a key's committed
// offset is at least the highest offset any acknowledged commit_offsets
// carried for it. An :ok poll that returned messages committed, per key,
// its highest polled offset (Maelstrom's client commits those before
// completing the poll :ok). So for every such assign, each key it lists
// that some :ok poll completed before the assign was invoked has
// committed must appear in the answer with at least the highest offset
// so committed; a missing or lower answer is an error:
//
//	{:key "k", :committed 3, :expected 5, :commit <the :ok poll>, :assign <the assign>}
//
// (:committed is nil when the answer left the key out). The result is
// {:valid? bool, :count n, :errs [the first 8 cases]}.
func CheckCommittedOffsets(ops []history.Op) edn.Map {
	type commit struct {
		off  int64
		poll int // ops index of the :ok poll that committed it
	}
	committed := map[string]commit{}
	// snapshot of committed[k] for the keys of each process's open assign
	pending := map[int]map[string]commit{}
	var errs edn.Vector
	count := 0
	for i := range ops {
		op := &ops[i]
		if !op.IsClient() {
			continue
		}
		switch {
		case op.F == "assign" && op.Type == history.Invoke:
			snap := map[string]commit{}
			keys, _ := op.Value.([]any)
			for _, k := range keys {
				if s, ok := k.(string); ok {
					if c, ok := committed[s]; ok {
						snap[s] = c
					}
				}
			}
			pending[op.Process] = snap
		case op.F == "assign":
			snap := pending[op.Process]
			delete(pending, op.Process)
			if op.Type != history.OK || len(snap) == 0 {
				continue
			}
			if op.Extra.Lookup("seek-to-beginning?") == true {
				continue
			}
			answer, ok := op.Extra.Get(edn.Keyword("committed-offsets"))
			if !ok {
				continue // not recorded: nothing to check
			}
			keys, _ := op.Value.([]any)
			for _, k := range keys {
				s, _ := k.(string)
				want, ok := snap[s]
				if !ok {
					continue
				}
				got, present := committedOffset(answer, s)
				if present && got >= want.off {
					continue
				}
				count++
				if len(errs) < kafkaCommittedErrs {
					var gotEDN any
					if present {
						gotEDN = got
					}
					errs = append(errs, edn.K("key", s, "committed", gotEDN, "expected", want.off,
						"commit", ops[want.poll].EDN(), "assign", op.EDN()))
				}
				snap[s] = commit{off: -1 << 62} // one case per key and assign
			}
		case op.F == "poll" && op.Type == history.OK:
			for key, off := range kafkaPolledMax(op.Value) {
				if c, ok := committed[key]; !ok || off > c.off {
					committed[key] = commit{off, i}
				}
			}
		}
	}
	if errs == nil {
		errs = edn.Vector{}
	}
	return edn.K("valid?", count == 0, "count", count, "errs", errs)
}

// committedOffset reads key s from a recorded list_committed_offsets
// answer (map[string]any or an edn.Map with string keys).
func committedOffset(answer any, s string) (int64, bool) {
	var v any
	var ok bool
	switch m := answer.(type) {
	case map[string]any:
		v, ok = m[s]
	case edn.Map:
		v, ok = m.Get(s)
	}
	if !ok {
		return 0, false
	}
	return history.Int(v)
}

// kafkaPolledMax returns, per key with at least one message in an :ok
// poll's value, the offset Maelstrom's client committed for it: the
// highest offset polled, at least 0 (kafka.clj txn-offsets).
func kafkaPolledMax(v any) map[string]int64 {
	mop, err := singleMop(v, "poll")
	if err != nil || len(mop) < 2 {
		return nil
	}
	out := map[string]int64{}
	visit := func(k string, list any) {
		pairs, _ := list.([]any)
		for _, p := range pairs {
			pair, ok := p.([]any)
			if !ok || len(pair) != 2 {
				continue
			}
			if off, ok := history.Int(pair[0]); ok {
				out[k] = max(out[k], off)
			}
		}
	}
	kafkaEachKey(mop[1], visit)
	return out
}

// kafkaEachKey calls f with each string key of a poll reply (a
// map[string]any or an edn.Map) and its list of [offset message] pairs.
func kafkaEachKey(reply any, f func(key string, list any)) {
	switch m := reply.(type) {
	case map[string]any:
		for k, l := range m {
			f(k, l)
		}
	case edn.Map:
		for _, e := range m {
			if k, ok := e.Key.(string); ok {
				f(k, e.Val)
			}
		}
	}
}
