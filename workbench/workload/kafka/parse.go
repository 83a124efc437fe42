package kafka

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strconv"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// This file turns a kafka history into the compact form every kafka rule
// works on: keys and messages interned to small integers, each :ok poll's
// reply flattened into ranges of one shared slice, and per key a version
// order over the distinct offsets seen (never a slice indexed by offset,
// so offsets near 1e15 cost no more than offsets near 0).

// kafkaKind says which kafka operation a kop is.
type kafkaKind uint8

const (
	kafkaOther  kafkaKind = iota // crash, debug ops, ...
	kafkaSend                    // {:f :send, :value [[:send k m]]}
	kafkaPoll                    // {:f :poll, :value [[:poll {k [[o m] ...]}]]}
	kafkaAssign                  // {:f :assign, :value [k ...]}
)

// kop is one completion (:ok, :fail or :info) of a client operation.
type kop struct {
	i    int32 // index into the ops slice given to the checker
	inv  int32 // index of its invocation in that slice; -1 if none
	kind kafkaKind
	typ  history.Type
	proc int
	// send: the key and message; off is the offset an :ok send returned.
	key, msg int32
	off      int64
	hasOff   bool
	// :ok poll: reads[rs:re] are the keys the reply listed, sorted by key.
	rs, re int32
	// assign: the keys assigned, in the order given.
	keys []int32
}

// kread is one key of an :ok poll reply: the messages msgs[ms:me] in
// returned order, and the highest offset returned (-1 for an empty list).
type kread struct {
	key    int32
	ms, me int32
	maxOff int64
}

// kmsg is everything known about one message of one key.
type kmsg struct {
	val         any
	writer      int32 // ops index of the last send completion of it; -1
	firstReader int32 // ops index of the first :ok poll returning it; -1
	failed      bool  // some :fail send sent it
	okSent      bool  // some :ok send sent it
	okRead      bool  // some :ok poll returned it
	// Version order facts, filled by buildOrder.
	byValue  int32 // dense index where it is the representative (last); -1
	firstIdx int32 // first dense index it appears at; -1
	lastIdx  int32 // last dense index it appears at; -1
	nOffsets int32 // number of distinct offsets it appears at
}

// kkey is one key (one log).
type kkey struct {
	name     any    // as it appears in the history (a string in practice)
	str      string // its canonical text, for sorting and lookup
	ints     map[int64]int32
	strs     map[string]int32
	msgs     []kmsg
	okPolled bool // some :ok poll reply listed it (even with no messages)

	// Observations (offset, message) from :ok sends and :ok polls: the first
	// message seen at each offset, and any further distinct ones.
	atOffset  map[int64]int32
	conflicts map[int64][]int32

	// The version order, built by buildOrder.
	offsets []int64   // distinct non-negative offsets seen, ascending
	values  [][]int32 // values[i]: messages at offsets[i], sorted; len ≥ 1
	byIndex []int32   // representative message of dense index i
}

// kafkaHistory is the parsed history.
type kafkaHistory struct {
	ops   []history.Op
	kops  []kop
	reads []kread
	msgs  []int32 // messages of all poll reads, see kread
	keys  []*kkey
	keyID map[string]int32
}

// kafkaKeyText is the canonical text of a key: the string itself, or for
// other values their canonical form.
func kafkaKeyText(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return "\x00" + history.Key(k) // never equal to a string key
}

// key interns a key.
func (h *kafkaHistory) key(k any) int32 {
	s := kafkaKeyText(k)
	if id, ok := h.keyID[s]; ok {
		return id
	}
	id := int32(len(h.keys))
	h.keys = append(h.keys, &kkey{name: k, str: s, atOffset: map[int64]int32{}})
	h.keyID[s] = id
	return id
}

// kafkaKeyLabel is a key as text for people: the string itself, or its
// canonical form.
func kafkaKeyLabel(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return history.Key(k)
}

// msg interns message v of key k, comparing messages with history.Equal.
func (k *kkey) msg(v any) int32 {
	var n int64
	isInt := false
	switch x := v.(type) {
	case int64:
		n, isInt = x, true
	case int:
		n, isInt = int64(x), true
	}
	var s string
	if !isInt {
		s = history.Key(v)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(i, 10) == s {
			n, isInt = i, true
		}
	}
	if isInt {
		return intern(&k.ints, n, func() int32 { return k.newMsg(v) })
	}
	return intern(&k.strs, s, func() int32 { return k.newMsg(v) })
}

// intern returns the id *m holds for key, first adding one from add (and
// the map itself) when there is none.
func intern[K comparable](m *map[K]int32, key K, add func() int32) int32 {
	if id, ok := (*m)[key]; ok {
		return id
	}
	if *m == nil {
		*m = map[K]int32{}
	}
	id := add()
	(*m)[key] = id
	return id
}

func (k *kkey) newMsg(v any) int32 {
	k.msgs = append(k.msgs, kmsg{val: v, writer: -1, firstReader: -1, byValue: -1, firstIdx: -1, lastIdx: -1})
	return int32(len(k.msgs) - 1)
}

// observe records that offset off of the key holds message m.
func (k *kkey) observe(off int64, m int32) {
	first, ok := k.atOffset[off]
	if !ok {
		k.atOffset[off] = m
		return
	}
	if first == m {
		return
	}
	if k.conflicts == nil {
		k.conflicts = map[int64][]int32{}
	}
	if !slices.Contains(k.conflicts[off], m) {
		k.conflicts[off] = append(k.conflicts[off], m)
	}
}

// kafkaParseError is a history the analysis cannot read.
type kafkaParseError struct {
	op     history.Op
	reason string
}

func (e *kafkaParseError) Error() string {
	return fmt.Sprintf("kafka: op %d (process %d, %s %s): %s", e.op.Index, e.op.Process, e.op.Type, e.op.F, e.reason)
}

// parseKafka reads the client operations of a kafka history.
func parseKafka(ops []history.Op) (*kafkaHistory, error) {
	h := &kafkaHistory{ops: ops, keyID: map[string]int32{}, kops: make([]kop, 0, len(ops)/2+1)}
	invoked := map[int]int32{} // process -> index of its open invocation
	for i := range ops {
		op := &ops[i]
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			invoked[op.Process] = int32(i)
			continue
		}
		inv, ok := invoked[op.Process]
		if ok {
			delete(invoked, op.Process)
		} else {
			inv = -1
		}
		k := kop{i: int32(i), inv: inv, typ: op.Type, proc: op.Process, key: -1, msg: -1}
		var err error
		switch op.F {
		case "send":
			k.kind = kafkaSend
			err = h.parseSend(op, &k)
		case "poll":
			k.kind = kafkaPoll
			if op.Type == history.OK {
				err = h.parsePoll(op, &k)
			}
		case "assign":
			k.kind = kafkaAssign
			keys, isList := op.Value.([]any)
			if !isList && op.Value != nil {
				err = fmt.Errorf("assign value %s is not a list of keys", history.Key(op.Value))
			}
			for _, key := range keys {
				k.keys = append(k.keys, h.key(key))
			}
		}
		if err != nil {
			return nil, &kafkaParseError{op: *op, reason: err.Error()}
		}
		h.kops = append(h.kops, k)
	}
	for _, k := range h.keys {
		k.buildOrder()
	}
	return h, nil
}

// singleMop returns the single micro-op of a send or poll value.
func singleMop(v any, f string) ([]any, error) {
	txn, ok := v.([]any)
	if !ok || len(txn) != 1 {
		return nil, fmt.Errorf("value %s is not a single micro-op", history.Key(v))
	}
	mop, ok := txn[0].([]any)
	if !ok || len(mop) == 0 || mop[0] != edn.Keyword(f) {
		return nil, fmt.Errorf("value %s is not a [[:%s ...]] micro-op", history.Key(v), f)
	}
	return mop, nil
}

func (h *kafkaHistory) parseSend(op *history.Op, k *kop) error {
	mop, err := singleMop(op.Value, "send")
	if err != nil {
		return err
	}
	if len(mop) != 3 {
		return fmt.Errorf("send micro-op %s does not have a key and a message", history.Key(mop))
	}
	k.key = h.key(mop[1])
	key := h.keys[k.key]
	v := mop[2]
	// A completed send carries [offset message]; others the bare message.
	if pair, ok := v.([]any); ok && len(pair) == 2 && op.Type == history.OK {
		off, ok := history.Int(pair[0])
		if !ok {
			return fmt.Errorf("send offset %s is not an integer", history.Key(pair[0]))
		}
		v = pair[1]
		k.off, k.hasOff = off, true
	}
	k.msg = key.msg(v)
	m := &key.msgs[k.msg]
	m.writer = k.i // the last completion wins, as writer-of does
	switch op.Type {
	case history.Fail:
		m.failed = true
	case history.OK:
		m.okSent = true
	}
	if k.hasOff {
		key.observe(k.off, k.msg)
	}
	return nil
}

func (h *kafkaHistory) parsePoll(op *history.Op, k *kop) error {
	mop, err := singleMop(op.Value, "poll")
	if err != nil {
		return err
	}
	k.rs = int32(len(h.reads))
	if len(mop) >= 2 {
		var names []string
		var lists []any
		switch m := mop[1].(type) {
		case map[string]any:
			names = make([]string, 0, len(m))
			for name := range m {
				names = append(names, name)
			}
			sort.Strings(names)
			lists = make([]any, len(names))
			for i, name := range names {
				lists[i] = m[name]
			}
		case edn.Map:
			type entry struct {
				name string
				list any
			}
			es := make([]entry, 0, len(m))
			for _, e := range m {
				name, ok := e.Key.(string)
				if !ok {
					return fmt.Errorf("poll reply key %s is not a string", history.Key(e.Key))
				}
				es = append(es, entry{name, e.Val})
			}
			sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
			for _, e := range es {
				names = append(names, e.name)
				lists = append(lists, e.list)
			}
		case nil:
		default:
			return fmt.Errorf("poll reply %s is not a map of keys to messages", history.Key(mop[1]))
		}
		for i, name := range names {
			r := kread{key: h.key(name), ms: int32(len(h.msgs)), maxOff: -1}
			key := h.keys[r.key]
			key.okPolled = true
			var pairs []any
			if lists[i] != nil {
				var ok bool
				if pairs, ok = lists[i].([]any); !ok {
					return fmt.Errorf("poll reply for key %q is %s, not a list of [offset message] pairs", name, history.Key(lists[i]))
				}
			}
			for _, p := range pairs {
				pair, ok := p.([]any)
				if !ok || len(pair) != 2 {
					return fmt.Errorf("poll reply for key %q holds %s, not an [offset message] pair", name, history.Key(p))
				}
				off, ok := history.Int(pair[0])
				if !ok {
					return fmt.Errorf("poll reply for key %q has offset %s, not an integer", name, history.Key(pair[0]))
				}
				m := key.msg(pair[1])
				h.msgs = append(h.msgs, m)
				r.maxOff = max(r.maxOff, off)
				km := &key.msgs[m]
				km.okRead = true
				if km.firstReader < 0 {
					km.firstReader = k.i
				}
				key.observe(off, m)
			}
			r.me = int32(len(h.msgs))
			h.reads = append(h.reads, r)
		}
	}
	k.re = int32(len(h.reads))
	return nil
}

// compareValues orders messages for printing: history.Compare, falling
// back to the canonical text for values Clojure could not compare.
func compareValues(a, b any) int {
	if c, err := history.Compare(a, b); err == nil {
		return c
	}
	return cmp.Compare(history.Key(a), history.Key(b))
}

// clojureSetOrder orders messages as a Clojure hash set of them iterates,
// so that (first s) can be reproduced. Maelstrom's messages are longs,
// whose hash is Murmur3.hashLong; a PersistentHashSet is a hash trie
// walked in ascending order of the hash's 5-bit chunks, least significant
// first. Other values fall back to compareValues.
func clojureSetOrder(a, b any) int {
	x, okA := history.Int(a)
	y, okB := history.Int(b)
	if !okA || !okB {
		return compareValues(a, b)
	}
	ha, hb := clojureHashLong(x), clojureHashLong(y)
	for shift := 0; shift < 32; shift += 5 {
		ca, cb := (ha>>shift)&31, (hb>>shift)&31
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return compareValues(a, b)
}

// clojureHashLong is Clojure's hash of a long (clojure.lang.Murmur3
// hashLong, seed 0), as an unsigned 32-bit value: (hash 1) is 1392991556.
func clojureHashLong(x int64) uint32 {
	if x == 0 {
		return 0
	}
	mixK1 := func(k uint32) uint32 { return bits.RotateLeft32(k*0xcc9e2d51, 15) * 0x1b873593 }
	mixH1 := func(h, k uint32) uint32 { return bits.RotateLeft32(h^k, 13)*5 + 0xe6546b64 }
	h := mixH1(0, mixK1(uint32(x)))
	h = mixH1(h, mixK1(uint32(uint64(x)>>32)))
	h ^= 8
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// firstOfSet returns the message of ms a Clojure hash set of them lists
// first.
func (k *kkey) firstOfSet(ms []int32) int32 {
	first := ms[0]
	for _, m := range ms[1:] {
		if clojureSetOrder(k.msgs[m].val, k.msgs[first].val) < 0 {
			first = m
		}
	}
	return first
}

// buildOrder computes the key's version order (Jepsen
// jepsen/src/jepsen/tests/kafka.clj, version-orders and index-seq): the
// distinct offsets seen, numbered densely 0, 1, 2, ... in offset order;
// negative offsets are left out, as datafy-version-order-log only
// materialises offsets 0 through the largest. by-index holds one
// representative message per offset: `first` of the Clojure hash set of
// its messages (see clojureSetOrder). A message's by-value index is the
// last index where it is the representative, as index-seq builds it with
// (into {} ...).
func (k *kkey) buildOrder() {
	k.offsets = make([]int64, 0, len(k.atOffset))
	for off := range k.atOffset {
		if off >= 0 {
			k.offsets = append(k.offsets, off)
		}
	}
	slices.Sort(k.offsets)
	k.values = make([][]int32, len(k.offsets))
	k.byIndex = make([]int32, len(k.offsets))
	single := make([]int32, len(k.offsets)) // backing store for the common case
	for i, off := range k.offsets {
		first := k.atOffset[off]
		vs := single[i : i+1 : i+1]
		vs[0] = first
		if more := k.conflicts[off]; len(more) > 0 {
			vs = append([]int32{first}, more...)
			slices.SortFunc(vs, func(a, b int32) int { return compareValues(k.msgs[a].val, k.msgs[b].val) })
		}
		k.values[i] = vs
		rep := vs[0]
		if len(vs) > 1 {
			rep = k.firstOfSet(vs)
		}
		k.byIndex[i] = rep
		k.msgs[rep].byValue = int32(i)
		for _, m := range vs {
			km := &k.msgs[m]
			if km.firstIdx < 0 {
				km.firstIdx = int32(i)
			}
			km.lastIdx = int32(i)
			km.nOffsets++
		}
	}
	k.atOffset, k.conflicts = nil, nil
}

// index returns the by-value index of message m, or -1.
func (k *kkey) index(m int32) int32 {
	if m < 0 {
		return -1
	}
	return k.msgs[m].byValue
}

// sortedKeys returns the key ids in the order of their names, as a
// Clojure sorted map of string keys would list them.
func (h *kafkaHistory) sortedKeys() []int32 {
	ids := make([]int32, len(h.keys))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(a, b int32) int { return cmp.Compare(h.keys[a].str, h.keys[b].str) })
	return ids
}

// opEDN renders the history op at ops index i, nil for none (-1).
func (h *kafkaHistory) opEDN(i int32) any {
	if i < 0 {
		return nil
	}
	return h.ops[i].EDN()
}

// readMsgs returns the messages of read r.
func (h *kafkaHistory) readMsgs(r kread) []int32 { return h.msgs[r.ms:r.me] }

// okPollReads yields each key read of every :ok poll, in history order,
// with its poll.
func (h *kafkaHistory) okPollReads(yield func(kop, kread) bool) {
	for _, o := range h.kops {
		if o.kind != kafkaPoll || o.typ != history.OK {
			continue
		}
		for _, r := range h.reads[o.rs:o.re] {
			if !yield(o, r) {
				return
			}
		}
	}
}
