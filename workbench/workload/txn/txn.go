// Package txn is the txn-rw-register workload (challenges 6a–6c; Maelstrom
// src/maelstrom/workload/txn_rw_register.clj): every operation is one
// transaction, a list of micro-operations [f k v] run in order,
//
//	{"type":"txn","txn":[["r",1,null],["w",2,3]]}
//	  → {"type":"txn_ok","txn":[["r",1,7],["w",2,3]]}
//
// where a read ("r") comes back with the value the node saw (null for a
// key never written) and a write ("w") is echoed unchanged. The reply is
// checked against Maelstrom's schema (defrpc txn!): type txn_ok, a txn
// list and nothing else, every element a three-element list whose f is
// "r" or "w"; anything else is :info with a malformed-rpc-response
// exception. The reply's micro-operations, not the request's, become the
// completion's value, with integers normalised to int64 and f as a
// keyword: [[:r 1 7] [:w 2 3]]. No error is idempotent
// (Maelstrom's c/with-errors op #{}): a definite error (code 30
// txn-conflict, 14 abort, 11, 20, 22, …) is :fail, a timeout or any other
// error :info. Clients are reused after :info.
//
// The generator is Elle's wr-txns (elle/txn.clj), one global stream:
// a transaction has 1…--max-txn-length micro-operations (uniform), each
// a read or a write with equal odds, on a key drawn from a pool of
// --key-count active keys (initially 0…K−1) with exponential skew — the
// key in pool position i is chosen with probability 2^(i+1)/(2^(K+1)−2),
// so the last position takes half the draws. Writes to a key carry 1, 2,
// 3, …; the write that would exceed --max-writes-per-key instead retires
// the key, replacing it in its pool position by (largest active key + 1),
// and the micro-operation is drawn again. There is no final phase.
//
// The checker is Elle's rw-register checker as Maelstrom configures it
// (writes-follow-reads version orders, --consistency-models), in package
// elle. Beyond Maelstrom, ExtraCheck measures how soon writes become
// visible on the other nodes (Visibility, in visibility.go).
//
// txn-list-append (Maelstrom src/maelstrom/workload/txn_list_append.clj)
// shares client and generator with writes turned into appends,
// ["append", k, v], whose values are unique per key, and reads returning
// a key's whole list (null when empty): [[:r 1 [1 2]] [:append 1 3]]. Its
// checker is Elle's list-append checker, unwrapped.
//
// When a run is not valid, Explain (explain.go) tells each anomaly type
// Elle reported as a finding: its count, what it means and which
// consistency models forbid it, and for its first cases the story of
// their transactions (op, process and node, times, micro-operations) and
// of the edges that prove the anomaly (ww, wr, rw, realtime, process),
// with a small drawing of the first cycles of each type
// (cycle-<type>-<n>.svg); and what the visibility check found, naming
// the write, the node that missed it and the reads that show it.
//
// The package holds both workloads' client, generator and checkers, as
// Maelstrom's workload/txn_rw_register.clj and txn_list_append.clj do.
package txn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// Defaults of the wr-txns generator as Maelstrom runs it.
const (
	defaultTxnKeyCount     = 10 // Elle's default for the exponential key distribution
	defaultMaxTxnLength    = 4  // Maelstrom's --max-txn-length
	defaultMaxWritesPerKey = 16 // Maelstrom's --max-writes-per-key
	minTxnLength           = 1  // Elle's :min-txn-length; Maelstrom has no flag for it
)

// txnWorkload is txn-rw-register, or txn-list-append when appends is set.
type txnWorkload struct {
	env     *workload.Env
	gen     *txnGen
	appends bool
	// Visibility holds the limits ExtraCheck judges visibility lag by.
	Visibility VisibilityBounds

	// mu guards vis: the visibility analysis of a history ExtraCheck
	// found wanting, kept for Explain to tell (which then drops it), so
	// that explaining does not measure everything again.
	mu  sync.Mutex
	vis *visKept
}

// visKept is a visibility analysis kept for Explain, with what tells
// the history it came from.
type visKept struct {
	a       *visAnalysis
	ops     int   // the history's length
	last    int64 // and the time of its last operation
	appends bool
}

// NewRWRegister returns a txn-rw-register workload for env.
func NewRWRegister(env *workload.Env) (workload.Workload, error) { return newTxn(env, false) }

// NewListAppend returns a txn-list-append workload for env.
func NewListAppend(env *workload.Env) (workload.Workload, error) { return newTxn(env, true) }

func newTxn(env *workload.Env, appends bool) (*txnWorkload, error) {
	keys, length, writes := env.KeyCount, env.MaxTxnLength, env.MaxWritesPerKey
	if keys == 0 {
		keys = defaultTxnKeyCount
	}
	if length == 0 {
		length = defaultMaxTxnLength
	}
	if writes == 0 {
		writes = defaultMaxWritesPerKey
	}
	if keys < 0 || length < minTxnLength || writes < 0 {
		return nil, fmt.Errorf("txn workloads need a positive --key-count, --max-txn-length and --max-writes-per-key (got %d, %d, %d)", keys, length, writes)
	}
	if keys > 60 {
		// 2^(K+1) must stay exact in a float64 for the key skew.
		return nil, fmt.Errorf("--key-count %d is too large for the exponential key distribution (at most 60)", keys)
	}
	for _, m := range env.ConsistencyModels {
		if !elle.KnownModel(m) {
			// Maelstrom lets an unknown name through to the checker, which
			// then answers :unknown; refusing it up front is kinder.
			return nil, fmt.Errorf("unknown consistency model %q (Elle's names: read-uncommitted, read-committed, serializable, strict-serializable, ...)", m)
		}
	}
	return &txnWorkload{env: env, appends: appends, Visibility: DefaultVisibilityBounds(),
		gen: newTxnGen(env.Rand, keys, length, writes)}, nil
}

// txnGen is Elle's wr-txns generator (elle/txn.clj) with the exponential
// key distribution of base 2.
type txnGen struct {
	rng       *rand.Rand
	maxLen    int
	maxWrites int64
	active    []int64         // the key pool, by position
	writes    map[int64]int64 // writes generated so far, per key
	scale     float64         // key-dist-scale: 2(2^K − 1)
}

func newTxnGen(rng *rand.Rand, keys, maxLen, maxWrites int) *txnGen {
	g := &txnGen{rng: rng, maxLen: maxLen, maxWrites: int64(maxWrites),
		active: make([]int64, keys), writes: map[int64]int64{},
		scale: 2 * (math.Pow(2, float64(keys)) - 1)}
	for i := range g.active {
		g.active[i] = int64(i)
	}
	return g
}

// keyPosition draws a pool position: ⌊log2(u·scale + 2) − 1⌋ for u uniform
// in [0, 1), which is position i with probability 2^(i+1)/(2^(K+1)−2).
func (g *txnGen) keyPosition() int {
	i := int(math.Floor(math.Log(g.rng.Float64()*g.scale+2)/math.Log(2) - 1))
	return min(max(i, 0), len(g.active)-1)
}

// next draws one transaction: micro-operations [f k v] with f :r or :w
// (write, when appends is false) or :append.
func (g *txnGen) next(write edn.Keyword) []any {
	length := minTxnLength + g.rng.IntN(g.maxLen-minTxnLength+1)
	txn := make([]any, 0, length)
	for len(txn) < length {
		isWrite := g.rng.IntN(2) == 1
		pos := g.keyPosition()
		k := g.active[pos]
		if !isWrite {
			txn = append(txn, []any{edn.Keyword("r"), k, nil})
			continue
		}
		v := g.writes[k] + 1
		if v > g.maxWrites {
			// Retire the key: a fresh one takes its place, and this
			// micro-operation is drawn again.
			fresh := g.active[0]
			for _, a := range g.active {
				fresh = max(fresh, a)
			}
			g.active[pos] = fresh + 1
			delete(g.writes, k)
			continue
		}
		g.writes[k] = v
		txn = append(txn, []any{write, k, v})
	}
	return txn
}

// writeF is the keyword of the workload's writing micro-operation.
func (w *txnWorkload) writeF() edn.Keyword {
	if w.appends {
		return "append"
	}
	return "w"
}

func (*txnWorkload) Reusable() bool                                          { return true }
func (*txnWorkload) Setup(context.Context, map[string]workload.Caller) error { return nil }
func (*txnWorkload) Final() func(context.Context, int, func(history.Op) history.Op) {
	return nil
}

// NextOp draws the next transaction from the one global stream.
func (w *txnWorkload) NextOp(int, int) (history.Op, bool) {
	return history.Op{F: "txn", Value: w.gen.next(w.writeF())}, true
}

var txnReply = workload.Schema{Type: "txn_ok", Fields: map[string]workload.Kind{"txn": workload.ArrayKind}}

// Invoke sends the transaction and records the node's completed version.
func (w *txnWorkload) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	mops, _ := op.Value.([]any)
	req := make([]any, len(mops))
	for i, m := range mops {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			op.Type = history.Info
			op.Error = "indeterminate: malformed transaction " + history.Key(op.Value)
			return op
		}
		f, _ := mop[0].(edn.Keyword)
		req[i] = []any{string(f), mop[1], mop[2]}
	}
	// A reply that breaks the top-level schema or whose micro-operations
	// are wrong is malformed.
	return workload.Call(ctx, c, op, map[string]any{"type": "txn", "txn": req}, workload.CallOpts{
		Reply: txnReply,
		Check: func(body map[string]any) string { return w.badMops(body["txn"].([]any)) },
		OnOK: func(r netsim.Reply) any {
			done := r.Body["txn"].([]any)
			out := make([]any, len(done))
			for i, m := range done {
				mop := m.([]any)
				out[i] = []any{edn.Keyword(mop[0].(string)), txnNormInts(mop[1]), txnNormInts(mop[2])}
			}
			return out
		}})
}

// badMops describes the first micro-operation of a reply that Maelstrom's
// schema rejects, or returns "" when all fit: each must be
// ["r", key, value] or [write, key, value]; list-append reads must return
// a list or null.
func (w *txnWorkload) badMops(mops []any) string {
	write := string(w.writeF())
	for i, m := range mops {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			return fmt.Sprintf("txn element %d should be a list [f k v], got %s", i, history.Key(m))
		}
		switch f, _ := mop[0].(string); f {
		case "r":
			if _, isList := mop[2].([]any); w.appends && mop[2] != nil && !isList {
				return fmt.Sprintf("txn element %d: a read should return a list or null, got %s", i, history.Key(mop[2]))
			}
		case write:
		default:
			return fmt.Sprintf("txn element %d should have f \"r\" or %q, got %s", i, write, history.Key(mop[0]))
		}
	}
	return ""
}

// txnNormInts turns integers inside a decoded JSON value into int64, lists
// included; everything else is kept as it was decoded.
func txnNormInts(v any) any {
	if i, ok := history.Int(v); ok {
		return i
	}
	if l, ok := v.([]any); ok {
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = txnNormInts(e)
		}
		return out
	}
	return v
}

// Check runs Elle's checker for the configured consistency models:
// rw-register wrapped as Maelstrom wraps it, or list-append as it is.
func (w *txnWorkload) Check(ops []history.Op) edn.Map {
	opts := elle.Options{ConsistencyModels: w.env.ConsistencyModels}
	if w.appends {
		return elle.CheckListAppend(ops, opts)
	}
	return elle.CheckRWRegister(ops, opts)
}

// ExtraCheck measures visibility lag (Visibility). When the history
// fails the check, the analysis is kept for Explain.
func (w *txnWorkload) ExtraCheck(ops []history.Op) edn.Map {
	a := newVisAnalysis(ops, w.env.Nodes, w.env.Concurrency, w.appends)
	a.measure(w.Visibility)
	res := a.result(w.Visibility)
	var kept *visKept
	if checker.ValidityOf(res) != checker.Valid && len(ops) > 0 {
		kept = &visKept{a: a, ops: len(ops), last: ops[len(ops)-1].Time, appends: w.appends}
	}
	w.mu.Lock()
	w.vis = kept
	w.mu.Unlock()
	return res
}

// keptVisibility returns (and forgets) the analysis ExtraCheck kept of
// ops, nil when it kept none of them.
func (w *txnWorkload) keptVisibility(ops []history.Op) *visAnalysis {
	w.mu.Lock()
	k := w.vis
	w.vis = nil
	w.mu.Unlock()
	if k == nil || len(ops) == 0 || k.ops != len(ops) || k.last != ops[len(ops)-1].Time || k.appends != w.appends {
		return nil
	}
	return k.a
}
