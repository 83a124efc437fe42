package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// newTestKafka is a kafka workload with concurrency threads, seeded, whose
// clock stands still at a fixed instant unless the test moves it.
func newTestKafka(t *testing.T, concurrency int, seed uint64) (*kafka, *time.Time) {
	t.Helper()
	w, err := New(&workload.Env{Nodes: []string{"n0"}, Concurrency: concurrency, Rand: rand.New(rand.NewPCG(seed, 2))})
	if err != nil {
		t.Fatal(err)
	}
	k := w.(*kafka)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k.now = func() time.Time { return clock }
	return k, &clock
}

// noCrashes puts the next crash out of reach of a standing clock.
func noCrashes(w *kafka) { w.crashDue = w.now().Add(1000 * time.Hour) }

func mopOf(t *testing.T, op history.Op) []any {
	t.Helper()
	txn, ok := op.Value.([]any)
	if !ok || len(txn) != 1 {
		t.Fatalf("%s value %#v is not one micro-op", op.F, op.Value)
	}
	mop, ok := txn[0].([]any)
	if !ok {
		t.Fatalf("micro-op %#v is not a list", txn[0])
	}
	return mop
}

// The key in pool position i is chosen with probability
// 2^(i+1)/(2^(K+1)−2), as Elle's rand-key with base 2.
func TestKafkaKeySkew(t *testing.T) {
	p := kafkaKeys{maxWrites: math.MaxInt64, written: map[int64]int64{}, scale: math.Pow(2, 11) - 2}
	for i := range 10 {
		p.active = append(p.active, int64(i))
	}
	// Edges: position i covers u·scale + 2 in [2^(i+1), 2^(i+2)).
	for i := range 10 {
		lo := (math.Pow(2, float64(i+1)) - 2) / p.scale
		if got := p.index(lo * (1 + 1e-9)); got != i {
			t.Errorf("index just above %v = %d, want %d", lo, got, i)
		}
		if i > 0 {
			if got := p.index(lo * (1 - 1e-9)); got != i-1 {
				t.Errorf("index just below %v = %d, want %d", lo, got, i-1)
			}
		}
	}
	if got := p.index(0); got != 0 {
		t.Errorf("index(0) = %d, want 0", got)
	}
	if got := p.index(math.Nextafter(1, 0)); got != 9 {
		t.Errorf("index(1−ε) = %d, want 9", got)
	}

	rng := rand.New(rand.NewPCG(7, 7))
	const n = 200000
	counts := make([]int, 10)
	reads := 0
	for range n {
		m := p.draw(rng)
		counts[m.key]++
		if !m.send {
			reads++
		}
	}
	for i, c := range counts {
		want := n * math.Pow(2, float64(i+1)) / p.scale
		if sd := math.Sqrt(want); math.Abs(float64(c)-want) > 5*sd+1 {
			t.Errorf("key %d drawn %d times, want about %.0f", i, c, want)
		}
	}
	if math.Abs(float64(reads)-n/2) > 5*math.Sqrt(n/4) {
		t.Errorf("%d reads in %d draws, want about half", reads, n)
	}
}

// Each key's messages are 1, 2, …, 16; the draw that would send a 17th
// retires the key: its slot gets the largest active key + 1.
func TestKafkaKeyRetirement(t *testing.T) {
	w, _ := newTestKafka(t, 2, 3)
	noCrashes(w)
	sent := map[string][]int64{}
	for range 20000 {
		op, _ := w.NextOp(0, 0)
		if op.F != "send" {
			continue
		}
		mop := mopOf(t, op)
		k, m := mop[1].(string), mop[2].(int64)
		if mop[0] != kwSend {
			t.Fatalf("send micro-op %#v", mop)
		}
		sent[k] = append(sent[k], m)
	}
	for k, ms := range sent {
		if len(ms) > 16 {
			t.Errorf("key %s got %d sends", k, len(ms))
		}
		for i, m := range ms {
			if m != int64(i+1) {
				t.Fatalf("key %s messages %v, want 1, 2, 3, …", k, ms)
			}
		}
	}
	if len(sent) < 500 {
		t.Errorf("only %d keys in 10,000 sends: keys are not retired", len(sent))
	}
	// The pool always holds 10 distinct keys; fresh keys count up from 10.
	if len(w.keys.active) != 10 || len(slices.Compact(slices.Sorted(slices.Values(w.keys.active)))) != 10 {
		t.Errorf("pool %v", w.keys.active)
	}
	for k := range sent {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || n > int(slices.Max(w.keys.active)) {
			t.Errorf("unexpected key %q", k)
		}
	}
	// Retired keys were full: every key below the pool's minimum got 16.
	lowest := slices.Min(w.keys.active)
	for k, ms := range sent {
		if n, _ := strconv.Atoi(k); int64(n) < lowest && len(ms) != 16 {
			t.Errorf("retired key %s had only %d sends", k, len(ms))
		}
	}
}

// One request in 64 becomes an assign of the pending operation's key; the
// pending operation comes next. A third of those assigns catch up on the
// keys whose sends are ahead of their polls.
func TestKafkaAssignInterleaving(t *testing.T) {
	w, _ := newTestKafka(t, 2, 5)
	noCrashes(w)
	// Key 5 has an :ok send at offset 3 and nothing polled; key 7 is
	// caught up (sent 2, polled 2).
	w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "5", []any{int64(3), int64(1)}}}})
	w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "7", []any{int64(2), int64(1)}}}})
	w.observe(history.Op{Type: history.OK, F: "poll", Value: []any{[]any{kwPoll, map[string]any{"7": []any{[]any{int64(2), int64(1)}}}}}})

	const n = 128000
	var assigns, catchUps, others int
	var prev *history.Op
	for range n {
		op, _ := w.NextOp(0, 0)
		switch op.F {
		case "crash":
			t.Fatal("a crash although the clock stands still")
		case "assign":
			assigns++
			keys := op.Value.([]any)
			if u, ok := op.Extra.Get(kwUnseen); ok {
				catchUps++
				want := edn.Map{{Key: int64(5), Val: edn.K("polled", int64(-1), "sent", int64(3))}}
				if history.Key(u) != history.Key(want) {
					t.Fatalf(":unseen %s, want %s", history.Key(u), history.Key(want))
				}
				if keys[0] != "5" || len(keys) > 2 {
					t.Fatalf("catch-up assign of %v should be key 5 then its own key", keys)
				}
			} else if len(keys) != 1 {
				t.Fatalf("plain assign of %v", keys)
			}
		default:
			others++
			if prev != nil && prev.F == "assign" && op.F == "send" {
				if _, ok := prev.Extra.Get(kwUnseen); !ok && prev.Value.([]any)[0] != mopOf(t, op)[1] {
					t.Fatalf("assign %v followed by a send to %v: the pending op changed", prev.Value, mopOf(t, op)[1])
				}
			}
		}
		prev = &op
	}
	p := float64(assigns) / n
	if want := 1.0 / 64; math.Abs(p-want) > 5*math.Sqrt(want/n) {
		t.Errorf("assign fraction %.5f, want about %.5f", p, want)
	}
	if q := float64(catchUps) / float64(assigns); math.Abs(q-1.0/3) > 0.06 {
		t.Errorf("catch-up fraction of assigns %.3f, want about 1/3", q)
	}
	if others+assigns != n {
		t.Errorf("%d + %d != %d", others, assigns, n)
	}
}

// Crashes: the first is due at once and wins each request with
// probability ½; every later one is due a uniform [0, 60/concurrency) s
// after the previous one.
func TestKafkaCrashPacing(t *testing.T) {
	for _, conc := range []int{2, 4} {
		w, clock := newTestKafka(t, conc, uint64(conc))
		const step = 50 * time.Millisecond
		var times []time.Duration
		start := *clock
		first := -1
		for i := range 200000 {
			op, _ := w.NextOp(0, 0)
			if op.F == "crash" {
				if first < 0 {
					first = i
				}
				times = append(times, clock.Sub(start))
			}
			*clock = clock.Add(step)
		}
		if first > 20 {
			t.Errorf("concurrency %d: first crash at operation %d", conc, first)
		}
		span := 60 * time.Second / time.Duration(conc)
		var sum time.Duration
		for i := 1; i < len(times); i++ {
			gap := times[i] - times[i-1]
			if gap < step || gap > span+20*step {
				t.Fatalf("concurrency %d: crash gap %v outside (0, %v]", conc, gap, span)
			}
			sum += gap
		}
		mean := sum / time.Duration(len(times)-1)
		// Uniform [0, span) plus about one step of waiting for the coin.
		want := span/2 + 2*step
		if sd := float64(span) / math.Sqrt(12*float64(len(times)-1)); math.Abs(float64(mean-want)) > 5*sd {
			t.Errorf("concurrency %d: mean crash gap %v, want about %v (%d crashes)", conc, mean, want, len(times))
		}
	}
}

// script is a fake node that answers requests in order with canned raw
// replies (or errors) and records what it was asked.
type script struct {
	replies []any // string (raw JSON reply) or error
	got     []map[string]any
}

func (s *script) call(_ context.Context, body map[string]any, _ time.Duration) (netsim.Reply, error) {
	b, _ := json.Marshal(body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s.got = append(s.got, m)
	if len(s.replies) == 0 {
		return netsim.Reply{}, netsim.ErrTimeout
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	if err, ok := r.(error); ok {
		return netsim.Reply{}, err
	}
	raw := r.(string)
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var body2 map[string]any
	if err := dec.Decode(&body2); err != nil {
		panic(err)
	}
	return netsim.Reply{Body: body2, Raw: json.RawMessage(raw)}, nil
}

// requests renders what the node was asked, for comparison.
func (s *script) requests() string {
	b, _ := json.Marshal(s.got)
	return string(b)
}

var (
	pollOp = history.Op{F: "poll", Value: []any{[]any{kwPoll}}}
	seekOp = func(keys ...any) history.Op {
		return history.Op{F: "assign", Value: keys, Extra: edn.Map{{Key: kwSeekToBeginning, Val: true}}}
	}
)

func on(op history.Op, process int) history.Op { op.Process = process; return op }

// A client polls from the offsets it holds, advances each key past the
// highest offset returned (never back), and commits the highest offset
// polled per key.
func TestKafkaClientPollAndCommit(t *testing.T) {
	w, _ := newTestKafka(t, 2, 1)
	s := &script{replies: []any{
		`{"type":"poll_ok","in_reply_to":1,"msgs":{"1":[[3,7],[5,8]],"2":[]}}`,
		`{"type":"commit_offsets_ok","in_reply_to":2}`,
		`{"type":"poll_ok","in_reply_to":3,"msgs":{"1":[[2,9]],"3":[[-4,"x"]]}}`,
		`{"type":"commit_offsets_ok","in_reply_to":4}`,
		`{"type":"poll_ok","in_reply_to":5,"msgs":{}}`,
	}}
	out := w.Invoke(context.Background(), s.call, on(pollOp, 0))
	want := []any{[]any{kwPoll, map[string]any{
		"1": []any{[]any{int64(3), int64(7)}, []any{int64(5), int64(8)}}, "2": []any{}}}}
	if out.Type != history.OK || history.Key(out.Value) != history.Key(want) {
		t.Fatalf("poll completed %v %s, want ok %s", out.Type, history.Key(out.Value), history.Key(want))
	}
	// Offsets and messages are int64, as the checker expects.
	pair := out.Value.([]any)[0].([]any)[1].(map[string]any)["1"].([]any)[0].([]any)
	if _, ok := pair[0].(int64); !ok {
		t.Errorf("offset %#v is not an int64", pair[0])
	}
	if _, ok := pair[1].(int64); !ok {
		t.Errorf("message %#v is not an int64", pair[1])
	}
	w.Invoke(context.Background(), s.call, on(pollOp, 0))
	w.Invoke(context.Background(), s.call, on(pollOp, 0))
	wantReqs := `[{"offsets":{},"type":"poll"},` +
		`{"offsets":{"1":5},"type":"commit_offsets"},` +
		`{"offsets":{"1":6,"2":0},"type":"poll"},` +
		`{"offsets":{"1":2,"3":0},"type":"commit_offsets"},` +
		`{"offsets":{"1":6,"2":0,"3":0},"type":"poll"}]`
	if got := s.requests(); got != wantReqs {
		t.Errorf("requests\n%s\nwant\n%s", got, wantReqs)
	}
}

// A failed commit fails the poll after the client's offsets moved on; a
// definite error keeps the client.
func TestKafkaClientFailedCommit(t *testing.T) {
	w, _ := newTestKafka(t, 2, 1)
	s := &script{replies: []any{
		`{"type":"poll_ok","in_reply_to":1,"msgs":{"1":[[0,1]]}}`,
		`{"type":"error","in_reply_to":2,"code":11,"text":"busy"}`,
		`{"type":"poll_ok","in_reply_to":3,"msgs":{}}`,
	}}
	out := w.Invoke(context.Background(), s.call, on(pollOp, 0))
	if out.Type != history.Fail || history.Key(out.Value) != history.Key(pollOp.Value) {
		t.Fatalf("poll with a refused commit: %v %s, want :fail with the invocation value", out.Type, history.Key(out.Value))
	}
	w.Invoke(context.Background(), s.call, on(pollOp, 0))
	want := `[{"offsets":{},"type":"poll"},{"offsets":{"1":0},"type":"commit_offsets"},{"offsets":{"1":1},"type":"poll"}]`
	if got := s.requests(); got != want {
		t.Errorf("requests\n%s\nwant\n%s", got, want)
	}
}

// A plain assign asks for the committed offsets, keeps exactly the
// listed keys at their old offsets or 0 — never the committed offset, as
// in Maelstrom — and records the committed offsets on the completion.
// A seek assigns every key at 0 without a message.
func TestKafkaClientAssign(t *testing.T) {
	w, _ := newTestKafka(t, 2, 1)
	s := &script{replies: []any{
		`{"type":"poll_ok","in_reply_to":1,"msgs":{"1":[[5,1]],"2":[[0,1]]}}`,
		`{"type":"commit_offsets_ok","in_reply_to":2}`,
		`{"type":"list_committed_offsets_ok","in_reply_to":3,"offsets":{"1":4,"3":10}}`,
		`{"type":"poll_ok","in_reply_to":4,"msgs":{}}`,
		`{"type":"poll_ok","in_reply_to":5,"msgs":{}}`,
	}}
	ctx := context.Background()
	w.Invoke(ctx, s.call, on(pollOp, 0))
	unseen := edn.Map{{Key: kwUnseen, Val: edn.Map{{Key: int64(3), Val: edn.K("polled", int64(-1), "sent", int64(0))}}}}
	out := w.Invoke(ctx, s.call, history.Op{F: "assign", Process: 0, Value: []any{"1", "3"}, Extra: unseen})
	if out.Type != history.OK || history.Key(out.Value) != history.Key([]any{"1", "3"}) {
		t.Fatalf("assign: %v %s", out.Type, history.Key(out.Value))
	}
	wantExtra := append(append(edn.Map{}, unseen...), edn.Entry{Key: kwCommittedOffsets, Val: map[string]any{"1": int64(4), "3": int64(10)}})
	if history.Key(out.Extra) != history.Key(wantExtra) {
		t.Errorf("assign extra %s, want %s", history.Key(out.Extra), history.Key(wantExtra))
	}
	w.Invoke(ctx, s.call, on(pollOp, 0))
	if out := w.Invoke(ctx, s.call, on(seekOp("2", "9"), 0)); out.Type != history.OK {
		t.Fatalf("seek: %+v", out)
	} else if _, ok := out.Extra.Get(kwCommittedOffsets); ok {
		t.Errorf("a seek asked nobody, yet records committed offsets: %s", history.Key(out.Extra))
	}
	w.Invoke(ctx, s.call, on(pollOp, 0))
	wantReqs := `[{"offsets":{},"type":"poll"},` +
		`{"offsets":{"1":5,"2":0},"type":"commit_offsets"},` +
		`{"keys":["1","3"],"type":"list_committed_offsets"},` +
		`{"offsets":{"1":6,"3":0},"type":"poll"},` +
		`{"offsets":{"2":0,"9":0},"type":"poll"}]`
	if got := s.requests(); got != wantReqs {
		t.Errorf("requests\n%s\nwant\n%s", got, wantReqs)
	}
}

// Assign is idempotent: a timeout is :fail and the offsets stay; a send
// that times out is :info; every :info (a crash too) leaves the process's
// state behind, and its successor starts empty.
func TestKafkaClientErrorsAndFreshClients(t *testing.T) {
	w, _ := newTestKafka(t, 2, 1)
	ctx := context.Background()
	s := &script{replies: []any{
		`{"type":"poll_ok","in_reply_to":1,"msgs":{"1":[[0,1]]}}`,
		`{"type":"commit_offsets_ok","in_reply_to":2}`,
		netsim.ErrTimeout, // list_committed_offsets
		`{"type":"poll_ok","in_reply_to":4,"msgs":{}}`,
		netsim.ErrTimeout, // send
		`{"type":"poll_ok","in_reply_to":6,"msgs":{}}`,
		`{"type":"poll_ok","in_reply_to":7,"msgs":{"4":[[0,1]]}}`,
		`{"type":"commit_offsets_ok","in_reply_to":8}`,
		`{"type":"poll_ok","in_reply_to":9,"msgs":{}}`,
	}}
	w.Invoke(ctx, s.call, on(pollOp, 0))
	if out := w.Invoke(ctx, s.call, history.Op{F: "assign", Process: 0, Value: []any{"2"}}); out.Type != history.Fail {
		t.Fatalf("assign timing out: %v, want :fail", out.Type)
	}
	w.Invoke(ctx, s.call, on(pollOp, 0))
	send := history.Op{F: "send", Process: 0, Value: []any{[]any{kwSend, "1", int64(2)}}}
	if out := w.Invoke(ctx, s.call, send); out.Type != history.Info || out.Error == nil {
		t.Fatalf("send timing out: %+v, want :info with an error", out)
	}
	if _, ok := w.clients[0]; ok {
		t.Error("process 0's state survived its :info")
	}
	// The runner moves the thread to process 0 + concurrency.
	w.Invoke(ctx, s.call, on(pollOp, 2))
	w.Invoke(ctx, s.call, on(pollOp, 2))
	if out := w.Invoke(ctx, s.call, history.Op{F: "crash", Process: 2}); out.Type != history.Info {
		t.Fatalf("crash: %v", out.Type)
	}
	w.Invoke(ctx, s.call, on(pollOp, 4))
	wantReqs := `[{"offsets":{},"type":"poll"},` +
		`{"offsets":{"1":0},"type":"commit_offsets"},` +
		`{"keys":["2"],"type":"list_committed_offsets"},` +
		`{"offsets":{"1":1},"type":"poll"},` +
		`{"key":"1","msg":2,"type":"send"},` +
		`{"offsets":{},"type":"poll"},` +
		`{"offsets":{},"type":"poll"},` +
		`{"offsets":{"4":0},"type":"commit_offsets"},` +
		`{"offsets":{},"type":"poll"}]`
	if got := s.requests(); got != wantReqs {
		t.Errorf("requests\n%s\nwant\n%s", got, wantReqs)
	}
	if len(w.clients) != 1 {
		t.Errorf("%d client states kept, want only the live process's", len(w.clients))
	}
}

// Replies must fit Maelstrom's deep schemas: integer offsets, [offset msg]
// pairs of exactly two, and no extra keys.
func TestKafkaClientMalformedReplies(t *testing.T) {
	w, _ := newTestKafka(t, 2, 1)
	send := history.Op{F: "send", Value: []any{[]any{kwSend, "1", int64(2)}}}
	assign := history.Op{F: "assign", Value: []any{"1"}}
	const malformed = "malformed-rpc-response"
	cases := []struct {
		name      string
		op        history.Op
		reply     string
		want      history.Type
		exception string
	}{
		{"send ok", send, `{"type":"send_ok","in_reply_to":1,"offset":7}`, history.OK, ""},
		{"send float offset", send, `{"type":"send_ok","in_reply_to":1,"offset":7.5}`, history.Info, malformed},
		{"send extra key", send, `{"type":"send_ok","in_reply_to":1,"offset":7,"ok":true}`, history.Info, malformed},
		{"poll triple", pollOp, `{"type":"poll_ok","in_reply_to":1,"msgs":{"1":[[0,1,2]]}}`, history.Info, malformed},
		{"poll string offset", pollOp, `{"type":"poll_ok","in_reply_to":1,"msgs":{"1":[["0",1]]}}`, history.Info, malformed},
		{"poll not a list", pollOp, `{"type":"poll_ok","in_reply_to":1,"msgs":{"1":{"0":1}}}`, history.Info, malformed},
		{"poll no msgs", pollOp, `{"type":"poll_ok","in_reply_to":1}`, history.Info, malformed},
		{"list string offset", assign, `{"type":"list_committed_offsets_ok","in_reply_to":1,"offsets":{"1":"3"}}`, history.Info, malformed},
		{"list ok", assign, `{"type":"list_committed_offsets_ok","in_reply_to":1,"offsets":{}}`, history.OK, ""},
		{"send definite error", send, `{"type":"error","in_reply_to":1,"code":14,"text":"no"}`, history.Fail, ""},
		{"send indefinite error", send, `{"type":"error","in_reply_to":1,"code":13,"text":"?"}`, history.Info, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &script{replies: []any{c.reply}}
			out := w.Invoke(context.Background(), s.call, on(c.op, 10*i))
			if out.Type != c.want {
				t.Fatalf("%v, want %v: %+v", out.Type, c.want, out)
			}
			if out.Exception != c.exception {
				t.Errorf("exception %q, want %q", out.Exception, c.exception)
			}
			if c.name == "send ok" {
				want := []any{[]any{kwSend, "1", []any{int64(7), int64(2)}}}
				if history.Key(out.Value) != history.Key(want) {
					t.Errorf("value %s, want %s", history.Key(out.Value), history.Key(want))
				}
			}
		})
	}
}

// finalRecorder is a do function for the final phase: it records each
// operation with its virtual start time and answers polls from a script.
type finalRecorder struct {
	mu    sync.Mutex
	ops   []history.Op
	times []time.Time
	polls func(n int) map[string]any // nth poll's msgs (from 0)
	npoll int
}

func (r *finalRecorder) do(op history.Op) history.Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, op)
	r.times = append(r.times, time.Now())
	out := op
	switch op.F {
	case "crash":
		out.Type = history.Info
	case "assign":
		out.Type = history.OK
	case "poll":
		time.Sleep(time.Millisecond)
		out.Type = history.OK
		out.Value = []any{[]any{kwPoll, r.polls(r.npoll)}}
		r.npoll++
	}
	return out
}

func pairs(offsets ...int64) []any {
	var out []any
	for _, o := range offsets {
		out = append(out, []any{o, int64(1)})
	}
	return out
}

// The final phase: a crash, a seek-to-beginning assign of every target key
// (numerically sorted), then staggered polls until this thread's polls
// reached every target.
func TestKafkaFinalPhaseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, _ := newTestKafka(t, 1, 1)
		w.now = time.Now
		w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "10", []any{int64(5), int64(1)}}}})
		w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "9", []any{int64(2), int64(1)}}}})
		w.observe(history.Op{Type: history.OK, F: "poll", Value: []any{[]any{kwPoll, map[string]any{"2": []any{}}}}})
		r := &finalRecorder{polls: func(n int) map[string]any {
			switch n {
			case 0:
				return map[string]any{"10": pairs(0, 1, 2), "9": pairs(0, 1, 2)}
			case 1:
				return map[string]any{"10": pairs(3, 4)}
			default:
				return map[string]any{"10": pairs(5), "2": []any{}}
			}
		}}
		w.Final()(context.Background(), 0, r.do)
		if len(r.ops) != 5 {
			t.Fatalf("%d final operations, want crash, assign and 3 polls: %v", len(r.ops), r.ops)
		}
		if r.ops[0].F != "crash" || r.ops[1].F != "assign" {
			t.Fatalf("final phase starts %s, %s", r.ops[0].F, r.ops[1].F)
		}
		if got := history.Key(r.ops[1].Value); got != history.Key([]any{"2", "9", "10"}) {
			t.Errorf("final assign of %s", got)
		}
		if v, _ := r.ops[1].Extra.Get(kwSeekToBeginning); v != true {
			t.Errorf("final assign without :seek-to-beginning?: %s", history.Key(r.ops[1].Extra))
		}
		for i, op := range r.ops[2:] {
			if op.F != "poll" || history.Key(op.Value) != history.Key(pollOp.Value) {
				t.Fatalf("final op %d: %s %s", i+2, op.F, history.Key(op.Value))
			}
			if v, _ := op.Extra.Get(kwPollMS); v != int64(1000) {
				t.Errorf("final poll without :poll-ms 1000: %s", history.Key(op.Extra))
			}
			if gap := r.times[i+2].Sub(r.times[i+1]); gap >= kafkaFinalPollGap+2*time.Millisecond {
				t.Errorf("poll %d came %v after the previous operation", i, gap)
			}
		}
	})
}

// The whole final phase stops starting operations 10 s after its first,
// each thread waits only for its own polls, and with nothing to catch up
// on there is no final phase at all.
func TestKafkaFinalPhaseLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, _ := newTestKafka(t, 2, 1)
		w.now = time.Now
		w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "1", []any{int64(3), int64(1)}}}})
		final := w.Final()
		never := &finalRecorder{polls: func(int) map[string]any { return map[string]any{"1": pairs(0)} }}
		quick := &finalRecorder{polls: func(int) map[string]any { return map[string]any{"1": pairs(3)} }}
		start := time.Now()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); final(context.Background(), 0, never.do) }()
		go func() { defer wg.Done(); final(context.Background(), 1, quick.do) }()
		wg.Wait()
		if len(quick.ops) != 3 {
			t.Errorf("a thread that caught up at once did %d operations, want 3", len(quick.ops))
		}
		last := never.times[len(never.times)-1]
		if last.Sub(start) >= kafkaFinalLimit {
			t.Errorf("an operation started %v into the final phase", last.Sub(start))
		}
		// Polls every 0.2 s on average for 10 s.
		if n := len(never.ops) - 2; n < 35 || n > 70 {
			t.Errorf("%d polls of a thread that never caught up in 10 s, want about 50", n)
		}
		if time.Since(start) > kafkaFinalLimit+time.Second {
			t.Errorf("the final phase lasted %v", time.Since(start))
		}

		empty, _ := newTestKafka(t, 2, 1)
		none := &finalRecorder{}
		empty.Final()(context.Background(), 0, none.do)
		if len(none.ops) != 0 {
			t.Errorf("with no targets the final phase did %v", none.ops)
		}
	})
}

// Completions after the main phase's time limit reach no tracker: their
// keys are neither caught up on by assigns nor targets of the final polls.
func TestKafkaMainPhaseDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, _ := newTestKafka(t, 1, 1)
		w.now = time.Now
		w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "3", []any{int64(0), int64(1)}}}})
		w.MainPhaseDone()
		w.observe(history.Op{Type: history.OK, F: "send", Value: []any{[]any{kwSend, "77", []any{int64(0), int64(1)}}}})
		if _, ok := w.sent[77]; ok {
			t.Error("a late send reached PollUnseen")
		}
		r := &finalRecorder{polls: func(int) map[string]any { return map[string]any{"3": pairs(0)} }}
		w.Final()(context.Background(), 0, r.do)
		if len(r.ops) != 3 || history.Key(r.ops[1].Value) != history.Key([]any{"3"}) {
			t.Errorf("final operations %v, want a crash, an assign of key 3 only and one poll", r.ops)
		}
	})
}
