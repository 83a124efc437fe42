package checker

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// kv helpers build lin-kv ops on key k: values are [k v] tuples.
func (b *builder) kvWrite(p int, k, v any) *builder {
	return b.Inv(p, "write", []any{k, v}).OK(p, "write", []any{k, v})
}

func (b *builder) kvRead(p int, k, v any) *builder {
	return b.Inv(p, "read", []any{k, nil}).OK(p, "read", []any{k, v})
}

func (b *builder) kvCas(p int, k, from, to any) *builder {
	return b.Inv(p, "cas", []any{k, []any{from, to}}).OK(p, "cas", []any{k, []any{from, to}})
}

const noTimeout = 0

func linValid(t *testing.T, name string, ops []history.Op) edn.Map {
	t.Helper()
	got := LinearizableKV(ops, noTimeout)
	if ValidityOf(got) != Valid {
		t.Errorf("%s: want linearizable, got %s", name, checkertest.Show(got))
	}
	return got
}

func linInvalid(t *testing.T, name string, ops []history.Op) edn.Map {
	t.Helper()
	got := LinearizableKV(ops, noTimeout)
	if ValidityOf(got) != Invalid {
		t.Errorf("%s: want not linearizable, got %s", name, checkertest.Show(got))
	}
	return got
}

func TestLinearizableKVSequentialHistory(t *testing.T) {
	b := newBuilder().
		kvWrite(0, 0, 1).
		kvRead(1, 0, json.Number("1")). // decoded JSON equals the written int
		kvCas(0, 0, 1, 2).
		Nemesis("start-partition").
		kvRead(1, 0, 2)
	checkertest.Expect(t, LinearizableKV(b.Ops, time.Minute), "{:valid? true, "+
		":results {0 {:linearizable {:valid? true}, :timeline {:valid? true}, :valid? true}}, :failures []}")
	checkertest.Expect(t, LinearizableKV(nil, noTimeout), "{:valid? true, :results {}, :failures []}")
}

func TestLinearizableKVStaleReadAfterWriteCompleted(t *testing.T) {
	// write 1 and write 2 both finish before the read begins, which then
	// returns 1: the classic non-linearizable stale read.
	b := newBuilder().kvWrite(0, 0, 1).kvWrite(0, 0, 2).kvRead(1, 0, 1)
	got := LinearizableKV(b.Ops, noTimeout)
	// When the read (index 5) completes, the register can only hold 2 and
	// the read is the one pending op. Values inside are unwrapped, as in Jepsen.
	checkertest.Expect(t, got, "{:valid? false, :results {0 {:linearizable {:valid? false, :analyzer :linear, "+
		":op {:index 5, :time 5000000, :type :ok, :process 1, :f :read, :value 1}, "+
		":previous-ok {:index 3, :time 3000000, :type :ok, :process 0, :f :write, :value 2}, "+
		":configs ({:model {:value 2}, :pending [{:index 4, :time 4000000, :type :invoke, :process 1, :f :read, :value nil}]})}, "+
		":timeline {:valid? true}, :valid? false}}, :failures [0]}")

	// Porcupine, the fallback, explains the same failure by its longest
	// linearizable prefix: write 1, write 2 (state 2), then the read is stuck.
	pops, err := RegisterOperations(unwrap(b.Ops))
	if err != nil {
		t.Fatal(err)
	}
	checkertest.Expect(t, checkPorcupine(pops, noTimeout), "{:valid? false, :analyzer :porcupine, "+
		":op {:index 5, :time 5000000, :type :ok, :process 1, :f :read, :value 1}, "+
		":model {:value 2}, "+
		":last-op {:index 3, :time 3000000, :type :ok, :process 0, :f :write, :value 2}, "+
		":linearized 2, :op-count 3}")

	// The same read concurrent with write 2 is fine.
	c := newBuilder().kvWrite(0, 0, 1).
		Inv(0, "write", []any{0, 2}).
		Inv(1, "read", []any{0, nil}).OK(1, "read", []any{0, 1}).
		OK(0, "write", []any{0, 2})
	linValid(t, "read concurrent with the write", c.Ops)
}

func TestLinearizableKVFirstOpImpossible(t *testing.T) {
	// Nothing was written, yet the read saw 5.
	b := newBuilder().kvRead(0, 0, 5)
	checkertest.Expect(t, CheckRegisterHistory(unwrap(b.Ops), noTimeout), "{:valid? false, :analyzer :linear, "+
		":op {:index 1, :time 1000000, :type :ok, :process 0, :f :read, :value 5}, :previous-ok nil, "+
		":configs ({:model {:value nil}, :pending [{:index 0, :time 0, :type :invoke, :process 0, :f :read, :value nil}]})}")
	pops, _ := RegisterOperations(unwrap(b.Ops))
	checkertest.Expect(t, checkPorcupine(pops, noTimeout), "{:valid? false, :analyzer :porcupine, "+
		":op {:index 1, :time 1000000, :type :ok, :process 0, :f :read, :value 5}, "+
		":model {:value nil}, :last-op nil, :linearized 0, :op-count 1}")
}

// unwrap strips the key from [k v] values, giving single-register ops.
func unwrap(ops []history.Op) []history.Op {
	out := make([]history.Op, len(ops))
	for i, op := range ops {
		op.Value = op.Value.([]any)[1]
		out[i] = op
	}
	return out
}

func TestLinearizableKVInfoCasMayOrMayNotApply(t *testing.T) {
	// write 1; an indeterminate cas 1→2; then reads.
	hist := func(reads ...any) []history.Op {
		b := newBuilder().kvWrite(0, 0, 1).
			Inv(1, "cas", []any{0, []any{1, 2}}).Info(1, "cas", []any{0, []any{1, 2}})
		for _, r := range reads {
			b.kvRead(0, 0, r)
		}
		return b.Ops
	}
	linValid(t, "cas applied", hist(2))
	linValid(t, "cas not (yet) applied", hist(1))
	linValid(t, "cas applied between two reads", hist(1, 2))
	linInvalid(t, "cas cannot apply twice or undo", hist(2, 1))
	linInvalid(t, "a value nobody wrote", hist(3))

	// An invocation that never completed is indeterminate too.
	b := newBuilder().kvWrite(0, 0, 1).Inv(1, "cas", []any{0, []any{1, 2}}).kvRead(0, 0, 2)
	linValid(t, "cas without completion", b.Ops)
}

func TestLinearizableKVInfoWriteAppliesOnce(t *testing.T) {
	hist := func(reads ...any) []history.Op {
		b := newBuilder().kvWrite(0, 0, 1).
			Inv(1, "write", []any{0, 2}).Info(1, "write", []any{0, 2})
		for _, r := range reads {
			b.kvRead(0, 0, r)
		}
		return b.Ops
	}
	linValid(t, "write seen late", hist(1, 2, 2))
	linInvalid(t, "write seen then unseen", hist(2, 1))
}

func TestLinearizableKVNilReadMatchesAnyState(t *testing.T) {
	b := newBuilder().kvRead(0, 0, nil).kvWrite(0, 0, 1).kvRead(1, 0, nil).kvRead(1, 0, 1)
	linValid(t, "nil reads", b.Ops)
	linInvalid(t, "read before any write", newBuilder().kvRead(0, 0, 1).kvWrite(0, 0, 1).Ops)
}

func TestLinearizableKVFailedOpsAndIndeterminateReadsAreDropped(t *testing.T) {
	failedWrite := newBuilder().kvWrite(0, 0, 1).
		Inv(1, "write", []any{0, 2}).Fail(1, "write", []any{0, 2}).
		kvRead(0, 0, 2)
	linInvalid(t, "a failed write did not happen", failedWrite.Ops)

	failedCas := newBuilder().kvWrite(0, 0, 1).
		Inv(1, "cas", []any{0, []any{1, 3}}).Fail(1, "cas", []any{0, []any{1, 3}}).
		kvRead(0, 0, 1)
	linValid(t, "a failed cas changes nothing", failedCas.Ops)

	infoRead := newBuilder().kvWrite(0, 0, 1).
		Inv(1, "read", []any{0, nil}).Info(1, "read", []any{0, nil}).
		kvRead(0, 0, 1)
	linValid(t, "an indeterminate read constrains nothing", infoRead.Ops)
}

func TestLinearizableKVKeysAreIndependent(t *testing.T) {
	b := newBuilder().
		kvWrite(0, 1, 5).                // key 1: write 5 …
		kvWrite(1, int64(0), 1).         // key 0 (as int64) …
		kvRead(2, json.Number("0"), 1).  // … read as a decoded JSON key: same key
		kvRead(3, 1, 4).                 // … key 1 reads 4: invalid
		kvRead(2, json.Number("2"), nil) // key 2: valid
	got := linInvalid(t, "one bad key", b.Ops)
	if s := checkertest.Show(checkertest.Get(t, got, "failures")); s != "[1]" {
		t.Errorf("failures %s, want [1]", s)
	}
	res := checkertest.Get(t, got, "results").(edn.Map)
	var keys []string
	for _, e := range res {
		keys = append(keys, checkertest.Show(e.Key))
	}
	if s := strings.Join(keys, " "); s != "0 1 2" {
		t.Errorf("results keys %s, want sorted 0 1 2", s)
	}
	if v := ValidityOf(res[0].Val.(edn.Map)); v != Valid {
		t.Errorf("key 0 should be valid, got %v", v)
	}
}

func TestLinearizableKVTimeoutIsUnknown(t *testing.T) {
	b := newBuilder().kvWrite(0, 0, 1).kvRead(1, 0, 1)
	got := LinearizableKV(b.Ops, time.Nanosecond)
	if ValidityOf(got) != Unknown {
		t.Fatalf("want :unknown after the time budget ran out, got %s", checkertest.Show(got))
	}
	if s := checkertest.Show(checkertest.Get(t, got, "failures")); s != "[0]" {
		t.Errorf("undecided keys are listed as failures: %s", s)
	}
}

func TestLinearizableKVMalformedCasIsUnknown(t *testing.T) {
	b := newBuilder().Inv(0, "cas", []any{0, 1}).OK(0, "cas", []any{0, 1})
	if got := LinearizableKV(b.Ops, noTimeout); ValidityOf(got) != Unknown {
		t.Errorf("cas without [from to]: want :unknown, got %s", checkertest.Show(got))
	}
}

func TestCASRegisterModelWithPorcupine(t *testing.T) {
	m := CASRegisterModel()
	op := func(client int, in RegisterInput, out RegisterOutput, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret}
	}
	w1 := op(0, RegisterInput{F: "write", Value: 1}, RegisterOutput{}, 0, 10)
	cas := op(1, RegisterInput{F: "cas", From: 1, To: "two"}, RegisterOutput{}, 20, 30)
	if !porcupine.CheckOperations(m, []porcupine.Operation{w1, cas,
		op(0, RegisterInput{F: "read"}, RegisterOutput{Value: "two"}, 40, 50)}) {
		t.Error("write 1; cas 1→two; read two should be linearizable")
	}
	if porcupine.CheckOperations(m, []porcupine.Operation{w1, cas,
		op(0, RegisterInput{F: "read"}, RegisterOutput{Value: 1}, 40, 50)}) {
		t.Error("reading 1 after the cas completed should not be linearizable")
	}
	// A definite cas whose precondition never holds is impossible, an
	// unknown one is not.
	bad := op(1, RegisterInput{F: "cas", From: 7, To: 8}, RegisterOutput{}, 20, 30)
	if porcupine.CheckOperations(m, []porcupine.Operation{w1, bad}) {
		t.Error("a completed cas 7→8 on a register holding 1 should not be linearizable")
	}
	bad.Output, bad.Return = RegisterOutput{Unknown: true}, math.MaxInt64
	if !porcupine.CheckOperations(m, []porcupine.Operation{w1, bad}) {
		t.Error("an unknown cas 7→8 may simply not have applied")
	}
}

// simulateRegister produces a linearizable lin-kv history on key 0: each
// of n processes runs ops one after another; every op takes effect at a
// random instant inside its interval, and outputs follow from applying the
// ops in that order to a real register. Some writes and cas time out
// (:info), having applied or not.
func simulateRegister(rng *rand.Rand, n, opsPerProcess, infoPercent int) []history.Op {
	type simOp struct {
		process        int
		f              string
		value          any // invocation value
		start, at, end int64
		typ            history.Type
		out            any // completion value
		applies        bool
	}
	var sims []*simOp
	for p := range n {
		t := rng.Int64N(1000)
		for range opsPerProcess {
			s := &simOp{process: p, start: t, applies: true, typ: history.OK}
			s.at = t + 1 + rng.Int64N(50)
			s.end = s.at + 1 + rng.Int64N(50)
			switch rng.IntN(3) {
			case 0:
				s.f, s.value = "read", []any{0, nil}
			case 1:
				s.f, s.value = "write", []any{0, rng.IntN(5)}
			default:
				s.f, s.value = "cas", []any{0, []any{rng.IntN(5), rng.IntN(5)}}
			}
			if s.f != "read" && rng.IntN(100) < infoPercent {
				s.typ, s.applies = history.Info, rng.IntN(2) == 0
			}
			sims = append(sims, s)
			t = s.end + 1 + rng.Int64N(20)
		}
	}
	byInstant := slices.Clone(sims)
	sort.Slice(byInstant, func(i, j int) bool { return byInstant[i].at < byInstant[j].at })
	var state any
	for _, s := range byInstant {
		s.out = s.value
		switch s.f {
		case "read":
			s.out = []any{0, state}
		case "write":
			if s.applies {
				state = s.value.([]any)[1]
			}
		case "cas":
			ft := s.value.([]any)[1].([]any)
			switch {
			case !history.Equal(state, ft[0]):
				if s.typ == history.OK {
					s.typ = history.Fail
				}
			case s.applies:
				state = ft[1]
			}
		}
	}
	type event struct {
		t   int64
		end bool
		s   *simOp
	}
	var events []event
	for _, s := range sims {
		events = append(events, event{s.start, false, s}, event{s.end, true, s})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].t < events[j].t })
	var ops []history.Op
	for _, e := range events {
		op := history.Op{Index: len(ops), Time: e.t, Process: e.s.process, F: e.s.f, Type: history.Invoke, Value: e.s.value}
		if e.end {
			op.Type, op.Value = e.s.typ, e.s.out
		}
		ops = append(ops, op)
	}
	return ops
}

func TestLinearizableKVRandomHistories(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		ops := simulateRegister(rng, 6, 60, 2)
		if got := LinearizableKV(ops, time.Minute); ValidityOf(got) != Valid {
			t.Fatalf("seed %d: a simulated register must be linearizable: %s", seed, checkertest.Show(checkertest.Get(t, got, "results")))
		}
		// Corrupt one :ok read late in the history with a value nobody wrote.
		for i := len(ops) - 1; i >= 0; i-- {
			if ops[i].F == "read" && ops[i].Type == history.OK {
				ops[i].Value = []any{0, 99}
				break
			}
		}
		if got := LinearizableKV(ops, time.Minute); ValidityOf(got) != Invalid {
			t.Fatalf("seed %d: a read of a never-written value must be caught: %s", seed, checkertest.Show(got))
		}
	}
}

// TestLinearSearchAgreesWithPorcupine checks the linear search against
// porcupine, an independent implementation, on small random histories of
// which roughly half are made non-linearizable by perturbing reads.
func TestLinearSearchAgreesWithPorcupine(t *testing.T) {
	verdicts := map[bool]int{}
	for seed := range uint64(400) {
		rng := rand.New(rand.NewPCG(seed, 2))
		ops := simulateRegister(rng, 2+rng.IntN(4), 5+rng.IntN(20), 15)
		for i := range ops {
			if ops[i].F == "read" && ops[i].Type == history.OK {
				switch r := rng.IntN(10); {
				case r == 0:
					ops[i].Value = []any{0, nil}
				case r < 3:
					ops[i].Value = []any{0, rng.IntN(5)}
				}
			}
		}
		pops, err := RegisterOperations(unwrap(ops))
		if err != nil {
			t.Fatal(err)
		}
		want := porcupine.CheckOperations(CASRegisterModel(), pops)
		failure, err := linearSearch(pops, time.Time{}, new(atomic.Bool))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if got := failure == nil; got != want {
			t.Fatalf("seed %d: linear search says linearizable=%v, porcupine %v\n%v", seed, got, want, ops)
		}
		if got := ValidityOf(LinearizableKV(ops, time.Minute)) == Valid; got != want {
			t.Fatalf("seed %d: LinearizableKV says valid=%v, porcupine %v", seed, got, want)
		}
		verdicts[want]++
	}
	if verdicts[true] < 50 || verdicts[false] < 50 {
		t.Errorf("want a mix of verdicts, got %v", verdicts)
	}
}

// TestLinearizableKVRefutesQuicklyDespiteIndeterminateOps covers the case
// porcupine alone handles badly: a late stale read after many indeterminate
// writes and cas. Porcupine needs minutes here; the linear search, well
// under a second.
func TestLinearizableKVRefutesQuicklyDespiteIndeterminateOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	ops := simulateRegister(rng, 2, 500, 4)
	infos := 0
	for _, op := range ops {
		if op.Type == history.Info {
			infos++
		}
	}
	if infos < 20 {
		t.Fatalf("want a history with many indeterminate ops, got %d", infos)
	}
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].F == "read" && ops[i].Type == history.OK {
			ops[i].Value = []any{0, 99}
			break
		}
	}
	goroutines := runtime.NumGoroutine()
	start := time.Now()
	got := LinearizableKV(ops, 30*time.Second)
	if ValidityOf(got) != Invalid {
		t.Fatalf("want not linearizable, got %s", checkertest.Show(checkertest.Get(t, got, "results")))
	}
	t.Logf("%d ops, %d indeterminate: refuted in %v", len(ops), infos, time.Since(start))
	// The losing search (porcupine here) must have been stopped.
	for i := 0; runtime.NumGoroutine() > goroutines; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines left running, had %d", runtime.NumGoroutine(), goroutines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// When the two searches both reach a verdict and the verdicts differ, the
// result says so, whichever finishes first; a porcupine run that was
// stopped has no verdict. Porcupine is replaced by a stand-in; in a
// synctest bubble its sleep ends only once the linear search has
// finished, so it finishes second.
func TestCheckRegisterReportsDisagreement(t *testing.T) {
	valid := newBuilder().kvWrite(0, 0, 1).kvRead(1, 0, 1).Ops
	stale := newBuilder().kvWrite(0, 0, 1).kvWrite(0, 0, 2).kvRead(1, 0, 1).Ops
	answer := func(res porcupine.CheckResult, wait time.Duration, step bool) porcupineCheck {
		return func(m porcupine.Model, pops []porcupine.Operation, _ time.Duration) porcupine.CheckResult {
			time.Sleep(wait)
			if step { // a real search would go on stepping and see the stop
				m.Step(m.Init(), pops[0].Input, pops[0].Output)
			}
			return res
		}
	}
	for _, tc := range []struct {
		name string
		ops  []history.Op
		por  porcupineCheck
		want string // a substring of the result
	}{
		{"porcupine refutes second", valid, answer(porcupine.Illegal, time.Second, false), "disagree (porcupine: Illegal)"},
		{"porcupine confirms second", stale, answer(porcupine.Ok, time.Second, false), "disagree (porcupine: Ok)"},
		{"porcupine refutes at once", valid, answer(porcupine.Illegal, 0, false), "disagree (porcupine: Illegal)"},
		{"porcupine stopped", valid, answer(porcupine.Illegal, time.Second, true), "{:valid? true}"},
		{"porcupine agrees second", stale, answer(porcupine.Illegal, time.Second, false), ":analyzer :linear"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pops, err := RegisterOperations(unwrap(tc.ops))
			if err != nil {
				t.Fatal(err)
			}
			synctest.Test(t, func(t *testing.T) {
				if got := checkertest.Show(checkRegisterWith(pops, noTimeout, tc.por)); !strings.Contains(got, tc.want) {
					t.Errorf("result %s, want it to contain %q", got, tc.want)
				}
			})
		})
	}
}

// FirstUnhonoured searches from any of the initial states it is given,
// and names the operation whose completion cannot be honoured.
func TestFirstUnhonouredFromInitialStates(t *testing.T) {
	read3 := porcupine.Operation{ClientId: 0, Input: RegisterInput{F: "read"}, Output: RegisterOutput{Value: canonical("3")}, Call: 0, Return: 10}
	write1 := porcupine.Operation{ClientId: 1, Input: RegisterInput{F: "write", Value: canonical("1")}, Output: RegisterOutput{}, Call: 20, Return: 30}
	read3b := read3
	read3b.Call, read3b.Return = 40, 50
	pops := []porcupine.Operation{read3, write1, read3b}
	f, err := FirstUnhonoured(pops[:1], []any{nil}, time.Minute)
	if err != nil || f == nil || f.Call != 0 {
		t.Fatalf("a read of 3 from a fresh register: %v, %v; want it unhonoured", f, err)
	}
	if f, err := FirstUnhonoured(pops[:1], []any{nil, int64(3)}, time.Minute); err != nil || f != nil {
		t.Fatalf("a read of 3 from a register that may hold 3: %v, %v; want linearizable", f, err)
	}
	f, err = FirstUnhonoured(pops, []any{nil, int64(3)}, time.Minute)
	if err != nil || f == nil || f != &pops[2] {
		t.Fatalf("a read of 3 after a write of 1: %v, %v; want the second read unhonoured", f, err)
	}
	m := CASRegisterModelFrom([]any{nil, int64(3)})
	if !porcupine.CheckOperations(m, pops[:2]) || porcupine.CheckOperations(m, pops) {
		t.Errorf("CASRegisterModelFrom disagrees with the linear search")
	}
}
