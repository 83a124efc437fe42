package service

import (
	"math/rand/v2"
	"sync"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/history"
)

// Error codes the key/value services reply with (both definite), from
// the one table of Maelstrom's codes in package node.
const (
	CodeKeyDoesNotExist    = node.KeyDoesNotExist
	CodePreconditionFailed = node.PreconditionFailed
)

// kvRequest is a decoded key/value request. Absent fields read as nil,
// as in Maelstrom, where (:key body) of a body without "key" is nil: a
// missing key and the key null are the same key.
type kvRequest struct {
	typ    string // "read", "write" or "cas"
	key    any
	value  any // write
	from   any // cas
	to     any // cas
	create bool
}

// parseKV decodes a key/value request. ok is false when "type" is not one
// of read, write and cas: the service must then send no reply.
func parseKV(body map[string]any) (req kvRequest, ok bool) {
	typ, _ := body["type"].(string)
	switch typ {
	case "read", "write", "cas":
	default:
		return kvRequest{}, false
	}
	return kvRequest{
		typ:    typ,
		key:    body["key"],
		value:  body["value"],
		from:   body["from"],
		to:     body["to"],
		create: truthy(body["create_if_not_exists"]),
	}, true
}

// truthy applies Clojure's truth: everything except nil and false counts
// as true. Maelstrom tests create_if_not_exists this way, so 0 or "" would
// also enable it.
func truthy(v any) bool {
	b, isBool := v.(bool)
	return v != nil && (!isBool || b)
}

// kvFlavour selects the small differences between Maelstrom's two
// key/value state machines.
type kvFlavour struct {
	// honourCreate makes cas with create_if_not_exists store "to" on a
	// missing key. lin-kv and seq-kv do; lww-kv ignores the flag.
	honourCreate bool
	// rawFrom prints the "from" value of a failed cas with Clojure's str
	// instead of pr-str, as lww-kv does (strings then lose their quotes).
	rawFrom bool
}

// eval applies req to one key whose current value is cur (if present).
// It returns the reply and, when the request stores a value, store = true
// and the value stored. It does not decide whether storing changes
// anything; see changes.
func (f kvFlavour) eval(req kvRequest, cur any, present bool) (reply map[string]any, stored any, store bool) {
	switch req.typ {
	case "read":
		if !present {
			return keyMissing(), nil, false
		}
		return map[string]any{"type": "read_ok", "value": cur}, nil, false
	case "write":
		return map[string]any{"type": "write_ok"}, req.value, true
	default: // cas
		if !present {
			if f.honourCreate && req.create {
				return map[string]any{"type": "cas_ok"}, req.to, true
			}
			return keyMissing(), nil, false
		}
		if !history.Equal(req.from, cur) {
			from := prStr(req.from)
			if f.rawFrom {
				from = str(req.from)
			}
			return map[string]any{
				"type": "error",
				"code": CodePreconditionFailed,
				"text": "current value " + prStr(cur) + " is not " + from,
			}, nil, false
		}
		return map[string]any{"type": "cas_ok"}, req.to, true
	}
}

// changes reports whether storing v over a key whose value is cur (if
// present) yields a different state. Maelstrom compares whole states with
// Clojure's =; only one key can differ, so comparing it suffices.
func changes(cur any, present bool, v any) bool {
	return !present || !history.Equal(cur, v)
}

func keyMissing() map[string]any {
	return map[string]any{"type": "error", "code": CodeKeyDoesNotExist, "text": "key does not exist"}
}

// linKV is lin-kv: one map, every request applied to the current state in
// the order received. Linearizable, indeed strictly serial across keys.
type linKV struct {
	mu sync.Mutex
	m  map[string]any // history.Key(key) → value
}

func newLinKV() *linKV { return &linKV{m: map[string]any{}} }

func (s *linKV) Handle(_ string, body map[string]any) (map[string]any, bool) {
	req, ok := parseKV(body)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := history.Key(req.key)
	cur, present := s.m[k]
	reply, v, store := kvFlavour{honourCreate: true}.eval(req, cur, present)
	if store {
		s.m[k] = v
	}
	return reply, true
}

// seqStates is how many recent states seq-kv can serve from.
const seqStates = 32

// seqKV is seq-kv: sequentially consistent, with stale reads.
//
// Following Maelstrom, the service keeps the sequence of states S₀ (empty),
// S₁, …, S_last produced by the mutating requests, of which the last 32
// can be served, and for every caller (request src) the index i_c of the
// last state that caller observed, initially 0. For a request from c:
//
//  1. pick j uniformly in [i_c, last], both ends included: Maelstrom
//     0.2.4's src/maelstrom/service.clj, Sequential/handle!, draws
//     (+ client-index (rand-int (inc (- last-index client-index)))).
//     So a caller that only reads still reaches the newest state in the
//     end; 0.2.3 added the inc ("seq-kv: ensure reads have a chance to
//     catch up to latest state"), earlier versions drew from [i_c, last).
//  2. evaluate the request against S_j, or rather against the one of the
//     32 buffered states whose index is congruent to j mod 32: the ring
//     buffer indexes modulo its length, so a caller more than 31 states
//     behind is served some recent state (never one older than 31 back).
//  3. if that does not change the state (a read, any error, or storing
//     the value the key already has there), reply with it and set i_c = j;
//  4. otherwise discard it, evaluate against S_last, append the outcome as
//     S_(last+1) (even when it equals S_last, e.g. a cas that now fails),
//     set i_c = last+1 and reply with that second result.
//
// States are stored per key as a list of versions, so one request costs
// O(32) whatever the number of keys.
type seqKV struct {
	mu       sync.Mutex
	rng      *rand.Rand
	last     int                  // index of the newest state
	observed map[string]int       // caller → index of its last observed state
	versions map[string][]version // history.Key(key) → versions, oldest first
}

// version records that from state index on, a key holds value (until the
// next version). Keys are never deleted, so a key without a version at or
// before an index is absent from that state.
type version struct {
	index int
	value any
}

func newSeqKV(rng *rand.Rand) *seqKV {
	return &seqKV{rng: rng, observed: map[string]int{}, versions: map[string][]version{}}
}

func (s *seqKV) Handle(src string, body map[string]any) (map[string]any, bool) {
	req, ok := parseKV(body)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	flavour := kvFlavour{honourCreate: true}
	k := history.Key(req.key)

	i := s.observed[src]
	j := i + s.rng.IntN(s.last-i+1)
	cur, present := s.valueAt(k, s.served(j))
	reply, v, store := flavour.eval(req, cur, present)
	if !store || !changes(cur, present, v) {
		s.observed[src] = j
		return reply, true
	}

	cur, present = s.valueAt(k, s.last)
	reply, v, store = flavour.eval(req, cur, present)
	s.last++
	if store && changes(cur, present, v) {
		s.versions[k] = s.prune(append(s.versions[k], version{s.last, v}))
	}
	s.observed[src] = s.last
	return reply, true
}

// served maps a state index to the index of the buffered state the ring
// buffer actually returns for it: the one among the last 32 states that is
// congruent to it modulo 32. For indexes not older than 31 states that is
// the index itself.
func (s *seqKV) served(j int) int {
	return s.last - (s.last-j)%seqStates
}

// valueAt returns key k's value in state idx, and whether k exists there.
func (s *seqKV) valueAt(k string, idx int) (any, bool) {
	vs := s.versions[k]
	for n := len(vs) - 1; n >= 0; n-- {
		if vs[n].index <= idx {
			return vs[n].value, true
		}
	}
	return nil, false
}

// prune drops versions no servable state can see: all but the newest of
// those at or before the oldest buffered state.
func (s *seqKV) prune(vs []version) []version {
	oldest := s.last - (seqStates - 1)
	drop := 0
	for drop+1 < len(vs) && vs[drop+1].index <= oldest {
		drop++
	}
	if drop == 0 {
		return vs
	}
	return append(vs[:0:0], vs[drop:]...)
}

// lwwReplicas is how many replicas lww-kv simulates (Maelstrom's default).
const lwwReplicas = 2

// lwwKV is lww-kv, "last write wins", as Maelstrom really runs it: two
// replicas, each a map key → {timestamp, value} with its own counter
// clock that stamps and then advances on every successful write or cas.
// Every request goes to a uniformly random replica and changes only that
// one.
//
// Maelstrom's code also merges a random replica into another on each
// request, but then discards the merged state, so the replicas never
// converge. This implementation reproduces that observable behaviour (two
// independent replicas, a random one per request) and skips the discarded
// merge. Consequences: a written value is visible to a later read with
// probability ½; cas may fail with code 20 or 22 depending on the replica;
// create_if_not_exists is ignored; and, as in Maelstrom, the text of a
// failed cas prints "from" with Clojure's str (strings unquoted).
type lwwKV struct {
	mu       sync.Mutex
	rng      *rand.Rand
	replicas [lwwReplicas]lwwReplica
}

type lwwReplica struct {
	clock int64
	m     map[string]lwwEntry // history.Key(key) → entry
}

type lwwEntry struct {
	ts    int64 // replica clock when written; unobservable, kept for fidelity
	value any
}

func newLWWKV(rng *rand.Rand) *lwwKV {
	s := &lwwKV{rng: rng}
	for i := range s.replicas {
		s.replicas[i].m = map[string]lwwEntry{}
	}
	return s
}

func (s *lwwKV) Handle(_ string, body map[string]any) (map[string]any, bool) {
	req, ok := parseKV(body)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.replicas[s.rng.IntN(lwwReplicas)]
	k := history.Key(req.key)
	e, present := r.m[k]
	reply, v, store := kvFlavour{rawFrom: true}.eval(req, e.value, present)
	if store {
		r.m[k] = lwwEntry{ts: r.clock, value: v}
		r.clock++
	}
	return reply, true
}

// linTSO is lin-tso: {"type":"ts"} gets {"type":"ts_ok","ts":N} with N =
// 0, 1, 2, … one per request, in the order requests arrive.
type linTSO struct {
	mu   sync.Mutex
	next int64
}

func (s *linTSO) Handle(_ string, body map[string]any) (map[string]any, bool) {
	if typ, _ := body["type"].(string); typ != "ts" {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.next
	s.next++
	return map[string]any{"type": "ts_ok", "ts": ts}, true
}
