package txn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

// testRegistry holds the package's two workloads by name.
var testRegistry = workload.Registry{"txn-rw-register": NewRWRegister, "txn-list-append": NewListAppend}

// txnFor builds a txn workload with the given generator options (0 means
// the default).
func txnFor(t *testing.T, name string, keys, maxLen, maxWrites int, seed uint64) *txnWorkload {
	t.Helper()
	w, err := testRegistry.New(name, &workload.Env{Nodes: []string{"n0"}, Concurrency: 2, KeyCount: keys, MaxTxnLength: maxLen,
		MaxWritesPerKey: maxWrites, Rand: rand.New(rand.NewPCG(seed, 7))})
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return w.(*txnWorkload)
}

// mop unpacks micro-operation i of a generated transaction.
func txnMopOf(t *testing.T, op history.Op, i int) (edn.Keyword, int64, any) {
	t.Helper()
	txn, ok := op.Value.([]any)
	if !ok || i >= len(txn) {
		t.Fatalf("op %+v has no micro-operation %d", op, i)
	}
	m, ok := txn[i].([]any)
	if !ok || len(m) != 3 {
		t.Fatalf("micro-operation %#v is not [f k v]", txn[i])
	}
	f, fok := m[0].(edn.Keyword)
	k, kok := m[1].(int64)
	if !fok || !kok {
		t.Fatalf("micro-operation %#v: f must be a keyword and k an int64", m)
	}
	return f, k, m[2]
}

func TestTxnGeneratorLengthsAndMix(t *testing.T) {
	w := txnFor(t, "txn-rw-register", 0, 0, 0, 1)
	const n = 20000
	lengths := map[int]int{}
	reads, writes := 0, 0
	for range n {
		op, ok := w.NextOp(0, 0)
		if !ok || op.F != "txn" {
			t.Fatalf("NextOp = %+v, %v; want a txn", op, ok)
		}
		txn := op.Value.([]any)
		lengths[len(txn)]++
		for i := range txn {
			switch f, _, v := txnMopOf(t, op, i); f {
			case "r":
				if v != nil {
					t.Fatalf("a read is generated with value %#v, want nil", v)
				}
				reads++
			case "w":
				if _, ok := v.(int64); !ok {
					t.Fatalf("a write carries %#v, want an int64", v)
				}
				writes++
			default:
				t.Fatalf("unexpected f %q", f)
			}
		}
	}
	// Default --max-txn-length 4: lengths 1…4, a quarter each (σ ≈ 61).
	for l := 1; l <= 4; l++ {
		if c := lengths[l]; c < n/4-300 || c > n/4+300 {
			t.Errorf("%d transactions of length %d out of %d, want ≈ %d", c, l, n, n/4)
		}
	}
	if len(lengths) != 4 {
		t.Errorf("lengths %v, want only 1…4", lengths)
	}
	// Reads and writes are drawn evenly, but one write draw in 17 retires
	// its key (after 16 writes) and is drawn again: reads end up 17/33.
	if frac := float64(reads) / float64(reads+writes); math.Abs(frac-17.0/33) > 0.008 {
		t.Errorf("reads are %.4f of micro-operations, want ≈ 17/33 = %.4f", frac, 17.0/33)
	}
}

func TestTxnGeneratorHonoursMaxTxnLength(t *testing.T) {
	for _, maxLen := range []int{1, 2, 7} {
		w := txnFor(t, "txn-rw-register", 0, maxLen, 0, 2)
		seen := map[int]bool{}
		for range 2000 {
			op, _ := w.NextOp(0, 0)
			l := len(op.Value.([]any))
			if l < 1 || l > maxLen {
				t.Fatalf("--max-txn-length %d: a transaction of %d micro-operations", maxLen, l)
			}
			seen[l] = true
		}
		if len(seen) != maxLen {
			t.Errorf("--max-txn-length %d: lengths %v, want every length 1…%d", maxLen, seen, maxLen)
		}
	}
}

// The key in pool position i is drawn with probability 2^(i+1)/(2^(K+1)−2).
func TestTxnKeySkewIsExponential(t *testing.T) {
	for _, k := range []int{1, 3, 10} {
		g := newTxnGen(rand.New(rand.NewPCG(3, uint64(k))), k, 4, 16)
		const n = 200000
		counts := make([]int, k)
		for range n {
			counts[g.keyPosition()]++
		}
		total := math.Pow(2, float64(k+1)) - 2
		for i, c := range counts {
			p := math.Pow(2, float64(i+1)) / total
			sigma := math.Sqrt(n * p * (1 - p))
			if d := math.Abs(float64(c) - n*p); d > 5*sigma+1 {
				t.Errorf("K=%d: position %d drawn %d times, want ≈ %.0f (p = %.5f)", k, i, c, n*p, p)
			}
		}
	}
}

// Writes to a key carry 1, 2, 3, … up to --max-writes-per-key; the write
// that would exceed it retires the key for good, and a fresh key
// (largest active + 1) takes its pool position.
func TestTxnKeysRetireAfterMaxWrites(t *testing.T) {
	const keys, maxWrites = 4, 5
	w := txnFor(t, "txn-rw-register", keys, 3, maxWrites, 4)
	g := w.gen
	lastWrite := map[int64]int64{}
	retired := map[int64]bool{}
	maxKey := int64(keys - 1)
	for range 5000 {
		before := append([]int64(nil), g.active...)
		op, _ := w.NextOp(0, 0)
		for i := range op.Value.([]any) {
			f, k, v := txnMopOf(t, op, i)
			if retired[k] {
				t.Fatalf("key %d used after it was retired: %v", k, op.Value)
			}
			if f == "w" {
				if v.(int64) != lastWrite[k]+1 {
					t.Fatalf("key %d: write of %v after %d; want consecutive values from 1", k, v, lastWrite[k])
				}
				lastWrite[k] = v.(int64)
			}
		}
		// Compare the pool before and after: a changed position must
		// hold a fresh key, and the key it held had all its writes.
		for pos := range before {
			if before[pos] == g.active[pos] {
				continue
			}
			old := before[pos]
			if lastWrite[old] != maxWrites {
				t.Fatalf("key %d retired after %d writes, want %d", old, lastWrite[old], maxWrites)
			}
			retired[old] = true
		}
		seen := map[int64]bool{}
		var fresh []int64
		for _, k := range g.active {
			if seen[k] {
				t.Fatalf("key %d twice in the pool %v", k, g.active)
			}
			seen[k] = true
			if k > maxKey {
				fresh = append(fresh, k)
			}
		}
		slices.Sort(fresh)
		for _, k := range fresh {
			if k != maxKey+1 {
				t.Fatalf("fresh keys %v after %d, want consecutive keys (largest so far + 1)", fresh, maxKey)
			}
			maxKey = k
		}
		if len(g.active) != keys {
			t.Fatalf("pool %v, want %d keys", g.active, keys)
		}
	}
	if len(retired) < 50 {
		t.Fatalf("only %d keys retired in 5000 transactions", len(retired))
	}
}

// No key is ever written the same value twice, in one stream; and the
// stream is fixed by the seed.
func TestTxnWriteValuesAreUniquePerKeyAndSeeded(t *testing.T) {
	a := txnFor(t, "txn-rw-register", 0, 0, 0, 5)
	b := txnFor(t, "txn-rw-register", 0, 0, 0, 5)
	c := txnFor(t, "txn-rw-register", 0, 0, 0, 6)
	written := map[[2]int64]bool{}
	differs := false
	for range 20000 {
		opA, _ := a.NextOp(0, 0)
		opB, _ := b.NextOp(1, 1)
		opC, _ := c.NextOp(0, 0)
		if !history.Equal(opA.Value, opB.Value) {
			t.Fatalf("same seed, different transactions: %v and %v", opA.Value, opB.Value)
		}
		differs = differs || !history.Equal(opA.Value, opC.Value)
		for i := range opA.Value.([]any) {
			if f, k, v := txnMopOf(t, opA, i); f == "w" {
				kv := [2]int64{k, v.(int64)}
				if written[kv] {
					t.Fatalf("key %d written %d twice", k, kv[1])
				}
				written[kv] = true
			}
		}
	}
	if !differs {
		t.Error("seeds 5 and 6 generated the same stream")
	}
}

func TestTxnListAppendGeneratesAppends(t *testing.T) {
	if _, ok := testRegistry["txn-list-append"]; !ok {
		t.Skip("txn-list-append is not registered")
	}
	w := txnFor(t, "txn-list-append", 0, 0, 0, 7)
	appends := 0
	for range 2000 {
		op, _ := w.NextOp(0, 0)
		for i := range op.Value.([]any) {
			switch f, _, v := txnMopOf(t, op, i); f {
			case "append":
				if _, ok := v.(int64); !ok {
					t.Fatalf("append of %#v", v)
				}
				appends++
			case "r":
			default:
				t.Fatalf("list-append generated f %q", f)
			}
		}
	}
	if appends == 0 {
		t.Fatal("no appends generated")
	}
}

func TestTxnRefusesBadOptions(t *testing.T) {
	for _, env := range []workload.Env{
		{KeyCount: -1}, {MaxTxnLength: -2}, {MaxWritesPerKey: -1}, {KeyCount: 100},
		{ConsistencyModels: []string{"read-committed", "read-comitted"}},
	} {
		env.Nodes, env.Concurrency, env.Rand = []string{"n0"}, 1, rand.New(rand.NewPCG(1, 1))
		if _, err := testRegistry.New("txn-rw-register", &env); err == nil {
			t.Errorf("options %+v accepted", env)
		}
	}
}

func TestTxnAcceptsElleModelNames(t *testing.T) {
	for _, m := range []string{"read-uncommitted", "read-committed", "serializable", "strict-serializable", "snapshot-isolation"} {
		env := workload.Env{Nodes: []string{"n0"}, Concurrency: 1, Rand: rand.New(rand.NewPCG(1, 1)), ConsistencyModels: []string{m}}
		if _, err := testRegistry.New("txn-rw-register", &env); err != nil {
			t.Errorf("model %q refused: %v", m, err)
		}
	}
}

func TestTxnClientRequestsAndReplies(t *testing.T) {
	w := txnFor(t, "txn-rw-register", 0, 0, 0, 8)
	txn := history.Op{F: "txn", Process: 3, Value: []any{
		[]any{edn.Keyword("r"), int64(1), nil},
		[]any{edn.Keyword("w"), int64(2), int64(3)},
	}}
	filled := []any{
		[]any{edn.Keyword("r"), int64(1), int64(7)},
		[]any{edn.Keyword("w"), int64(2), int64(3)},
	}
	malformed := func(name, reply string) workloadtest.InvokeCase {
		return workloadtest.InvokeCase{Name: name, Op: txn, Reply: reply, WantType: history.Info, WantValue: txn.Value, Exception: "malformed-rpc-response"}
	}
	cases := []workloadtest.InvokeCase{
		{Name: "ok", Op: txn, Reply: `{"type":"txn_ok","txn":[["r",1,7],["w",2,3]],"in_reply_to":1}`, WantType: history.OK, WantValue: filled},
		{Name: "ok with msg_id", Op: txn, Reply: `{"type":"txn_ok","txn":[["r",1,7],["w",2,3]],"in_reply_to":1,"msg_id":4}`, WantType: history.OK, WantValue: filled},
		{Name: "read of a missing key", Op: txn, Reply: `{"type":"txn_ok","txn":[["r",1,null],["w",2,3]],"in_reply_to":1}`, WantType: history.OK,
			WantValue: []any{[]any{edn.Keyword("r"), int64(1), nil}, filled[1]}},
		// Maelstrom records what the node says it did, not what was asked.
		{Name: "reply differs from the request", Op: txn, Reply: `{"type":"txn_ok","txn":[["w",2,9]],"in_reply_to":1}`, WantType: history.OK,
			WantValue: []any{[]any{edn.Keyword("w"), int64(2), int64(9)}}},
		{Name: "txn-conflict", Op: txn, Reply: `{"type":"error","code":30,"text":"conflict","in_reply_to":1}`, WantType: history.Fail, WantValue: txn.Value},
		{Name: "abort", Op: txn, Reply: `{"type":"error","code":14,"text":"abort","in_reply_to":1}`, WantType: history.Fail, WantValue: txn.Value},
		{Name: "temporarily unavailable", Op: txn, Reply: `{"type":"error","code":11,"text":"busy","in_reply_to":1}`, WantType: history.Fail, WantValue: txn.Value},
		{Name: "key does not exist", Op: txn, Reply: `{"type":"error","code":20,"text":"no","in_reply_to":1}`, WantType: history.Fail, WantValue: txn.Value},
		{Name: "precondition failed", Op: txn, Reply: `{"type":"error","code":22,"text":"no","in_reply_to":1}`, WantType: history.Fail, WantValue: txn.Value},
		{Name: "crash", Op: txn, Reply: `{"type":"error","code":13,"text":"boom","in_reply_to":1}`, WantType: history.Info, WantValue: txn.Value},
		{Name: "timeout code", Op: txn, Reply: `{"type":"error","code":0,"text":"slow","in_reply_to":1}`, WantType: history.Info, WantValue: txn.Value},
		{Name: "unknown code", Op: txn, Reply: `{"type":"error","code":1000,"text":"custom","in_reply_to":1}`, WantType: history.Info, WantValue: txn.Value},
		{Name: "net timeout", Op: txn, Reply: "", Err: netsim.ErrTimeout, WantType: history.Info, WantValue: txn.Value},
		{Name: "unknown destination", Op: txn, Reply: "", Err: netsim.ErrUnknownDest, WantType: history.Info, WantValue: txn.Value, Exception: "invalid-destination"},
		malformed("no txn", `{"type":"txn_ok","in_reply_to":1}`),
		malformed("txn not a list", `{"type":"txn_ok","txn":{"r":1},"in_reply_to":1}`),
		malformed("extra key", `{"type":"txn_ok","txn":[],"value":1,"in_reply_to":1}`),
		malformed("wrong type", `{"type":"read_ok","txn":[],"in_reply_to":1}`),
		malformed("unknown f", `{"type":"txn_ok","txn":[["x",1,7]],"in_reply_to":1}`),
		malformed("append in rw-register", `{"type":"txn_ok","txn":[["append",1,7]],"in_reply_to":1}`),
		malformed("short micro-operation", `{"type":"txn_ok","txn":[["r",1]],"in_reply_to":1}`),
		malformed("long micro-operation", `{"type":"txn_ok","txn":[["r",1,7,8]],"in_reply_to":1}`),
		malformed("micro-operation not a list", `{"type":"txn_ok","txn":[7],"in_reply_to":1}`),
		malformed("keyword f", `{"type":"txn_ok","txn":[[null,1,7]],"in_reply_to":1}`),
	}
	workloadtest.CheckInvokes(t, w, cases, func(op history.Op) map[string]any {
		return map[string]any{"type": "txn", "txn": []any{[]any{"r", int64(1), nil}, []any{"w", int64(2), int64(3)}}}
	})
}

// Definite errors record their name and text; integers in replies become
// int64, so checkers can compare them with ==.
func TestTxnClientRecordsErrorsAndNormalisesIntegers(t *testing.T) {
	w := txnFor(t, "txn-rw-register", 0, 0, 0, 9)
	op := history.Op{F: "txn", Value: []any{[]any{edn.Keyword("r"), int64(5), nil}}}
	f := &workloadtest.FakeNode{Reply: `{"type":"error","code":30,"text":"conflict","in_reply_to":1}`}
	out := w.Invoke(t.Context(), f.Call, op)
	if want := []any{edn.Keyword("txn-conflict"), "conflict"}; out.Type != history.Fail || !history.Equal(out.Error, want) {
		t.Errorf("txn-conflict completed %v with :error %v, want :fail with %v", out.Type, out.Error, want)
	}
	f = &workloadtest.FakeNode{Reply: `{"type":"txn_ok","txn":[["r",5,12]],"in_reply_to":1}`}
	out = w.Invoke(t.Context(), f.Call, op)
	m := out.Value.([]any)[0].([]any)
	if _, ok := m[1].(int64); !ok {
		t.Errorf("key %#v is not an int64", m[1])
	}
	if v, ok := m[2].(int64); !ok || v != 12 {
		t.Errorf("read value %#v, want int64 12", m[2])
	}
	f = &workloadtest.FakeNode{Err: errors.New("boom")}
	if out := w.Invoke(t.Context(), f.Call, op); out.Type != history.Info || out.Exception == "" {
		t.Errorf("a transport failure completed %+v, want :info with an exception", out)
	}
}

func TestTxnListAppendClientRepliesAndSchema(t *testing.T) {
	if _, ok := testRegistry["txn-list-append"]; !ok {
		t.Skip("txn-list-append is not registered")
	}
	w := txnFor(t, "txn-list-append", 0, 0, 0, 10)
	txn := history.Op{F: "txn", Value: []any{
		[]any{edn.Keyword("r"), int64(1), nil},
		[]any{edn.Keyword("append"), int64(1), int64(3)},
	}}
	cases := []workloadtest.InvokeCase{
		{Name: "ok", Op: txn, Reply: `{"type":"txn_ok","txn":[["r",1,[1,2]],["append",1,3]],"in_reply_to":1}`, WantType: history.OK,
			WantValue: []any{[]any{edn.Keyword("r"), int64(1), []any{int64(1), int64(2)}}, txn.Value.([]any)[1]}},
		{Name: "read of a missing key", Op: txn, Reply: `{"type":"txn_ok","txn":[["r",1,null],["append",1,3]],"in_reply_to":1}`, WantType: history.OK,
			WantValue: []any{[]any{edn.Keyword("r"), int64(1), nil}, txn.Value.([]any)[1]}},
		{Name: "read of a number", Op: txn, Reply: `{"type":"txn_ok","txn":[["r",1,5],["append",1,3]],"in_reply_to":1}`, WantType: history.Info, WantValue: txn.Value, Exception: "malformed-rpc-response"},
		{Name: "a write", Op: txn, Reply: `{"type":"txn_ok","txn":[["w",1,5]],"in_reply_to":1}`, WantType: history.Info, WantValue: txn.Value, Exception: "malformed-rpc-response"},
		{Name: "conflict", Op: txn, Reply: `{"type":"error","code":30,"text":"c","in_reply_to":1}`, WantType: history.Fail, WantValue: txn.Value},
	}
	workloadtest.CheckInvokes(t, w, cases, func(op history.Op) map[string]any {
		return map[string]any{"type": "txn", "txn": []any{[]any{"r", int64(1), nil}, []any{"append", int64(1), int64(3)}}}
	})
	out := w.Invoke(t.Context(), (&workloadtest.FakeNode{Reply: `{"type":"txn_ok","txn":[["r",1,[4]]],"in_reply_to":1}`}).Call, txn)
	if e, ok := out.Value.([]any)[0].([]any)[2].([]any)[0].(int64); !ok || e != 4 {
		t.Errorf("list element %#v, want int64 4", out.Value)
	}
}
