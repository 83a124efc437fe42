package kafka

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/edn"
)

// builder adds kafka operations to checkertest's history builder.
type builder struct{ *checkertest.Steps[*builder] }

func newBuilder() *builder {
	return checkertest.Build(func(s *checkertest.Steps[*builder]) *builder { return &builder{s} })
}

// Kafka history values, shaped as the kafka workload records them.

func kSend(k string, m int64) any { return []any{[]any{edn.Keyword("send"), k, m}} }

func kSendOK(k string, o, m int64) any {
	return []any{[]any{edn.Keyword("send"), k, []any{o, m}}}
}

func kPoll() any { return []any{[]any{edn.Keyword("poll")}} }

// kPollOK is a poll result: kPollOK("k", kPairs(0, 1, 1, 2), "j", kPairs()).
func kPollOK(kv ...any) any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return []any{[]any{edn.Keyword("poll"), m}}
}

// kPairs turns offset, message, offset, message, ... into [[o m] ...].
func kPairs(om ...int64) []any {
	l := []any{}
	for i := 0; i < len(om); i += 2 {
		l = append(l, []any{om[i], om[i+1]})
	}
	return l
}

// send records an :ok send of m to k that got offset o.
func (b *builder) ksend(p int, k string, o, m int64) *builder {
	return b.Inv(p, "send", kSend(k, m)).OK(p, "send", kSendOK(k, o, m))
}

// poll records an :ok poll with the given reply (kPollOK arguments).
func (b *builder) kpoll(p int, kv ...any) *builder {
	return b.Inv(p, "poll", kPoll()).OK(p, "poll", kPollOK(kv...))
}

// assign records an :ok assign of keys.
func (b *builder) kassign(p int, keys ...string) *builder {
	v := make([]any, len(keys))
	for i, k := range keys {
		v[i] = k
	}
	return b.Inv(p, "assign", v).OK(p, "assign", v)
}

// withError sets the :error of the last op.
func (b *builder) kwithError(e any) *builder { b.Ops[len(b.Ops)-1].Error = e; return b }

// opAt renders op i as Check prints it inside errors.
func (b *builder) kopAt(i int) string { return checkertest.Show(b.Ops[i].EDN()) }

// last is the index of the last op.
func (b *builder) klast() int { return len(b.Ops) - 1 }

// errorTypes returns the result's :error-types and :bad-error-types.
func errorTypes(t *testing.T, res edn.Map) (string, string) {
	t.Helper()
	return checkertest.Show(checkertest.Get(t, res, "error-types")), checkertest.Show(checkertest.Get(t, res, "bad-error-types"))
}

// expectTypes fails unless the result lists exactly these error types,
// all of them bad, and is invalid.
func expectTypes(t *testing.T, res edn.Map, types ...string) {
	t.Helper()
	want := "(" + strings.Join(types, " ") + ")"
	all, bad := errorTypes(t, res)
	if all != want || bad != want {
		t.Errorf("error types %s, bad %s; want %s\n%s", all, bad, want, checkertest.Show(res))
	}
	if v := checkertest.Get(t, res, "valid?"); v != false {
		t.Errorf(":valid? %v, want false", v)
	}
}

// expectValid fails unless the result is valid with no error types.
func expectValid(t *testing.T, res edn.Map) {
	t.Helper()
	if v, _ := res.Get(edn.Keyword("valid?")); v != true {
		t.Fatalf("want a valid result, got %s", checkertest.Show(res))
	}
	if all, bad := errorTypes(t, res); all != "()" || bad != "()" {
		t.Errorf("error types %s, bad %s; want none\n%s", all, bad, checkertest.Show(res))
	}
}

func TestKafkaValidHistory(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2)
	b.kpoll(1, "k", kPairs(0, 1, 1, 2))
	checkertest.Expect(t, Check(b.Ops), `{:valid? true, :worst-realtime-lag {:time 0.004, :process 1, :key "k", :lag 0.0}, `+
		`:bad-error-types (), :error-types (), :info-txn-causes ()}`)
}

func TestKafkaInfoSendPolledIsCommitted(t *testing.T) {
	// An :info send whose message a poll returns must have happened; it is
	// then neither unseen nor lost, and its error is listed as a cause.
	b := newBuilder()
	b.Inv(0, "send", kSend("k", 1)).Info(0, "send", kSend("k", 1)).kwithError(edn.Keyword("net-timeout"))
	b.kpoll(1, "k", kPairs(0, 1))
	b.ksend(2, "k", 1, 2)
	b.kpoll(1, "k", kPairs(1, 2))
	res := Check(b.Ops)
	expectValid(t, res)
	if got := checkertest.Show(checkertest.Get(t, res, "info-txn-causes")); got != "(:net-timeout)" {
		t.Errorf(":info-txn-causes %s", got)
	}
}

func TestKafkaInfoSendNeverPolledIsNotLost(t *testing.T) {
	// Nothing proves the :info send happened, so its message, missing
	// below a polled offset, is not a lost write, nor unseen.
	b := newBuilder()
	b.Inv(0, "send", kSend("k", 1)).Info(0, "send", kSend("k", 1))
	b.ksend(2, "k", 1, 2)
	b.kpoll(1, "k", kPairs(1, 2))
	res := Check(b.Ops)
	expectValid(t, res)
	if got := checkertest.Show(checkertest.Get(t, res, "info-txn-causes")); got != "(nil)" {
		t.Errorf(":info-txn-causes %s, want (nil) for an :info without :error", got)
	}
}

func TestKafkaSparseOffsets(t *testing.T) {
	const base = int64(1_000_000_000_000_000) // hybrid-clock offsets
	b := newBuilder()
	b.ksend(0, "k", base+5, 1).ksend(0, "k", base+1000, 2).ksend(0, "k", base+999_999, 3)
	b.kassign(1, "k")
	b.kpoll(1)                                                        // t=8ms, nothing yet: lag since base+5 existed (t=1ms)
	b.kpoll(1, "k", kPairs(base+5, 1, base+1000, 2))                  // t=10ms, lags behind message 3 (t=5ms)
	b.kpoll(1, "k", kPairs(base+999_999, 3))                          // caught up
	b.kpoll(2, "k", kPairs(base+5, 1, base+1000, 2, base+999_999, 3)) // another consumer, from the start
	res := Check(b.Ops)
	expectValid(t, res)
	if got, want := checkertest.Show(checkertest.Get(t, res, "worst-realtime-lag")), `{:time 0.008, :process 1, :key "k", :lag 0.007}`; got != want {
		t.Errorf(":worst-realtime-lag %s, want %s", got, want)
	}
	lags := RealtimeLags(b.Ops)
	want := []Lag{
		{Time: 8e6, Process: 1, Key: "k", Lag: 7e6},
		{Time: 10e6, Process: 1, Key: "k", Lag: 5e6},
		{Time: 12e6, Process: 1, Key: "k", Lag: 0},
		{Time: 14e6, Process: 2, Key: "k", Lag: 0},
	}
	if !slices.Equal(lags, want) {
		t.Errorf("lags %v, want %v", lags, want)
	}
}

func TestKafkaHugeOffsetsCostNothing(t *testing.T) {
	// Jepsen materialises each log up to its largest offset; we must not.
	b := newBuilder()
	for i := range int64(50) {
		b.ksend(0, "k", i*80_000_000_000_000_000, i) // up to ~4e18
	}
	var pairs []int64
	for i := range int64(50) {
		pairs = append(pairs, i*80_000_000_000_000_000, i)
	}
	b.kpoll(1, "k", kPairs(pairs...))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := Check(b.Ops)
	runtime.ReadMemStats(&after)
	expectValid(t, res)
	if n := after.TotalAlloc - before.TotalAlloc; n > 10<<20 {
		t.Errorf("checking 101 ops allocated %d bytes", n)
	}
}

func TestKafkaCrashBetweenPollAndCommit(t *testing.T) {
	// The poll read message 1 but its commit timed out: the op is :info
	// with the invocation's value and the process is replaced; the new
	// client polls from the start again.
	b := newBuilder()
	b.ksend(1, "k", 0, 1)
	b.Inv(0, "poll", kPoll()).Info(0, "poll", kPoll()).kwithError(edn.Keyword("net-timeout"))
	b.Inv(0+4, "crash", nil).Info(0+4, "crash", nil)
	b.kpoll(0+8, "k", kPairs(0, 1))
	b.ksend(1, "k", 1, 2)
	b.kpoll(0+8, "k", kPairs(1, 2))
	expectValid(t, Check(b.Ops))
}

func TestKafkaFailedCommitSkipsMessages(t *testing.T) {
	// A definite commit failure keeps the client, whose offsets already
	// moved past message 2: its next poll skips a message nobody polled.
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
	b.kpoll(1, "k", kPairs(0, 1))
	first := b.klast()
	b.Inv(1, "poll", kPoll()).Fail(1, "poll", kPoll())
	b.kpoll(1, "k", kPairs(2, 3))
	second := b.klast()
	res := Check(b.Ops)
	expectTypes(t, res, ":lost-write", ":poll-skip", ":unseen")
	if got, want := checkertest.Show(checkertest.Get(t, res, "poll-skip")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :delta 2, :skipped (2), :ops [%s %s]})}`,
		b.kopAt(first), b.kopAt(second)); got != want {
		t.Errorf(":poll-skip\n got %s\nwant %s", got, want)
	}
	if got, want := checkertest.Show(checkertest.Get(t, res, "lost-write")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :value 2, :index 1, :max-read-index 2, :writer %s, :max-read %s})}`,
		b.kopAt(3), b.kopAt(second)); got != want {
		t.Errorf(":lost-write\n got %s\nwant %s", got, want)
	}
	if got, want := checkertest.Show(checkertest.Get(t, res, "unseen")), fmt.Sprintf(`{:time %d, :unseen {"k" 1}, :messages {"k" (2)}}`, b.Ops[second].Time); got != want {
		t.Errorf(":unseen %s, want %s", got, want)
	}
}

func TestKafkaUnknownMessage(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1)
	b.kpoll(1, "k", kPairs(0, 1, 1, 99))
	res := Check(b.Ops)
	if v := checkertest.Get(t, res, "valid?"); v != edn.Keyword("unknown") {
		t.Fatalf("want :unknown, got %s", checkertest.Show(res))
	}
	e := checkertest.Get(t, res, "error").(edn.Map)
	if got, want := checkertest.Show(checkertest.Get(t, e, "data")), `{:type :no-writer-of-value, :key "k", :value 99}`; got != want {
		t.Errorf(":data %s, want %s", got, want)
	}
	if cause := checkertest.Get(t, e, "cause").(string); !strings.Contains(cause, "message 99") || !strings.Contains(cause, "no send") {
		t.Errorf("unclear cause %q", cause)
	}
	if len(res) != 2 {
		t.Errorf("want only :valid? and :error, got %s", checkertest.Show(res))
	}
}

func TestKafkaKeyOnlyPolledEmpty(t *testing.T) {
	// Jepsen's lost-write-cases throws on a key :ok polls listed only with
	// empty lists; a key left out of the replies is fine.
	b := newBuilder()
	b.ksend(0, "k", 0, 1)
	b.kpoll(1, "k", kPairs(0, 1), "j", kPairs())
	res := Check(b.Ops)
	if v := checkertest.Get(t, res, "valid?"); v != edn.Keyword("unknown") {
		t.Fatalf("want :unknown, got %s", checkertest.Show(res))
	}
	if got := checkertest.Show(checkertest.Get(t, checkertest.Get(t, res, "error").(edn.Map), "data")); got != `{:type :index-out-of-bounds, :key "j"}` {
		t.Errorf(":data %s", got)
	}
	b.kpoll(2, "j", kPairs()) // still only empty
	if v := checkertest.Get(t, Check(b.Ops), "valid?"); v != edn.Keyword("unknown") {
		t.Errorf("still want :unknown")
	}
	b.ksend(0, "j", 0, 7).kpoll(2, "j", kPairs(0, 7))
	expectValid(t, Check(b.Ops))
}

func TestKafkaMalformedHistory(t *testing.T) {
	b := newBuilder()
	b.Inv(0, "poll", kPoll()).OK(0, "poll", kPollOK("k", []any{[]any{"zero", int64(1)}}))
	res := Check(b.Ops)
	if v := checkertest.Get(t, res, "valid?"); v != edn.Keyword("unknown") {
		t.Fatalf("want :unknown, got %s", checkertest.Show(res))
	}
	if cause := checkertest.Show(checkertest.Get(t, res, "error")); !strings.Contains(cause, "not an integer") {
		t.Errorf("unclear error %s", cause)
	}
}

func TestKafkaInconsistentOffsets(t *testing.T) {
	// Two nodes hand out offsets without coordination.
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(1, "k", 0, 2).ksend(0, "k", 1, 3)
	b.kpoll(2, "k", kPairs(0, 1, 1, 3))
	b.kpoll(3, "k", kPairs(0, 2, 1, 3))
	res := Check(b.Ops)
	expectTypes(t, res, ":inconsistent-offsets")
	if got, want := checkertest.Show(checkertest.Get(t, res, "inconsistent-offsets")), `{:count 1, :errs ({:key "k", :offset 0, :index 0, :values #{1 2}})}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Unpolled, the second message at offset 0 is a lost write too.
	b2 := newBuilder()
	b2.ksend(0, "k", 0, 1).ksend(1, "k", 0, 2)
	b2.kpoll(2, "k", kPairs(0, 1))
	expectTypes(t, Check(b2.Ops), ":inconsistent-offsets", ":lost-write", ":unseen")
}

func TestKafkaDuplicate(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(2, "k", 1, 2)
	b.kpoll(1, "k", kPairs(0, 1, 1, 2, 2, 1))
	res := Check(b.Ops)
	// Message 1 represents indexes 0 and 2, so its index is 2: in the poll,
	// 1 (index 2) → 2 (index 1) goes back, and 2 → 1 advances by one.
	expectTypes(t, res, ":duplicate", ":int-nonmonotonic-poll")
	if got, want := checkertest.Show(checkertest.Get(t, res, "duplicate")), `{:count 1, :errs ({:key "k", :value 1, :count 2, :offsets [0 2]})}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := checkertest.Show(checkertest.Get(t, res, "int-nonmonotonic-poll")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :values [1 2], :delta -1, :op %s})}`, b.kopAt(b.klast())); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Sent by one process, 1 then 2 also look like a send going backwards.
	b = newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2)
	b.kpoll(1, "k", kPairs(0, 1, 1, 2, 2, 1))
	expectTypes(t, Check(b.Ops), ":duplicate", ":int-nonmonotonic-poll", ":nonmonotonic-send")
}

func TestKafkaG1a(t *testing.T) {
	b := newBuilder()
	b.Inv(0, "send", kSend("k", 1)).Fail(0, "send", kSend("k", 1)).kwithError([]any{edn.Keyword("temporarily-unavailable"), "try later"})
	writer := b.klast()
	b.kpoll(1, "k", kPairs(0, 1))
	reader := b.klast()
	b.kpoll(1, "k", kPairs()) // see TestKafkaUnseenQuirkFirstPollOfKeyLast
	res := Check(b.Ops)
	expectTypes(t, res, ":G1a")
	if got, want := checkertest.Show(checkertest.Get(t, res, "G1a")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :value 1, :writer %s, :reader %s})}`, b.kopAt(writer), b.kopAt(reader)); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestKafkaLostWrite(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
	b.kpoll(1, "k", kPairs(0, 1))
	b.kpoll(2, "k", kPairs(2, 3))
	res := Check(b.Ops)
	expectTypes(t, res, ":lost-write", ":unseen")
	if got, want := checkertest.Show(checkertest.Get(t, res, "lost-write")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :value 2, :index 1, :max-read-index 2, :writer %s, :max-read %s})}`,
		b.kopAt(3), b.kopAt(b.klast())); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	// A message above everything polled is merely unseen.
	b2 := newBuilder()
	b2.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2)
	b2.kpoll(1, "k", kPairs(0, 1))
	expectTypes(t, Check(b2.Ops), ":unseen")
}

func TestKafkaPollSkipAndNonmonotonic(t *testing.T) {
	base := func() *builder {
		b := newBuilder()
		b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
		b.kpoll(2, "k", kPairs(0, 1, 1, 2, 2, 3)) // someone reads everything
		return b
	}
	b := base()
	b.kpoll(1, "k", kPairs(0, 1))
	b.kpoll(1, "k", kPairs(2, 3))
	res := Check(b.Ops)
	expectTypes(t, res, ":poll-skip")
	if got, want := checkertest.Show(checkertest.Get(t, res, "poll-skip")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :delta 2, :skipped (2), :ops [%s %s]})}`,
		b.kopAt(b.klast()-2), b.kopAt(b.klast())); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}

	// An assign that drops the key forgets where the process was; one that
	// keeps it does not.
	b = base()
	b.kpoll(1, "k", kPairs(0, 1)).kassign(1, "other").kpoll(1, "k", kPairs(2, 3))
	expectValid(t, Check(b.Ops))
	b = base()
	b.kpoll(1, "k", kPairs(0, 1)).kassign(1, "other", "k").kpoll(1, "k", kPairs(2, 3))
	expectTypes(t, Check(b.Ops), ":poll-skip")
	// Other processes and failed polls do not count.
	b = base()
	b.kpoll(1, "k", kPairs(0, 1)).kpoll(3, "k", kPairs(2, 3))
	b.Inv(1, "poll", kPoll()).Fail(1, "poll", kPoll()).kpoll(1, "k", kPairs(1, 2))
	expectValid(t, Check(b.Ops))

	b = base()
	b.kpoll(1, "k", kPairs(0, 1, 1, 2))
	b.kpoll(1, "k", kPairs(1, 2, 2, 3))
	res = Check(b.Ops)
	expectTypes(t, res, ":nonmonotonic-poll")
	if got, want := checkertest.Show(checkertest.Get(t, res, "nonmonotonic-poll")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :values [2 2], :delta 0, :ops [%s %s]})}`,
		b.kopAt(b.klast()-2), b.kopAt(b.klast())); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}

	// A previous poll that listed the key with nothing has no last message:
	// no comparison.
	b = base()
	b.kpoll(1, "k", kPairs(0, 1))
	b.kpoll(1, "k", kPairs())
	b.kpoll(1, "k", kPairs(0, 1))
	expectValid(t, Check(b.Ops))
}

func TestKafkaInternalPollCases(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
	b.kpoll(2, "k", kPairs(0, 1, 1, 2, 2, 3))
	b.kpoll(1, "k", kPairs(0, 1, 2, 3))
	res := Check(b.Ops)
	expectTypes(t, res, ":int-poll-skip")
	if got, want := checkertest.Show(checkertest.Get(t, res, "int-poll-skip")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :values [1 3], :delta 2, :skipped (2), :op %s})}`,
		b.kopAt(b.klast())); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}

	b = newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2)
	b.kpoll(1, "k", kPairs(1, 2, 0, 1))
	res = Check(b.Ops)
	expectTypes(t, res, ":int-nonmonotonic-poll")
	if got, want := checkertest.Show(checkertest.Get(t, res, "int-nonmonotonic-poll")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :values [2 1], :delta -1, :op %s})}`,
		b.kopAt(b.klast())); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestKafkaNonmonotonicSend(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 5, 1).ksend(0, "k", 3, 2)
	b.kpoll(1, "k", kPairs(3, 2, 5, 1))
	res := Check(b.Ops)
	expectTypes(t, res, ":nonmonotonic-send")
	if got, want := checkertest.Show(checkertest.Get(t, res, "nonmonotonic-send")), fmt.Sprintf(`{:count 1, :errs ({:key "k", :values [1 2], :delta -1, :ops [%s %s]})}`,
		b.kopAt(1), b.kopAt(3)); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	// Different processes may interleave.
	b = newBuilder()
	b.ksend(0, "k", 5, 1).ksend(1, "k", 3, 2)
	b.kpoll(2, "k", kPairs(3, 2, 5, 1))
	expectValid(t, Check(b.Ops))
}

func TestKafkaUnseen(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1)
	b.kpoll(1, "k", kPairs(0, 1))
	for m := int64(2); m <= 41; m++ {
		b.ksend(0, "z", m, m)
	}
	b.ksend(0, "k", 1, 2)
	res := Check(b.Ops)
	expectTypes(t, res, ":unseen")
	var msgs []string
	for m := 2; m <= 33; m++ {
		msgs = append(msgs, fmt.Sprint(m))
	}
	want := fmt.Sprintf(`{:time %d, :unseen {"k" 1, "z" 40}, :messages {"k" (2), "z" (%s)}}`, b.Ops[b.klast()].Time, strings.Join(msgs, " "))
	if got := checkertest.Show(checkertest.Get(t, res, "unseen")); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestKafkaUnseenQuirkFirstPollOfKeyLast(t *testing.T) {
	// Jepsen merges sent and polled maps with bifurcan's merge, which
	// keeps keys only polled: if the last :ok op is the first to poll a
	// key no :ok send touched, its messages count as unseen.
	b := newBuilder()
	b.Inv(0, "send", kSend("k", 1)).Info(0, "send", kSend("k", 1))
	b.ksend(1, "j", 0, 5).kpoll(1, "j", kPairs(0, 5))
	b.kpoll(2, "k", kPairs(0, 1))
	res := Check(b.Ops)
	expectTypes(t, res, ":unseen")
	if got, want := checkertest.Show(checkertest.Get(t, res, "unseen")), fmt.Sprintf(`{:time %d, :unseen {"k" 1}, :messages {"k" (1)}}`, b.Ops[b.klast()].Time); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	b.kpoll(1, "j", kPairs()) // any later :ok op clears it
	expectValid(t, Check(b.Ops))
}

func TestKafkaRealtimeCycle(t *testing.T) {
	// The poll returns a message whose send began after the poll ended.
	b := newBuilder()
	b.kpoll(1, "k", kPairs(0, 1))
	b.ksend(0, "k", 0, 1)
	res := Check(b.Ops)
	// Elle reports the cycle and the strong-read-committed cycle-exists
	// finding; Jepsen merges both, unfiltered.
	expectTypes(t, res, ":G1c-realtime", ":strong-PL-2-cycle-exists")
	if t.Failed() {
		t.FailNow()
	}
	g := checkertest.Get(t, res, "G1c-realtime").(edn.Map)
	if got := checkertest.Get(t, g, "count"); got != 1 {
		t.Errorf(":count %v", got)
	}
	c := checkertest.Get(t, g, "errs").(edn.List)[0].(edn.Map)
	// Elle may start the cycle at either op.
	cyc, steps := checkertest.Show(checkertest.Get(t, c, "cycle")), checkertest.Show(checkertest.Get(t, c, "steps"))
	poll, send := b.kopAt(1), b.kopAt(3)
	wr := `{:type :wr, :key "k", :value 1, :a-mop-index 0, :b-mop-index 0}`
	rt := fmt.Sprintf(`{:type :realtime, :a' %s, :b %s}`, poll, b.kopAt(2))
	if !(cyc == fmt.Sprintf("[%s %s %s]", send, poll, send) && steps == fmt.Sprintf("(%s %s)", wr, rt) ||
		cyc == fmt.Sprintf("[%s %s %s]", poll, send, poll) && steps == fmt.Sprintf("(%s %s)", rt, wr)) {
		t.Errorf("cycle %s\nsteps %s", cyc, steps)
	}

	// The other way round is fine.
	b = newBuilder()
	b.ksend(0, "k", 0, 1)
	b.kpoll(1, "k", kPairs(0, 1))
	expectValid(t, Check(b.Ops))
	// So is a concurrent poll returning a message before its send ends.
	b = newBuilder()
	b.Inv(0, "send", kSend("k", 1)).Inv(1, "poll", kPoll()).OK(1, "poll", kPollOK("k", kPairs(0, 1))).OK(0, "send", kSendOK("k", 0, 1))
	b.kpoll(1, "k", kPairs())
	expectValid(t, Check(b.Ops))
}

func TestKafkaRealtimeCyclesAreCapped(t *testing.T) {
	// Ten polls each see a message sent only after they end: ten
	// components, one cycle each, of which the 8 shortest are listed.
	b := newBuilder()
	for i := range int64(10) {
		k := fmt.Sprint(i)
		b.kpoll(1, k, kPairs(0, i))
		b.ksend(0, k, 0, i)
	}
	res := Check(b.Ops)
	expectTypes(t, res, ":G1c-realtime", ":strong-PL-2-cycle-exists")
	g := checkertest.Get(t, res, "G1c-realtime").(edn.Map)
	if n, errs := checkertest.Get(t, g, "count"), checkertest.Get(t, g, "errs").(edn.List); n != 10 || len(errs) != 8 {
		t.Errorf(":count %v with %d errs, want 10 with 8", n, len(errs))
	}
	// Cycle-exists findings are not capped.
	if n := len(checkertest.Get(t, checkertest.Get(t, res, "strong-PL-2-cycle-exists").(edn.Map), "errs").(edn.List)); n != 10 {
		t.Errorf("%d :strong-PL-2-cycle-exists cases, want 10", n)
	}
}

func TestKafkaEmptyTransactionGraph(t *testing.T) {
	b := newBuilder()
	b.Inv(0, "crash", nil).Info(0, "crash", nil)
	res := Check(b.Ops)
	checkertest.Expect(t, res, `{:valid? false, :worst-realtime-lag {:time 0.0, :lag 0.0}, :bad-error-types (:empty-transaction-graph), `+
		`:error-types (:empty-transaction-graph), :info-txn-causes (), :empty-transaction-graph {:count 1, :errs true}}`)
	// Without any client op Jepsen skips the cycle search.
	checkertest.Expect(t, Check(nil), `{:valid? true, :worst-realtime-lag {:time 0.0, :lag 0.0}, :bad-error-types (), :error-types (), :info-txn-causes ()}`)
	// One send then one poll: a realtime edge, so not empty.
	b.ksend(0, "k", 0, 1).kpoll(1, "k", kPairs(0, 1))
	expectValid(t, Check(b.Ops))
}

func TestKafkaIgnoresNemesisAndFinal(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1)
	b.Nemesis("start-partition")
	b.Inv(1, "poll", kPoll()).Final().OK(1, "poll", kPollOK("k", kPairs(0, 1))).Final()
	expectValid(t, Check(b.Ops))
}

func TestCondenseKafka(t *testing.T) {
	mk := func(n int) []kcase {
		cs := make([]kcase, n)
		for i, d := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
			cs[i] = kcase{int64(d), edn.K("delta", d)}
		}
		return cs
	}
	deltas := func(m edn.Map) string {
		var ds []string
		for _, c := range m[1].Val.(edn.List) {
			ds = append(ds, fmt.Sprint(c.(edn.Map)[0].Val))
		}
		return fmt.Sprintf("%v %s", m[0].Val, strings.Join(ds, " "))
	}
	for _, c := range []struct {
		typ  string
		n    int
		want string
	}{
		{"poll-skip", 12, "12 4 5 6 7 8 9 10 11"},
		{"int-poll-skip", 3, "3 0 1 2"},
		{"nonmonotonic-poll", 12, "12 0 1 2 3 4 5 6 7"},
		{"int-nonmonotonic-poll", 9, "9 0 1 2 3 4 5 6 7"},
		{"nonmonotonic-send", 10, "10 0 1 2 3 4 5 6 7"},
		{"G1c-realtime", 10, "10 0 1 2 3 4 5 6 7"},
		{"duplicate", 34, "34 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31"},
	} {
		if got := deltas(condenseKafka(c.typ, mk(c.n))); got != c.want {
			t.Errorf("%s: got %s, want %s", c.typ, got, c.want)
		}
	}
	// Other types keep every case, in the order found.
	cs := mk(40)
	got := condenseKafka("lost-write", cs)
	if l := got[1].Val.(edn.List); len(l) != 40 || checkertest.Show(l[0]) != checkertest.Show(cs[0].m) {
		t.Errorf("lost-write condensed to %d cases", len(l))
	}
	// Stable: equal figures keep their order.
	eq := []kcase{{1, edn.K("n", 0)}, {1, edn.K("n", 1)}, {0, edn.K("n", 2)}}
	if got, want := checkertest.Show(condenseKafka("duplicate", eq)), `{:count 3, :errs ({:n 2} {:n 0} {:n 1})}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestKafkaRealtimeLagsFollowAssignments(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "a", 0, 1)  // a known at 1 ms
	b.ksend(0, "b", 10, 1) // b known at 3 ms
	b.kassign(1, "b", "a")
	b.kpoll(1)                                        // invoked at 6 ms: b lags 3, a lags 5
	b.kpoll(1, "a", kPairs(0, 1))                     // invoked at 8 ms: b lags 5, a caught up
	b.kassign(1, "a")                                 // b dropped
	b.kpoll(1, "c", kPairs())                         // keys returned count too, at -1
	b.kpoll(2, "a", kPairs(0, 1), "b", kPairs(10, 1)) // another reader
	got := RealtimeLags(b.Ops)
	want := []Lag{
		{6e6, 1, "b", 3e6}, {6e6, 1, "a", 5e6},
		{8e6, 1, "b", 5e6}, {8e6, 1, "a", 0},
		{12e6, 1, "a", 0}, {12e6, 1, "c", 0},
		{14e6, 2, "a", 0}, {14e6, 2, "b", 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("lags\n got %v\nwant %v", got, want)
	}
	b = newBuilder()
	b.ksend(0, "a", 0, 1).ksend(0, "b", 10, 1)
	b.kassign(1, "b", "a").kpoll(1).kpoll(1, "a", kPairs(0, 1), "b", kPairs(10, 1))
	res := Check(b.Ops)
	expectValid(t, res)
	if got, want := checkertest.Show(checkertest.Get(t, res, "worst-realtime-lag")), `{:time 0.006, :process 1, :key "a", :lag 0.005}`; got != want {
		t.Errorf(":worst-realtime-lag %s, want %s", got, want)
	}
}

// committedAssign records an :ok non-seek assign of keys whose
// list_committed_offsets answer was answer.
func (b *builder) kcommittedAssign(p int, answer map[string]any, keys ...string) *builder {
	b.kassign(p, keys...)
	b.Ops[b.klast()].Extra = edn.K("committed-offsets", answer)
	return b
}

func TestKafkaCommittedOffsets(t *testing.T) {
	base := func() *builder {
		b := newBuilder()
		b.ksend(0, "k", 0, 1).ksend(0, "k", 3, 2)
		b.kpoll(1, "k", kPairs(0, 1, 3, 2)) // commits k at 3
		return b
	}
	for _, c := range []struct {
		name   string
		answer map[string]any
		valid  bool
	}{
		{"same", map[string]any{"k": int64(3)}, true},
		{"ahead", map[string]any{"k": int64(4), "other": int64(0)}, true},
		{"backwards", map[string]any{"k": int64(2)}, false},
		{"forgotten", map[string]any{}, false},
	} {
		b := base()
		b.kcommittedAssign(2, c.answer, "k")
		res := CheckCommittedOffsets(b.Ops)
		if got := checkertest.Get(t, res, "valid?"); got != c.valid {
			t.Errorf("%s: :valid? %v, want %v: %s", c.name, got, c.valid, checkertest.Show(res))
		}
		if c.valid {
			checkertest.Expect(t, res, `{:valid? true, :count 0, :errs []}`)
		}
	}

	b := base()
	b.kcommittedAssign(2, map[string]any{"k": int64(2)}, "k")
	checkertest.Expect(t, CheckCommittedOffsets(b.Ops), fmt.Sprintf(`{:valid? false, :count 1, :errs [{:key "k", :committed 2, :expected 3, :commit %s, :assign %s}]}`,
		b.kopAt(5), b.kopAt(b.klast())))
	b = base()
	b.kcommittedAssign(2, map[string]any{}, "k")
	if got := checkertest.Show(CheckCommittedOffsets(b.Ops)); !strings.Contains(got, ":committed nil, :expected 3") {
		t.Errorf("forgotten key: %s", got)
	}
	// Check itself cannot see it.
	b.kpoll(2, "k", kPairs(0, 1, 3, 2))
	expectValid(t, Check(b.Ops))
}

func TestKafkaCommittedOffsetsNotChecked(t *testing.T) {
	// An assign invoked before the commit was acknowledged may miss it.
	b := newBuilder()
	b.ksend(0, "k", 0, 1)
	b.Inv(2, "assign", []any{"k"})
	b.kpoll(1, "k", kPairs(0, 1))
	b.OK(2, "assign", []any{"k"})
	b.Ops[b.klast()].Extra = edn.K("committed-offsets", map[string]any{})
	checkertest.Expect(t, CheckCommittedOffsets(b.Ops), `{:valid? true, :count 0, :errs []}`)

	// Seeks, assigns without a recorded answer, polls that returned nothing,
	// failed polls and keys not assigned are not checked.
	b = newBuilder()
	b.ksend(0, "k", 0, 1)
	b.kpoll(1, "k", kPairs(0, 1))
	b.Inv(3, "poll", kPoll()).Fail(3, "poll", kPoll())
	b.kpoll(1, "j", kPairs())
	b.kassign(2, "k")
	b.Ops[b.klast()].Extra = edn.K("seek-to-beginning?", true, "committed-offsets", map[string]any{})
	b.kassign(2, "k")
	b.kcommittedAssign(2, map[string]any{}, "j", "x")
	checkertest.Expect(t, CheckCommittedOffsets(b.Ops), `{:valid? true, :count 0, :errs []}`)
	b.kcommittedAssign(2, map[string]any{"x": int64(0)}, "j", "k")
	if got := checkertest.Get(t, CheckCommittedOffsets(b.Ops), "count"); got != 1 {
		t.Errorf(":count %v, want 1", got)
	}
}

func TestKafkaCommittedOffsetsCapsErrs(t *testing.T) {
	b := newBuilder()
	var keys []string
	for i := range 10 {
		k := fmt.Sprint(i)
		keys = append(keys, k)
		b.ksend(0, k, 0, 1).kpoll(1, k, kPairs(0, 1))
	}
	b.kcommittedAssign(2, map[string]any{}, keys...)
	b.kcommittedAssign(2, map[string]any{}, keys...)
	res := CheckCommittedOffsets(b.Ops)
	if got, n := checkertest.Get(t, res, "count"), len(checkertest.Get(t, res, "errs").(edn.Vector)); got != 20 || n != kafkaCommittedErrs {
		t.Errorf(":count %v with %d errs, want 20 with %d", got, n, kafkaCommittedErrs)
	}
}

func TestClojureSetOrder(t *testing.T) {
	// Clojure: (hash 1) is 1392991556, (hash 2) is -971005196, #{1 2 3}
	// prints as #{1 3 2} and (set (range 1 11)) as #{7 1 4 6 3 2 9 5 10 8}.
	if h1, h2 := clojureHashLong(1), int32(clojureHashLong(2)); h1 != 1392991556 || h2 != -971005196 {
		t.Errorf("hashes %d %d", h1, h2)
	}
	for _, c := range []struct{ in, want []any }{
		{[]any{int64(1), int64(2), int64(3)}, []any{int64(1), int64(3), int64(2)}},
		{[]any{int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8), int64(9), int64(10)},
			[]any{int64(7), int64(1), int64(4), int64(6), int64(3), int64(2), int64(9), int64(5), int64(10), int64(8)}},
	} {
		got := slices.Clone(c.in)
		slices.SortFunc(got, clojureSetOrder)
		if checkertest.Show(got) != checkertest.Show(c.want) {
			t.Errorf("order %s, want %s", checkertest.Show(got), checkertest.Show(c.want))
		}
	}
}

func TestKafkaVersionOrderQuirks(t *testing.T) {
	// Dense indexes skip holes; a message with no index (not the
	// representative of its offset) never triggers skip checks.
	b := newBuilder()
	b.ksend(0, "k", 10, 1).ksend(0, "k", 20, 2).ksend(1, "k", 20, 3).ksend(0, "k", 30, 4)
	b.kpoll(2, "k", kPairs(10, 1, 20, 2, 30, 4))
	b.kpoll(3, "k", kPairs(10, 1, 20, 3, 30, 4))
	h, err := parseKafka(b.Ops)
	if err != nil {
		t.Fatal(err)
	}
	k := h.keys[h.keyID["k"]]
	if !slices.Equal(k.offsets, []int64{10, 20, 30}) {
		t.Errorf("offsets %v", k.offsets)
	}
	idx := func(m int64) int32 { return k.index(k.msg(m)) }
	// Offset 20 holds 2 and 3; Clojure's #{2 3} lists 3 first, so 3
	// represents it and 2 has no index.
	if got := []int32{idx(1), idx(2), idx(3), idx(4)}; !slices.Equal(got, []int32{0, -1, 1, 2}) {
		t.Errorf("indexes %v, want [0 -1 1 2]", got)
	}
	res := Check(b.Ops)
	expectTypes(t, res, ":inconsistent-offsets")
	if got, want := checkertest.Show(checkertest.Get(t, res, "inconsistent-offsets")), `{:count 1, :errs ({:key "k", :offset 20, :index 1, :values #{2 3}})}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestKafkaHistoryValuesFromJSON(t *testing.T) {
	// Messages compare as values: a json.Number 1 and an int64 1 are one
	// message.
	b := newBuilder()
	b.Inv(0, "send", kSend("k", 1)).OK(0, "send", []any{[]any{edn.Keyword("send"), "k", []any{int64(0), int64(1)}}})
	b.Inv(1, "poll", kPoll()).OK(1, "poll", []any{[]any{edn.Keyword("poll"), map[string]any{
		"k": []any{[]any{jsonNum("0"), jsonNum("1")}},
	}}})
	expectValid(t, Check(b.Ops))
}

// jsonNum is a number as encoding/json decodes it with UseNumber.
func jsonNum(s string) any { return json.Number(s) }
