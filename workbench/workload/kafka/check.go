package kafka

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Lag is one realtime-lag sample of the kafka workload: at Time (ns,
// the invocation of an :ok poll) process Process, assigned key Key, was
// Lag ns behind the newest offset of Key known to exist.
type Lag struct {
	Time    int64
	Process int
	Key     string
	Lag     int64 // ns
}

// Caps on the errors listed per type, as Jepsen's condense-error applies
// them (jepsen/src/jepsen/tests/kafka.clj).
const (
	kafkaManyErrs = 32 // :duplicate, :inconsistent-offsets, :unseen messages
	kafkaFewErrs  = 8  // skips, nonmonotonic cases, G0/G1c cycles
)

// kafkaAllowed are the error types that do not make a Maelstrom kafka run
// invalid (Jepsen kafka.clj allowed-error-types, for Maelstrom's test: no
// :subscribe, no :ww-deps).
var kafkaAllowed = map[string]bool{
	"int-send-skip": true, "G0": true, "G0-process": true, "G0-realtime": true,
	"PL-1-cycle-exists": true, "strong-PL-1-cycle-exists": true,
}

// kcase is one error case with the figure condense-error sorts it by.
type kcase struct {
	sort int64
	m    edn.Map
}

// kafkaErrors collects error cases by type.
type kafkaErrors map[string][]kcase

func (e kafkaErrors) add(typ string, sortBy int64, m edn.Map) {
	e[typ] = append(e[typ], kcase{sortBy, m})
}

// kafkaFailure is an analysis that cannot finish, as when Jepsen's
// analysis throws; Check reports it as {:valid? :unknown, :error ...}.
type kafkaFailure struct {
	cause string
	data  edn.Map
}

func (f *kafkaFailure) Error() string { return f.cause }

// Check checks a kafka history as Maelstrom 0.2.4's kafka workload does
// (src/maelstrom/workload/kafka.clj, which uses the checker of Jepsen
// 0.3.7's jepsen/src/jepsen/tests/kafka.clj: analysis, checker,
// condense-error), and returns the :workload result:
//
//	{:valid? true, :worst-realtime-lag {:time 0.047601458, :process 4, :key "8", :lag 0.0},
//	 :bad-error-types (), :error-types (), :info-txn-causes ()}
//
// plus, for each error type found, <type> {:count n, :errs [...]} (only
// the most telling cases are listed: 32 for :duplicate and
// :inconsistent-offsets, 8 for skips, nonmonotonic cases and G0/G1c
// cycles) and, unwrapped, :unseen {:time t, :unseen {k n}, :messages {k
// (first 32)}}. The rules, over client send and poll operations:
//
//   - Version order per key: offset → messages, from every :ok poll and
//     every :ok send. The distinct offsets are numbered 0, 1, 2, ... (the
//     dense index); one message per offset represents it (the smallest:
//     Jepsen takes the first of a Clojure hash set), and a message's index
//     is the last index it represents. Messages without an index never
//     count as skipped or out of order.
//   - :inconsistent-offsets: an offset holds two different messages.
//   - :duplicate: a message appears at more than one offset.
//   - :G1a: an :ok poll returned a message whose send failed.
//   - :lost-write: a message whose send must have committed (:ok, or
//     :info but polled) was never polled, although it lies at or before
//     the highest index of a polled message.
//   - :int-poll-skip, :int-nonmonotonic-poll: inside one poll, consecutive
//     messages of a key are more than one index apart, or do not advance.
//   - :poll-skip, :nonmonotonic-poll: the same across one process's
//     consecutive :ok polls of a key (an assign that drops the key resets).
//   - :nonmonotonic-send: one process's consecutive sends to a key do not
//     advance in the version order.
//   - :unseen: messages acknowledged by :ok sends that no :ok poll
//     returned, as of the last :ok send or poll (which, when it is the
//     first :ok op to list a key, also counts what it polled there, as
//     Jepsen's merge of sent and polled maps does).
//   - cycles over write→read and realtime edges (a poll observing a
//     message whose send began after the poll ended): :G1c-realtime and
//     the cycle-exists findings Elle reports with them.
//
// A poll of a message no send ever sent makes the result {:valid?
// :unknown, :error {...}}, as Jepsen's analysis throws there; so does a
// key that :ok polls only ever listed with empty lists (Jepsen's
// lost-write-cases then takes element -1 of a vector).
//
// Unlike Jepsen, the analysis never allocates per offset: logs are kept
// over the distinct offsets seen, so sparse offsets (say hybrid-clock
// offsets near 1e15) cost nothing extra. Where Jepsen's output order comes
// from a Clojure hash map or set we use a deterministic order instead:
// keys by name, messages ascending, processes ascending.
func Check(ops []history.Op) edn.Map {
	h, err := parseKafka(ops)
	if err != nil {
		return edn.K("valid?", checker.Unknown.EDN(), "error", edn.K("cause", err.Error()))
	}
	errs := kafkaErrors{}
	h.versionOrderErrors(errs)
	h.duplicates(errs)
	h.g1a(errs)
	if f := h.lostWrites(errs); f != nil {
		return kafkaUnknown(f)
	}
	h.intPollCases(errs)
	h.pollCases(errs)
	h.nonmonotonicSends(errs)
	if f := h.unknownMessages(); f != nil {
		return kafkaUnknown(f)
	}
	// Jepsen's cycles! skips histories without client ops.
	var cycles elle.Anomalies
	empty := false
	if slices.ContainsFunc(ops, history.Op.IsClient) {
		cycles, empty = sendPollCycles(h)
	}
	for _, typ := range cycles.Types() {
		for _, c := range cycles[typ] {
			errs.add(typ, int64(len(edn.Items(c.Lookup("steps")))), c)
		}
	}
	unseen := h.unseen()

	// The first lag of the largest value, as jepsen.util/max-by picks it.
	var worst Lag
	worstKey := int32(-1)
	realtimeLags(h, func(l Lag, key int32) {
		if worstKey < 0 || l.Lag > worst.Lag {
			worst, worstKey = l, key
		}
	})
	worstEDN := edn.K("time", 0.0, "lag", 0.0)
	if worstKey >= 0 {
		worstEDN = edn.K("time", float64(worst.Time)/1e9, "process", worst.Process,
			"key", h.keys[worstKey].name, "lag", float64(worst.Lag)/1e9)
	}

	// Every error type, condensed, in keyword order.
	types := map[string]any{}
	for typ, cs := range errs {
		types[typ] = condenseKafka(typ, cs)
	}
	if empty {
		types["empty-transaction-graph"] = edn.K("count", 1, "errs", true)
	}
	if unseen != nil {
		types["unseen"] = unseen
	}
	names := make([]string, 0, len(types))
	for typ := range types {
		names = append(names, typ)
	}
	sort.Strings(names)
	bad, all := edn.List{}, edn.List{}
	for _, typ := range names {
		all = append(all, edn.Keyword(typ))
		if !kafkaAllowed[typ] {
			bad = append(bad, edn.Keyword(typ))
		}
	}
	res := edn.K(
		"valid?", len(bad) == 0,
		"worst-realtime-lag", worstEDN,
		"bad-error-types", bad,
		"error-types", all,
		"info-txn-causes", h.infoCauses(),
	)
	for _, typ := range names {
		res = append(res, edn.Entry{Key: edn.Keyword(typ), Val: types[typ]})
	}
	return res
}

// kafkaUnknown is the result of an analysis that could not finish, shaped
// like Jepsen's check-safe result: {:valid? :unknown, :error {:cause ...,
// :data {...}}}.
func kafkaUnknown(f *kafkaFailure) edn.Map {
	e := edn.K("cause", f.cause)
	if f.data != nil {
		e = append(e, edn.Entry{Key: edn.Keyword("data"), Val: f.data})
	}
	return edn.K("valid?", checker.Unknown.EDN(), "error", e)
}

// condenseKafka applies Jepsen's condense-error to one error type's cases
// (in the order found): {:count n, :errs [...]}.
func condenseKafka(typ string, cs []kcase) edn.Map {
	sorted := func() []kcase {
		s := slices.Clone(cs)
		slices.SortStableFunc(s, func(a, b kcase) int { return cmp.Compare(a.sort, b.sort) })
		return s
	}
	keep := cs
	switch typ {
	case "duplicate", "inconsistent-offsets":
		keep = sorted()
		keep = keep[:min(len(keep), kafkaManyErrs)]
	case "int-nonmonotonic-poll", "int-nonmonotonic-send", "nonmonotonic-poll", "nonmonotonic-send",
		"G0", "G0-process", "G0-realtime", "G1c", "G1c-process", "G1c-realtime":
		keep = sorted()
		keep = keep[:min(len(keep), kafkaFewErrs)]
	case "int-poll-skip", "int-send-skip", "poll-skip":
		keep = sorted()
		keep = keep[max(0, len(keep)-kafkaFewErrs):]
	}
	l := make(edn.List, len(keep))
	for i, c := range keep {
		l[i] = c.m
	}
	return edn.K("count", len(cs), "errs", l)
}

// versionOrderErrors finds :inconsistent-offsets (Jepsen version-orders,
// :errors): an offset of a key holding several messages.
func (h *kafkaHistory) versionOrderErrors(errs kafkaErrors) {
	for _, id := range h.sortedKeys() {
		k := h.keys[id]
		for i, vs := range k.values {
			if len(vs) < 2 {
				continue
			}
			vals := make(edn.Set, len(vs))
			for j, m := range vs {
				vals[j] = k.msgs[m].val
			}
			errs.add("inconsistent-offsets", int64(len(vs)),
				edn.K("key", k.name, "offset", k.offsets[i], "index", i, "values", vals))
		}
	}
}

// duplicates finds :duplicate (Jepsen duplicate-cases): a message at more
// than one offset of a key. :offsets lists the offsets it appears at.
func (h *kafkaHistory) duplicates(errs kafkaErrors) {
	for _, id := range h.sortedKeys() {
		k := h.keys[id]
		seen := map[int32]bool{}
		for i, vs := range k.values {
			for _, m := range vs {
				km := k.msgs[m]
				if km.nOffsets < 2 || seen[m] {
					continue
				}
				seen[m] = true
				var offs edn.Vector
				for j := i; j <= int(km.lastIdx); j++ {
					if slices.Contains(k.values[j], m) {
						offs = append(offs, k.offsets[j])
					}
				}
				errs.add("duplicate", int64(km.nOffsets),
					edn.K("key", k.name, "value", km.val, "count", km.nOffsets, "offsets", offs))
			}
		}
	}
}

// g1a finds :G1a (Jepsen g1a-cases): an :ok poll returned a message some
// :fail send sent. :writer is the last send completion of that message.
func (h *kafkaHistory) g1a(errs kafkaErrors) {
	for o, r := range h.okPollReads {
		k := h.keys[r.key]
		for _, m := range h.readMsgs(r) {
			if km := k.msgs[m]; km.failed {
				errs.add("G1a", 0, edn.K("key", k.name, "value", km.val,
					"writer", h.opEDN(km.writer), "reader", h.opEDN(o.i)))
			}
		}
	}
}

// mustHaveCommitted tells whether the send completion at ops index w must
// have taken effect (Jepsen must-have-committed?): it is :ok, or :info
// and its message was returned by some :ok poll.
func (h *kafkaHistory) mustHaveCommitted(k *kkey, w int32, m int32) bool {
	switch h.ops[w].Type {
	case history.OK:
		return true
	case history.Info:
		return k.msgs[m].okRead
	}
	return false
}

// lostWrites finds :lost-write (Jepsen lost-write-cases). For each key
// some :ok poll listed, bound is the highest first-appearance index of
// any message :ok polls returned; every message whose last appearance is
// at or before bound, which no :ok poll returned and whose send must have
// committed, is lost. :max-read is the first :ok poll of a message whose
// last appearance is at bound (nil if none).
func (h *kafkaHistory) lostWrites(errs kafkaErrors) *kafkaFailure {
	for _, id := range h.sortedKeys() {
		k := h.keys[id]
		if !k.okPolled {
			continue
		}
		bound := int32(-1)
		for _, m := range k.msgs {
			if m.okRead {
				bound = max(bound, m.firstIdx)
			}
		}
		if bound < 0 {
			return &kafkaFailure{
				cause: fmt.Sprintf("key %s was listed by :ok polls, but only ever with no messages at known offsets; "+
					"Jepsen's lost-write-cases then looks up index -1 of the key's log and throws "+
					"IndexOutOfBoundsException, so Maelstrom cannot check this history. "+
					"A node can avoid this by leaving keys with no messages out of poll_ok", edn.Quote(k.str)),
				data: edn.K("type", edn.Keyword("index-out-of-bounds"), "key", k.name),
			}
		}
		// Jepsen's last-index->values holds a Clojure hash set per index:
		// :max-read comes from its first message, and lost messages are
		// listed in its order.
		lastAt := func(i int32) []int32 {
			if vs := k.values[i]; len(vs) == 1 {
				if k.msgs[vs[0]].lastIdx == i {
					return vs
				}
				return nil
			}
			var ms []int32
			for _, m := range k.values[i] {
				if k.msgs[m].lastIdx == i {
					ms = append(ms, m)
				}
			}
			slices.SortFunc(ms, func(a, b int32) int { return clojureSetOrder(k.msgs[a].val, k.msgs[b].val) })
			return ms
		}
		var maxRead any
		if ms := lastAt(bound); len(ms) > 0 {
			maxRead = h.opEDN(k.msgs[ms[0]].firstReader)
		}
		for i := int32(0); i <= bound; i++ {
			for _, m := range lastAt(i) {
				km := k.msgs[m]
				if km.okRead {
					continue
				}
				if km.writer < 0 {
					return &kafkaFailure{
						cause: fmt.Sprintf("message %s of key %s is in the log, but no send of it completed (Jepsen: :no-writer-of)",
							history.Key(km.val), edn.Quote(k.str)),
						data: edn.K("type", edn.Keyword("no-writer-of"), "key", k.name, "value", km.val),
					}
				}
				if !h.mustHaveCommitted(k, km.writer, m) {
					continue
				}
				errs.add("lost-write", 0, edn.K("key", k.name, "value", km.val, "index", km.firstIdx,
					"max-read-index", bound, "writer", h.opEDN(km.writer), "max-read", maxRead))
			}
		}
	}
	return nil
}

// indexDelta is the distance from message a to message b in key k's
// version order, or 1 when either has no index (Jepsen assumes no error).
func (k *kkey) indexDelta(a, b int32) (delta int64, i, j int32, known bool) {
	i, j = k.index(a), k.index(b)
	if i < 0 || j < 0 {
		return 1, i, j, false
	}
	return int64(j - i), i, j, true
}

// skipped lists the representatives strictly between indexes i and j.
func (k *kkey) skipped(i, j int32) edn.List {
	l := edn.List{}
	for x := i + 1; x < j; x++ {
		l = append(l, k.msgs[k.byIndex[x]].val)
	}
	return l
}

// msgVal is the value of message m of key k, nil for none.
func (k *kkey) msgVal(m int32) any {
	if m < 0 {
		return nil
	}
	return k.msgs[m].val
}

// intPollCases finds :int-poll-skip and :int-nonmonotonic-poll (Jepsen
// int-poll-skip+nonmonotonic-cases): consecutive messages of one key in
// one :ok poll more than one index apart, or not advancing. A message
// without an index resets the comparison.
func (h *kafkaHistory) intPollCases(errs kafkaErrors) {
	for o, r := range h.okPollReads {
		k := h.keys[r.key]
		ms := h.readMsgs(r)
		for x := 1; x < len(ms); x++ {
			d, i, j, _ := k.indexDelta(ms[x-1], ms[x])
			vals := edn.Vector{k.msgs[ms[x-1]].val, k.msgs[ms[x]].val}
			switch {
			case d > 1:
				errs.add("int-poll-skip", d, edn.K("key", k.name, "values", vals, "delta", d,
					"skipped", k.skipped(i, j), "op", h.opEDN(o.i)))
			case d < 1:
				errs.add("int-nonmonotonic-poll", d, edn.K("key", k.name, "values", vals, "delta", d,
					"op", h.opEDN(o.i)))
			}
		}
	}
}

// byProcess returns the kops indexes grouped by process, processes
// ascending, each in history order.
func (h *kafkaHistory) byProcess() [][]int32 {
	idx := map[int]int{}
	var procs []int
	for _, o := range h.kops {
		if _, ok := idx[o.proc]; !ok {
			idx[o.proc] = 0
			procs = append(procs, o.proc)
		}
	}
	slices.Sort(procs)
	for i, p := range procs {
		idx[p] = i
	}
	groups := make([][]int32, len(procs))
	for i, o := range h.kops {
		g := idx[o.proc]
		groups[g] = append(groups[g], int32(i))
	}
	return groups
}

// keepAssigned drops from last every key the assign does not list.
func keepAssigned(last map[int32]int32, assign []int32) {
	if len(last) == 0 {
		return
	}
	keep := func(k int32) bool { return slices.Contains(assign, k) }
	if len(assign) > 16 { // say the final phase's assign of every key
		set := make(map[int32]bool, len(assign))
		for _, k := range assign {
			set[k] = true
		}
		keep = func(k int32) bool { return set[k] }
	}
	for k := range last {
		if !keep(k) {
			delete(last, k)
		}
	}
}

// pollCases finds :poll-skip and :nonmonotonic-poll (Jepsen
// poll-skip+nonmonotonic-cases): for each process, each :ok poll's first
// message of a key against the last message of the key in the process's
// previous :ok poll listing it. An :ok or :info assign forgets the keys
// it does not list. A previous poll listing the key with no messages has
// no last message, so the comparison is skipped.
func (h *kafkaHistory) pollCases(errs kafkaErrors) {
	for _, group := range h.byProcess() {
		last := map[int32]int32{} // key -> kops index of last :ok poll listing it
		for _, x := range group {
			o := h.kops[x]
			switch o.kind {
			case kafkaAssign:
				if o.typ == history.OK || o.typ == history.Info {
					keepAssigned(last, o.keys)
				}
			case kafkaPoll:
				if o.typ != history.OK {
					continue
				}
				for _, r := range h.reads[o.rs:o.re] {
					prev, ok := last[r.key]
					if !ok {
						continue
					}
					k := h.keys[r.key]
					v, v2 := int32(-1), int32(-1)
					if ms := h.readOf(h.kops[prev], r.key); len(ms) > 0 {
						v = ms[len(ms)-1]
					}
					if ms := h.readMsgs(r); len(ms) > 0 {
						v2 = ms[0]
					}
					d, i, j, _ := k.indexDelta(v, v2)
					ops := edn.Vector{h.opEDN(h.kops[prev].i), h.opEDN(o.i)}
					switch {
					case d > 1:
						errs.add("poll-skip", d, edn.K("key", k.name, "delta", d,
							"skipped", k.skipped(i, j), "ops", ops))
					case d < 1:
						errs.add("nonmonotonic-poll", d, edn.K("key", k.name,
							"values", edn.Vector{k.msgVal(v), k.msgVal(v2)}, "delta", d, "ops", ops))
					}
				}
				for _, r := range h.reads[o.rs:o.re] {
					last[r.key] = x
				}
			}
		}
	}
}

// readOf returns the messages poll o returned for key, if it listed it.
func (h *kafkaHistory) readOf(o kop, key int32) []int32 {
	for _, r := range h.reads[o.rs:o.re] {
		if r.key == key {
			return h.readMsgs(r)
		}
	}
	return nil
}

// nonmonotonicSends finds :nonmonotonic-send (Jepsen
// nonmonotonic-send-cases): one process's consecutive :ok or :info sends
// to a key whose messages do not advance in the version order. An :ok or
// :info assign forgets the keys it does not list.
func (h *kafkaHistory) nonmonotonicSends(errs kafkaErrors) {
	for _, group := range h.byProcess() {
		last := map[int32]int32{} // key -> kops index of the last send to it
		for _, x := range group {
			o := h.kops[x]
			if o.typ != history.OK && o.typ != history.Info {
				continue
			}
			switch o.kind {
			case kafkaAssign:
				keepAssigned(last, o.keys)
			case kafkaSend:
				if prev, ok := last[o.key]; ok {
					k := h.keys[o.key]
					p := h.kops[prev]
					if d, _, _, known := k.indexDelta(p.msg, o.msg); known && d < 1 {
						errs.add("nonmonotonic-send", d, edn.K("key", k.name,
							"values", edn.Vector{k.msgVal(p.msg), k.msgVal(o.msg)}, "delta", d,
							"ops", edn.Vector{h.opEDN(p.i), h.opEDN(o.i)}))
					}
				}
				last[o.key] = x
			}
		}
	}
}

// unknownMessages reports the first message an :ok poll returned that no
// send (of any outcome) sent: Jepsen's wr-graph throws
// :no-writer-of-value there, and the workload result becomes :unknown.
func (h *kafkaHistory) unknownMessages() *kafkaFailure {
	for o, r := range h.okPollReads {
		k := h.keys[r.key]
		for _, m := range h.readMsgs(r) {
			if km := k.msgs[m]; km.writer < 0 {
				op := h.ops[o.i]
				return &kafkaFailure{
					cause: fmt.Sprintf("poll (op %d, process %d) returned message %s of key %s, "+
						"but no send of that message to that key appears in the history "+
						"(Jepsen's wr-graph throws :no-writer-of-value, so Maelstrom cannot check this history)",
						op.Index, op.Process, history.Key(km.val), edn.Quote(k.str)),
					data: edn.K("type", edn.Keyword("no-writer-of-value"), "key", k.name, "value", km.val),
				}
			}
		}
	}
	return nil
}

// unseen computes Jepsen's unseen analysis at the last :ok send or poll L
// (the only observation the result prints): per key, the messages :ok
// sends acknowledged that no :ok poll returned. Jepsen merges sent and
// polled sets with bifurcan's merge, which keeps keys present only in the
// polled map; so a key first touched by L itself, when L is a poll,
// counts the messages L returned for it. Returns nil when nothing is
// unseen.
func (h *kafkaHistory) unseen() edn.Map {
	last := -1
	for x, o := range h.kops {
		if o.typ == history.OK && (o.kind == kafkaSend || o.kind == kafkaPoll) {
			last = x
		}
	}
	if last < 0 {
		return nil
	}
	before := make([]bool, len(h.keys)) // touched by an :ok send/poll before L
	for _, o := range h.kops[:last] {
		if o.typ != history.OK {
			continue
		}
		switch o.kind {
		case kafkaSend:
			before[o.key] = true
		case kafkaPoll:
			for _, r := range h.reads[o.rs:o.re] {
				before[r.key] = true
			}
		}
	}
	L := h.kops[last]
	if L.kind == kafkaSend {
		before[L.key] = true
	}
	counts, messages := edn.Map{}, edn.Map{}
	add := func(k *kkey, vals []any) {
		if len(vals) == 0 {
			return
		}
		_ = history.Sort(vals)
		counts = append(counts, edn.Entry{Key: k.name, Val: len(vals)})
		messages = append(messages, edn.Entry{Key: k.name, Val: edn.List(vals[:min(len(vals), kafkaManyErrs)])})
	}
	for _, id := range h.sortedKeys() {
		k := h.keys[id]
		var vals []any
		if before[id] {
			for _, m := range k.msgs {
				if m.okSent && !m.okRead {
					vals = append(vals, m.val)
				}
			}
		} else if L.kind == kafkaPoll {
			if ms := h.readOf(L, id); len(ms) > 0 {
				seen := map[int32]bool{}
				for _, m := range ms {
					if !seen[m] {
						seen[m] = true
						vals = append(vals, k.msgs[m].val)
					}
				}
			}
		}
		add(k, vals)
	}
	if len(counts) == 0 {
		return nil
	}
	return edn.K("time", h.ops[L.i].Time, "unseen", counts, "messages", messages)
}

// infoCauses lists the distinct :error values of :info sends and polls,
// in history order (Jepsen checker, :info-txn-causes).
func (h *kafkaHistory) infoCauses() edn.List {
	l := edn.List{}
	seen := map[string]bool{}
	for _, o := range h.kops {
		if o.typ != history.Info || (o.kind != kafkaSend && o.kind != kafkaPoll) {
			continue
		}
		e := h.ops[o.i].Error
		if k := history.Key(e); !seen[k] {
			seen[k] = true
			l = append(l, e)
		}
	}
	return l
}
