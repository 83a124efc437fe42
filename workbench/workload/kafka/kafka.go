// Package kafka is the kafka workload (challenges 5a–5c): the nodes keep append-only logs
// named by string keys, and clients
//
//	{"type":"send","key":"3","msg":7}                 → {"type":"send_ok","offset":1000}
//	{"type":"poll","offsets":{"3":1000}}              → {"type":"poll_ok","msgs":{"3":[[1000,7],[1001,9]]}}
//	{"type":"commit_offsets","offsets":{"3":1001}}    → {"type":"commit_offsets_ok"}
//	{"type":"list_committed_offsets","keys":["3"]}    → {"type":"list_committed_offsets_ok","offsets":{"3":1001}}
//
// as Maelstrom's src/maelstrom/workload/kafka.clj drives them, with the
// generator of Jepsen's jepsen/tests/kafka.clj and Elle's wr-txns.
//
// Client (kafka.clj Client/invoke!). Each client remembers, per key, the
// next offset to poll; a client is never reused after an :info, so the
// state is kept per process id and dropped with it. Operations:
//
//   - {:f :send, :value [[:send "k" m]]}: one send; ok as [[:send "k" [offset m]]].
//   - {:f :poll, :value [[:poll]]}: one poll of every offset the client
//     holds; every key in the reply advances to one past its highest
//     offset (an empty list to at least 0), then, when anything came back,
//     commit_offsets with the highest offset polled per key. Ok as
//     [[:poll {"k" [[o m] ...]}]]. A failed commit fails the whole
//     operation, after the local offsets already moved on.
//   - {:f :assign, :value ["k" ...]}: with :seek-to-beginning? every key
//     restarts at 0; otherwise list_committed_offsets is asked and the
//     client keeps exactly the listed keys, each at its old offset or 0.
//     Maelstrom never uses the offsets that come back (Client/invoke!
//     looks the string key up in the whole reply body, where it is never
//     found); so neither do we, but the ok completion records them as
//     :committed-offsets for CheckCommittedOffsets.
//   - {:f :crash}: :info at once, without a message; the next operation
//     runs on a fresh client.
//
// Only assign is idempotent (a timeout is :fail); definite errors are
// :fail, everything else :info.
//
// Generator (jepsen/tests/kafka.clj workload). One global stream of polls
// and sends, half and half, over a pool of --key-count keys (10 unless
// given), initially 0…9, where the key in pool position i is chosen with
// probability 2^(i+1)/(2^(K+1)−2). The messages of each key are 1, 2, 3, …;
// the send that would be key k's (--max-writes-per-key + 1)-th retires k
// instead: its pool slot gets the largest active key + 1 and the draw is
// repeated (Elle elle/txn.clj wr-txns). One request in 64 is an assign of
// the pending operation's key instead, the pending operation waiting for
// the next request (InterleaveSubscribes); a third of those assigns also
// take every key whose highest offset from :ok sends exceeds its highest
// from :ok polls, recorded as :unseen (PollUnseen). Crash operations
// compete with the stream (crash-client-gen under gen/any): a crash is
// due at once, then a uniform [0, 60/concurrency) s after the previous
// one, and a due crash wins each request with probability ½.
//
// Final phase (FinalPolls, clipped to 10 s by Maelstrom): the targets are
// the highest offset of every key in the main phase's :ok sends and polls
// (those that completed before its time limit, once the runner calls
// MainPhaseDone). Each thread crashes its client, assigns every target
// key with :seek-to-beginning?, then polls (:poll-ms 1000) at gaps
// uniform in [0, 0.4) s until its own :ok polls have reached every
// target. No operation starts more than 10 s after the phase's first.
//
// Checker: Check, Maelstrom's kafka checker (Jepsen's
// jepsen/tests/kafka.clj checker, in check.go, parse.go and cycles.go);
// ExtraCheck adds CheckCommittedOffsets. RealtimeLags measures the lag
// that the workload's realtime-lag.png plots. Explain (explain.go) tells
// a learner in words what either check found, naming the sends and polls
// behind each error, and draws the logs of a few keys involved.
package kafka

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/sleep"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// Parameters of the kafka generator, from jepsen/tests/kafka.clj.
const (
	kafkaDefaultKeyCount  = 10
	kafkaDefaultMaxWrites = 16
	kafkaAssignOneIn      = 64                     // interleave-subscribes :sub-p 1/64
	kafkaCatchUpP         = 1.0 / 3                // PollUnseen
	kafkaCrashInterval    = 30 * time.Second       // crash-client-interval, divided by concurrency
	kafkaFinalLimit       = 10 * time.Second       // Maelstrom's (gen/time-limit 10) on the final phase
	kafkaFinalPollGap     = 400 * time.Millisecond // (gen/stagger 1/5): gaps uniform in [0, 2/5) s
	kafkaPollMS           = 1000                   // :poll-ms of final polls
)

var (
	kafkaSendReply   = workload.Schema{Type: "send_ok", Fields: map[string]workload.Kind{"offset": workload.IntKind}}
	kafkaPollReply   = workload.Schema{Type: "poll_ok", Fields: map[string]workload.Kind{"msgs": workload.ObjectKind}}
	kafkaCommitReply = workload.Schema{Type: "commit_offsets_ok"}
	kafkaListReply   = workload.Schema{Type: "list_committed_offsets_ok", Fields: map[string]workload.Kind{"offsets": workload.ObjectKind}}

	kwSend             = edn.Keyword("send")
	kwPoll             = edn.Keyword("poll")
	kwSeekToBeginning  = edn.Keyword("seek-to-beginning?")
	kwCommittedOffsets = edn.Keyword("committed-offsets")
	kwUnseen           = edn.Keyword("unseen")
	kwPollMS           = edn.Keyword("poll-ms")
)

type kafka struct {
	env       *workload.Env
	now       func() time.Time // the clock; tests replace it
	crashSpan time.Duration    // crash gaps are uniform in [0, crashSpan)
	keys      kafkaKeys
	pending   *kafkaMop // drawn, not yet issued: an assign went first
	crashDue  time.Time // zero until the first crash: due at once

	mu      sync.Mutex
	clients map[int]map[string]int64 // process → key → next offset to poll
	// sent and polled are PollUnseen's highest :ok offsets of the keys
	// that are behind (polled < sent); caught-up keys are dropped.
	sent, polled map[int64]int64
	// highest is TrackKeyOffsets' highest offset per key in :ok sends
	// and polls: the final phase's targets.
	highest map[int64]int64
	// mainDone is set when the main phase's time limit passed: later
	// completions reach neither tracker.
	mainDone bool
}

// kafkaMop is one drawn micro-operation: a send of msg to key, or a poll
// whose underlying list-append read drew key.
type kafkaMop struct {
	send bool
	key  int64
	msg  int64
}

// kafkaKeys is Elle's wr-txns key pool with the exponential distribution.
type kafkaKeys struct {
	active    []int64
	written   map[int64]int64 // sends drawn per key
	maxWrites int64
	scale     float64 // 2^(K+1) − 2: key-dist-scale with base 2
}

// New returns a kafka workload for env.
func New(env *workload.Env) (workload.Workload, error) {
	if env.Concurrency < 1 {
		return nil, fmt.Errorf("kafka needs at least one client thread, got --concurrency %d", env.Concurrency)
	}
	k := env.KeyCount
	if k == 0 {
		k = kafkaDefaultKeyCount
	}
	maxWrites := env.MaxWritesPerKey
	if maxWrites == 0 {
		maxWrites = kafkaDefaultMaxWrites
	}
	if k < 0 || k > 1000 {
		return nil, fmt.Errorf("kafka: --key-count must be between 1 and 1000, got %d", k)
	}
	if maxWrites < 0 {
		return nil, fmt.Errorf("kafka: --max-writes-per-key must be positive, got %d", maxWrites)
	}
	w := &kafka{env: env, now: time.Now,
		crashSpan: 2 * kafkaCrashInterval / time.Duration(env.Concurrency),
		keys: kafkaKeys{written: map[int64]int64{}, maxWrites: int64(maxWrites),
			scale: math.Pow(2, float64(k+1)) - 2},
		clients: map[int]map[string]int64{}, sent: map[int64]int64{}, polled: map[int64]int64{},
		highest: map[int64]int64{}}
	for i := range k {
		w.keys.active = append(w.keys.active, int64(i))
	}
	return w, nil
}

// index maps u, uniform in [0, 1), to a pool position with the
// exponential skew of Elle's rand-key: floor(log2(u·scale + 2) − 1).
func (p *kafkaKeys) index(u float64) int {
	i := int(math.Floor(math.Log2(u*p.scale+2) - 1))
	return min(max(i, 0), len(p.active)-1)
}

// draw takes the next micro-operation of wr-txns with transactions of
// one micro-op: read or write evenly, a skewed key, and a retired key
// replaced and the whole draw repeated.
func (p *kafkaKeys) draw(rng *rand.Rand) kafkaMop {
	for {
		send := rng.IntN(2) == 1
		i := p.index(rng.Float64())
		k := p.active[i]
		if !send {
			return kafkaMop{key: k}
		}
		v := p.written[k] + 1
		if v > p.maxWrites {
			p.active[i] = slices.Max(p.active) + 1
			continue
		}
		p.written[k] = v
		return kafkaMop{send: true, key: k, msg: v}
	}
}

func (*kafka) Reusable() bool                                          { return false }
func (*kafka) Setup(context.Context, map[string]workload.Caller) error { return nil }

// NextOp issues a due crash half the time, otherwise the stream's next
// operation, or one time in 64 an assign of its key in its place.
func (w *kafka) NextOp(int, int) (history.Op, bool) {
	rng := w.env.Rand
	if now := w.now(); !now.Before(w.crashDue) && rng.IntN(2) == 0 {
		w.crashDue = now.Add(time.Duration(rng.Float64() * float64(w.crashSpan)))
		return history.Op{F: "crash"}, true
	}
	if w.pending == nil {
		m := w.keys.draw(rng)
		w.pending = &m
	}
	m := *w.pending
	if rng.IntN(kafkaAssignOneIn) == 0 {
		return w.assignOp(m.key, rng), true
	}
	w.pending = nil
	if m.send {
		return history.Op{F: "send", Value: []any{[]any{kwSend, kafkaKey(m.key), m.msg}}}, true
	}
	return history.Op{F: "poll", Value: []any{[]any{kwPoll}}}, true
}

// assignOp is the interleaved assign of key; a third of the time
// PollUnseen puts the keys not yet polled up to their highest sent offset
// in front (as its (concat (keys sent) value) does) and records them.
func (w *kafka) assignOp(key int64, rng *rand.Rand) history.Op {
	op := history.Op{F: "assign", Value: []any{kafkaKey(key)}}
	if rng.Float64() >= kafkaCatchUpP {
		return op
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.sent) == 0 {
		return op
	}
	behind := slices.Sorted(maps.Keys(w.sent))
	var keys []any
	unseen := make(edn.Map, 0, len(behind))
	for _, k := range behind {
		keys = append(keys, kafkaKey(k))
		p, ok := w.polled[k]
		if !ok {
			p = -1
		}
		unseen = append(unseen, edn.Entry{Key: k, Val: edn.K("polled", p, "sent", w.sent[k])})
	}
	if _, ok := w.sent[key]; !ok {
		keys = append(keys, kafkaKey(key))
	}
	op.Value = keys
	op.Extra = edn.Map{{Key: kwUnseen, Val: unseen}}
	return op
}

func kafkaKey(k int64) string { return strconv.FormatInt(k, 10) }

// Invoke performs op on the client of op.Process.
func (w *kafka) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	var out history.Op
	switch op.F {
	case "crash":
		out = op
		out.Type = history.Info
	case "send":
		out = w.send(ctx, c, op)
	case "poll":
		out = w.poll(ctx, c, op)
	case "assign":
		out = w.assign(ctx, c, op)
	default:
		out = op
		out.Type = history.Info
		out.Error = "indeterminate: unknown kafka operation " + op.F
	}
	switch out.Type {
	case history.Info: // the process and its client are gone for good
		w.mu.Lock()
		delete(w.clients, op.Process)
		w.mu.Unlock()
	case history.OK:
		w.observe(out)
	}
	return out
}

// offsets returns the client state of process, new and empty for a
// process not seen before. Only that process's worker uses the map.
func (w *kafka) offsets(process int) map[string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	o := w.clients[process]
	if o == nil {
		o = map[string]int64{}
		w.clients[process] = o
	}
	return o
}

func malformedOp(op history.Op, why string) history.Op {
	op.Type = history.Info
	op.Error = "indeterminate: malformed kafka operation: " + why
	return op
}

func (w *kafka) send(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	txn, _ := op.Value.([]any)
	var mop []any
	if len(txn) == 1 {
		mop, _ = txn[0].([]any)
	}
	if len(mop) != 3 {
		return malformedOp(op, "a send needs one [:send key msg]")
	}
	k, m := mop[1], mop[2]
	body := map[string]any{"type": "send", "key": k, "msg": m}
	return workload.Call(ctx, c, op, body, workload.CallOpts{Reply: kafkaSendReply, OnOK: func(r netsim.Reply) any {
		off, _ := history.Int(r.Body["offset"])
		return []any{[]any{kwSend, k, []any{off, m}}}
	}})
}

func (w *kafka) poll(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	offsets := w.offsets(op.Process)
	req := make(map[string]any, len(offsets))
	for k, o := range offsets {
		req[k] = o
	}
	var msgs map[string]any
	out := workload.Call(ctx, c, op, map[string]any{"type": "poll", "offsets": req}, workload.CallOpts{
		Reply: kafkaPollReply, Check: checkPollMsgs,
		OnOK: func(r netsim.Reply) any {
			msgs = normalizeMsgs(r.Body["msgs"].(map[string]any))
			return []any{[]any{kwPoll, msgs}}
		}})
	if out.Type != history.OK {
		return out
	}
	// apply-mop!: every key in the reply moves to one past its highest
	// offset, never back; txn-offsets: commit the highest polled.
	commit := map[string]any{}
	for k, v := range msgs {
		hi := int64(-1)
		pairs := v.([]any)
		for _, p := range pairs {
			hi = max(hi, p.([]any)[0].(int64))
		}
		if cur, ok := offsets[k]; !ok || hi+1 > cur {
			offsets[k] = hi + 1
		}
		if len(pairs) > 0 {
			commit[k] = max(hi, 0)
		}
	}
	if len(commit) > 0 {
		res := workload.Call(ctx, c, op, map[string]any{"type": "commit_offsets", "offsets": commit},
			workload.CallOpts{Reply: kafkaCommitReply, OnOK: func(netsim.Reply) any { return op.Value }})
		if res.Type != history.OK {
			return res
		}
	}
	return out
}

func (w *kafka) assign(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	vals, _ := op.Value.([]any)
	keys := make([]string, 0, len(vals))
	for _, v := range vals {
		k, ok := v.(string)
		if !ok {
			return malformedOp(op, "assign keys must be strings")
		}
		keys = append(keys, k)
	}
	offsets := w.offsets(op.Process)
	if seek, _ := op.Extra.Get(kwSeekToBeginning); seek == true {
		clear(offsets)
		for _, k := range keys {
			offsets[k] = 0
		}
		out := op
		out.Type = history.OK
		return out
	}
	var committed map[string]any
	out := workload.Call(ctx, c, op, map[string]any{"type": "list_committed_offsets", "keys": vals}, workload.CallOpts{
		Reply: kafkaListReply, Check: checkListOffsets, Idempotent: true,
		OnOK: func(r netsim.Reply) any {
			committed = map[string]any{}
			for k, v := range r.Body["offsets"].(map[string]any) {
				committed[k], _ = history.Int(v)
			}
			return op.Value
		}})
	if out.Type != history.OK {
		return out
	}
	kept := make(map[string]int64, len(keys))
	for _, k := range keys {
		kept[k] = offsets[k] // absent: 0, never the committed offset
	}
	clear(offsets)
	for k, o := range kept {
		offsets[k] = o
	}
	out.Extra = append(append(edn.Map{}, op.Extra...), edn.Entry{Key: kwCommittedOffsets, Val: committed})
	return out
}

// checkPollMsgs requires msgs to map keys to lists of [offset msg] pairs
// with integer offsets (kafka.clj poll: {Key [OffsetMessage]}).
func checkPollMsgs(body map[string]any) string {
	for k, v := range body["msgs"].(map[string]any) {
		pairs, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("msgs of key %q should be a list of [offset msg] pairs, got %s", k, history.Key(v))
		}
		for _, p := range pairs {
			pair, ok := p.([]any)
			if !ok || len(pair) != 2 || !workload.IntKind.Accepts(pair[0]) {
				return fmt.Sprintf("msgs of key %q should hold [offset msg] pairs with integer offsets, got %s", k, history.Key(p))
			}
		}
	}
	return ""
}

// checkListOffsets requires integer committed offsets.
func checkListOffsets(body map[string]any) string {
	for k, v := range body["offsets"].(map[string]any) {
		if !workload.IntKind.Accepts(v) {
			return fmt.Sprintf("offset of key %q should be an integer, got %s", k, history.Key(v))
		}
	}
	return ""
}

// normalizeMsgs copies a checked poll reply with int64 offsets, and
// messages as int64 when they are integers.
func normalizeMsgs(raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		pairs := v.([]any)
		np := make([]any, len(pairs))
		for i, p := range pairs {
			pair := p.([]any)
			o, _ := history.Int(pair[0])
			var m any = pair[1]
			if n, ok := history.Int(m); ok {
				m = n
			}
			np[i] = []any{o, m}
		}
		out[k] = np
	}
	return out
}

// MainPhaseDone tells the workload that the main phase is over: its time
// limit passed and its last operation completed (the runner waits for
// them, as Jepsen's phases does). Completions after it, the final
// phase's, reach neither PollUnseen nor TrackKeyOffsets.
func (w *kafka) MainPhaseDone() {
	w.mu.Lock()
	w.mainDone = true
	w.mu.Unlock()
}

// observe feeds an :ok completion of the main phase to PollUnseen and
// TrackKeyOffsets. Keys go back to integers as Maelstrom's StringKeys
// (parse-long) does; a key that is not an integer is not tracked.
func (w *kafka) observe(op history.Op) {
	sent, polled := kafkaMaxOffsets(op)
	if len(sent) == 0 && len(polled) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mainDone {
		return
	}
	for k, o := range sent {
		mergeMax(w.sent, k, o)
		mergeMax(w.highest, k, o)
	}
	for k, o := range polled {
		mergeMax(w.polled, k, o)
		mergeMax(w.highest, k, o)
	}
	for _, m := range []map[int64]int64{sent, polled} {
		for k := range m {
			p, ok := w.polled[k]
			if !ok {
				p = -1
			}
			s, ok := w.sent[k]
			if !ok {
				s = -1
			}
			if p >= s {
				delete(w.sent, k)
				delete(w.polled, k)
			}
		}
	}
}

func mergeMax(m map[int64]int64, k, v int64) {
	if cur, ok := m[k]; !ok || v > cur {
		m[k] = v
	}
}

// kafkaMaxOffsets is op->max-send-offsets (at least 0) and
// op->max-poll-offsets (−1 for an empty list) of an :ok send or poll.
func kafkaMaxOffsets(op history.Op) (sent, polled map[int64]int64) {
	txn, _ := op.Value.([]any)
	for _, x := range txn {
		mop, _ := x.([]any)
		if len(mop) == 0 {
			continue
		}
		switch mop[0] {
		case kwSend:
			if len(mop) != 3 {
				continue
			}
			k, ok := parseKafkaKey(mop[1])
			pair, _ := mop[2].([]any)
			if !ok || len(pair) != 2 {
				continue
			}
			if o, ok := pair[0].(int64); ok {
				if sent == nil {
					sent = map[int64]int64{}
				}
				mergeMax(sent, k, max(o, 0))
			}
		case kwPoll:
			if len(mop) != 2 {
				continue
			}
			msgs, _ := mop[1].(map[string]any)
			for ks, v := range msgs {
				k, ok := parseKafkaKey(ks)
				if !ok {
					continue
				}
				hi := int64(-1)
				pairs, _ := v.([]any)
				for _, p := range pairs {
					if pair, _ := p.([]any); len(pair) == 2 {
						if o, ok := pair[0].(int64); ok {
							hi = max(hi, o)
						}
					}
				}
				if polled == nil {
					polled = map[int64]int64{}
				}
				mergeMax(polled, k, hi)
			}
		}
	}
	return sent, polled
}

func parseKafkaKey(v any) (int64, bool) {
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	k, err := strconv.ParseInt(s, 10, 64)
	return k, err == nil
}

// Final returns the final phase: every thread catches up on every key.
func (w *kafka) Final() func(context.Context, int, func(history.Op) history.Op) {
	f := &kafkaFinal{w: w, seed: w.env.Rand.Uint64()}
	return f.run
}

// kafkaFinal is one final phase, shared by every thread.
type kafkaFinal struct {
	w       *kafka
	seed    uint64
	once    sync.Once
	targets map[int64]int64
	mu      sync.Mutex
	cutoff  time.Time // no operation starts at or after it; zero before the first
}

// start takes the targets once, when the first thread begins.
func (f *kafkaFinal) start() {
	f.once.Do(func() {
		f.w.mu.Lock()
		f.targets = maps.Clone(f.w.highest)
		f.w.mu.Unlock()
		if f.w.env.Logf != nil && len(f.targets) > 0 {
			f.w.env.Logf("Polling up to offsets %v", f.targets)
		}
	})
}

// admit reports whether an operation may start at t: before the cutoff,
// which the first operation of the phase sets.
func (f *kafkaFinal) admit(t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cutoff.IsZero() {
		f.cutoff = t.Add(kafkaFinalLimit)
	}
	return t.Before(f.cutoff)
}

func (f *kafkaFinal) run(ctx context.Context, thread int, do func(history.Op) history.Op) {
	f.start()
	want := maps.Clone(f.targets)
	if len(want) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(want))
	assign := make([]any, len(keys))
	for i, k := range keys {
		assign[i] = kafkaKey(k)
	}
	rng := rand.New(rand.NewPCG(f.seed, uint64(thread)))
	now := f.w.now
	ops := []history.Op{
		{F: "crash"},
		{F: "assign", Value: assign, Extra: edn.Map{{Key: kwSeekToBeginning, Val: true}}},
	}
	for _, op := range ops {
		if ctx.Err() != nil || !f.admit(now()) {
			return
		}
		do(op)
	}
	var next time.Time // the staggered polls' next due time; the first is due at once
	for len(want) > 0 && ctx.Err() == nil {
		due := now()
		if due.Before(next) {
			due = next
		}
		if !f.admit(due) || sleep.Until(ctx, due) != nil {
			return
		}
		next = now().Add(time.Duration(rng.Float64() * float64(kafkaFinalPollGap)))
		out := do(history.Op{F: "poll", Value: []any{[]any{kwPoll}}, Extra: edn.Map{{Key: kwPollMS, Val: int64(kafkaPollMS)}}})
		if out.Type != history.OK {
			continue
		}
		_, polled := kafkaMaxOffsets(out)
		for k, seen := range polled {
			if t, ok := want[k]; ok && t <= seen {
				delete(want, k)
			}
		}
	}
}

// Check runs Maelstrom's kafka checker.
func (*kafka) Check(ops []history.Op) edn.Map { return Check(ops) }

// ExtraCheck finds committed offsets that went backwards or were
// forgotten, which Maelstrom cannot see.
func (*kafka) ExtraCheck(ops []history.Op) edn.Map { return CheckCommittedOffsets(ops) }

// Files declares realtime-lag.png, the plot of every poll's realtime lag
// (report.WriteRealtimeLagPlot), which Jepsen's kafka checker draws.
func (*kafka) Files() []workload.File {
	return []workload.File{{Name: RealtimeLagPlot, Write: writeRealtimeLagPlot}}
}
