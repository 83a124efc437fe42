package workload

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// The txn-rw-register workload (challenges 6a–6c; Maelstrom
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
// visible on the other nodes (TxnVisibility).
//
// txn-list-append (Maelstrom src/maelstrom/workload/txn_list_append.clj)
// shares client and generator with writes turned into appends,
// ["append", k, v], whose values are unique per key, and reads returning
// a key's whole list (null when empty): [[:r 1 [1 2]] [:append 1 3]]. Its
// checker is Elle's list-append checker, unwrapped.
func init() {
	register("txn-rw-register", func(env *Env) (Workload, error) { return newTxn(env, false) })
	register("txn-list-append", func(env *Env) (Workload, error) { return newTxn(env, true) })
}

// Defaults of the wr-txns generator as Maelstrom runs it.
const (
	defaultTxnKeyCount     = 10 // Elle's default for the exponential key distribution
	defaultMaxTxnLength    = 4  // Maelstrom's --max-txn-length
	defaultMaxWritesPerKey = 16 // Maelstrom's --max-writes-per-key
	minTxnLength           = 1  // Elle's :min-txn-length; Maelstrom has no flag for it
)

// txnWorkload is txn-rw-register, or txn-list-append when appends is set.
type txnWorkload struct {
	env     *Env
	gen     *txnGen
	appends bool
	// Visibility holds the limits ExtraCheck judges visibility lag by.
	Visibility VisibilityBounds
}

func newTxn(env *Env, appends bool) (*txnWorkload, error) {
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

func (*txnWorkload) Reusable() bool                                 { return true }
func (*txnWorkload) Setup(context.Context, map[string]Caller) error { return nil }
func (*txnWorkload) Final() func(context.Context, int, func(history.Op) history.Op) {
	return nil
}

// NextOp draws the next transaction from the one global stream.
func (w *txnWorkload) NextOp(int, int) (history.Op, bool) {
	return history.Op{F: "txn", Value: w.gen.next(w.writeF())}, true
}

var txnReply = Schema{Type: "txn_ok", Fields: map[string]Kind{"txn": ArrayKind}}

// Invoke sends the transaction and records the node's completed version.
func (w *txnWorkload) Invoke(ctx context.Context, c Caller, op history.Op) history.Op {
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
	return Call(ctx, c, op, map[string]any{"type": "txn", "txn": req}, CallOpts{
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

// ExtraCheck measures visibility lag (TxnVisibility).
func (w *txnWorkload) ExtraCheck(ops []history.Op) edn.Map {
	return TxnVisibility(ops, w.env.Nodes, w.env.Concurrency, w.appends, w.Visibility)
}

// VisibilityBounds are the limits TxnVisibility holds a run to.
type VisibilityBounds struct {
	// Median and P99 bound the quantiles of the visibility lag of writes
	// outside partitions.
	Median, P99 time.Duration
	// AfterHeal bounds how long after a partition heals a node may still
	// miss a write.
	AfterHeal time.Duration
}

// DefaultVisibilityBounds are the targets of the txn challenges (6b, 6c):
// median ≤ 100 ms, p99 ≤ 500 ms, and every write visible everywhere
// within 1 s of a heal.
func DefaultVisibilityBounds() VisibilityBounds {
	return VisibilityBounds{Median: 100 * time.Millisecond, P99: 500 * time.Millisecond, AfterHeal: time.Second}
}

// TxnVisibility measures how soon acknowledged writes become visible on
// the other nodes, something Maelstrom's checkers never look at: a store
// that never replicates passes read-committed.
//
// Each worker process talks to one node: thread = process mod
// concurrency, node = nodes[thread mod len(nodes)]. A write is the final
// write of a key by an :ok transaction W (in txn-list-append, every
// append), acknowledged at W's completion. For each other node m the
// reads considered are the external reads of that key (the transaction's
// first micro-operation on it is the read) by :ok transactions sent to m
// and invoked after the acknowledgement, in invocation order. Each such
// read
//
//   - sees the write when it returns the written value (list-append: a
//     list containing the element);
//   - supersedes it (rw-register) when it returns a value written by a
//     transaction invoked after the write was acknowledged and sent to
//     another node than m: m got a newer state from elsewhere, and may
//     have held the write before, we cannot tell;
//   - is stale when it returns nil or a value whose writer completed
//     before W was invoked (list-append: any list without the element);
//   - is ignored otherwise: a value written concurrently with W, by an
//     indeterminate or failed transaction, by nobody, or by a later
//     transaction sent to m itself, which m serves whether it has the
//     write or not.
//
// The first read that sees or supersedes the write resolves it on m. The
// lag of the pair (write, m) is the proven part: from the
// acknowledgement to the invocation of the last stale read before the
// resolution, 0 when there was none. Sparse reads can only make it
// smaller, never larger, so it is a lower bound of the true lag; the time
// to the completion of the first read that sees the write, an upper
// bound, is reported too. A pair is unresolved when stale reads follow
// the acknowledgement and no read resolves it (often because m's own
// later writes hide it); its lag counts like any other, and when it
// exceeds the p99 bound (after a heal: the heal bound) the write was
// never seen. Pairs with no read after the
// acknowledgement say nothing and are left out.
//
// Partitions are the spans from a start-partition nemesis operation to
// the completion of the next stop-partition; every partition is assumed
// to separate every pair of nodes. A pair whose span — from W's
// invocation to the completion of its resolving read, or of its last
// stale read when unresolved — overlaps a partition is judged after the
// heal instead: its after-heal lag runs from the later of the
// acknowledgement and the end of the last partition that began before its
// last stale read, to that read (0 when the read fell inside that
// partition, or there was none before it).
//
// Valid when, outside partitions, the median lag is at most b.Median and
// the 99th percentile at most b.P99, every after-heal lag is at most
// b.AfterHeal, and no write was never seen.
func TxnVisibility(ops []history.Op, nodes []string, concurrency int, appends bool, b VisibilityBounds) edn.Map {
	a := newVisAnalysis(ops, nodes, concurrency, appends)
	a.measure(b)
	return a.result(b)
}

// visTxn is one transaction as the visibility analysis needs it.
type visTxn struct {
	inv, ack int64 // invocation and completion times; ack is MaxInt64 unless :ok
	ok       bool
	node     int
	value    []any // micro-operations (the completion's when :ok)
}

// visRead is an external read of one key.
type visRead struct {
	inv, comp int64
	value     any
}

// visWriter identifies who wrote a value of a key (rw-register).
type visWriter struct {
	txn          *visTxn
	intermediate bool
}

// visPair is the outcome for one write on one other node.
type visPair struct {
	write                 int   // index into writes
	healPair              bool  // its span overlaps a partition
	resolved, seen        bool  // a read saw or superseded the write
	lag                   int64 // the proven lag (outside partitions) or after-heal lag
	upper                 int64 // ack → completion of the read that saw it, when seen
	heal                  int   // index of the partition whose heal the after-heal lag counts from, or −1
	unresolved, neverSeen bool
}

// visWrite is one acknowledged write: key k (keyText is history.Key(k))
// set to val, or val appended to k.
type visWrite struct {
	txn     *visTxn
	keyText string
	k, val  any
}

type visPeriod struct{ start, end int64 }

type visAnalysis struct {
	appends bool
	nodes   int
	writes  []visWrite
	reads   map[string][][]visRead          // key → node → reads in invocation order
	writers map[string]map[string]visWriter // key → value key → writer (rw-register)
	periods []visPeriod
	pairs   []visPair
}

func newVisAnalysis(ops []history.Op, nodes []string, concurrency int, appends bool) *visAnalysis {
	a := &visAnalysis{appends: appends, nodes: len(nodes), reads: map[string][][]visRead{},
		writers: map[string]map[string]visWriter{}}
	if concurrency < 1 {
		concurrency = 1
	}
	nodeOf := func(p int) int {
		if a.nodes == 0 {
			return 0
		}
		return (p % concurrency) % a.nodes
	}
	for _, op := range ops {
		if op.IsClient() {
			continue
		}
		switch op.F {
		case "start-partition":
			if n := len(a.periods); n == 0 || a.periods[n-1].end != math.MaxInt64 {
				a.periods = append(a.periods, visPeriod{start: op.Time, end: math.MaxInt64})
			}
		case "stop-partition":
			// Both the nemesis's invocation and completion move the end:
			// the heal is done at the later one.
			if n := len(a.periods); n > 0 && (a.periods[n-1].end == math.MaxInt64 || a.periods[n-1].end <= op.Time) {
				a.periods[n-1].end = op.Time
			}
		}
	}
	for _, p := range history.Pairs(ops) {
		if p.Invoke.F != "txn" {
			continue
		}
		t := &visTxn{inv: p.Invoke.Time, ack: math.MaxInt64, node: nodeOf(p.Invoke.Process)}
		t.value, _ = p.Invoke.Value.([]any)
		if c := p.Complete; c != nil {
			if c.Type == history.Fail {
				continue // it wrote nothing anyone may see
			}
			if c.Type == history.OK {
				t.ok, t.ack = true, c.Time
				t.value, _ = c.Value.([]any)
			}
		}
		a.addTxn(t)
	}
	for _, byNode := range a.reads {
		for _, rs := range byNode {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].inv < rs[j].inv })
		}
	}
	return a
}

// addTxn indexes a transaction's external reads (when :ok) and its writes.
func (a *visAnalysis) addTxn(t *visTxn) {
	touched := map[string]bool{}
	lastWrite := map[string]int{} // key → position of the txn's last write to it
	for i, m := range t.value {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			continue
		}
		k := history.Key(mop[1])
		if f, _ := mop[0].(edn.Keyword); f == "r" {
			if !touched[k] && t.ok {
				byNode := a.reads[k]
				if byNode == nil {
					byNode = make([][]visRead, max(a.nodes, 1))
					a.reads[k] = byNode
				}
				byNode[t.node] = append(byNode[t.node], visRead{inv: t.inv, comp: t.ack, value: mop[2]})
			}
		} else {
			lastWrite[k] = i
			if a.appends && t.ok {
				a.writes = append(a.writes, visWrite{txn: t, keyText: k, k: mop[1], val: mop[2]})
			}
		}
		touched[k] = true
	}
	if a.appends {
		return
	}
	for i, m := range t.value {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			continue
		}
		if f, _ := mop[0].(edn.Keyword); f == "r" {
			continue
		}
		k := history.Key(mop[1])
		final := lastWrite[k] == i
		if a.writers[k] == nil {
			a.writers[k] = map[string]visWriter{}
		}
		a.writers[k][history.Key(mop[2])] = visWriter{txn: t, intermediate: !final}
		if final && t.ok {
			a.writes = append(a.writes, visWrite{txn: t, keyText: k, k: mop[1], val: mop[2]})
		}
	}
}

// Read classes.
const (
	visIgnored = iota
	visStale
	visSeen
	visSuperseding
)

// classify says what read r on node m tells of write w.
func (a *visAnalysis) classify(w visWrite, r visRead, m int) int {
	if a.appends {
		l, _ := r.value.([]any)
		for _, e := range l {
			if history.Equal(e, w.val) {
				return visSeen
			}
		}
		return visStale
	}
	if r.value == nil {
		return visStale
	}
	if history.Equal(r.value, w.val) {
		return visSeen
	}
	wr, ok := a.writers[w.keyText][history.Key(r.value)]
	switch {
	case !ok || wr.intermediate:
		return visIgnored
	case wr.txn.ok && wr.txn.ack < w.txn.inv:
		return visStale
	case wr.txn.inv > w.txn.ack && wr.txn.node != m:
		return visSuperseding
	}
	return visIgnored
}

// overlaps reports whether [from, to] meets a partition.
func (a *visAnalysis) overlaps(from, to int64) bool {
	for _, p := range a.periods {
		if from <= p.end && p.start <= to {
			return true
		}
	}
	return false
}

func (a *visAnalysis) measure(b VisibilityBounds) {
	for wi, w := range a.writes {
		byNode := a.reads[w.keyText]
		for m := 0; m < a.nodes; m++ {
			if m == w.txn.node || byNode == nil {
				continue
			}
			rs := byNode[m]
			i := sort.Search(len(rs), func(i int) bool { return rs[i].inv > w.txn.ack })
			if i == len(rs) {
				continue // never read there afterwards: no evidence either way
			}
			p := visPair{write: wi, heal: -1}
			var lastStale, resolver *visRead
			for ; i < len(rs); i++ {
				switch a.classify(w, rs[i], m) {
				case visStale:
					lastStale = &rs[i]
				case visSeen:
					resolver, p.seen = &rs[i], true
				case visSuperseding:
					resolver = &rs[i]
				default:
					continue
				}
				if resolver != nil {
					break
				}
			}
			if resolver == nil && lastStale == nil {
				continue // only ignored reads: no evidence
			}
			p.resolved = resolver != nil
			var end int64 // where the evidence ends
			if resolver == nil {
				end = lastStale.comp
			} else {
				end = resolver.comp
				if p.seen {
					p.upper = resolver.comp - w.txn.ack
				}
			}
			p.healPair = a.overlaps(w.txn.inv, end)
			if lastStale != nil {
				if !p.healPair {
					p.lag = max(0, lastStale.inv-w.txn.ack)
				} else if h := a.periodBefore(lastStale.inv); h >= 0 && lastStale.inv > a.periods[h].end {
					p.heal = h
					p.lag = lastStale.inv - max(a.periods[h].end, w.txn.ack)
				}
			}
			if !p.resolved {
				p.unresolved = true
				bound := b.P99
				if p.healPair {
					bound = b.AfterHeal
				}
				p.neverSeen = time.Duration(p.lag) > bound
			}
			a.pairs = append(a.pairs, p)
		}
	}
}

// periodBefore returns the last partition that began at or before t, or −1.
func (a *visAnalysis) periodBefore(t int64) int {
	return sort.Search(len(a.periods), func(i int) bool { return a.periods[i].start > t }) - 1
}

// visMS renders nanoseconds as milliseconds, to the microsecond.
func visMS(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

// visSeconds renders nanoseconds as seconds, to the millisecond.
func visSeconds(ns int64) float64 { return math.Round(float64(ns)/1e6) / 1e3 }

// visQuantiles summarises lags as {0.5 median, 0.99 p99, 1 max} in ms.
func visQuantiles(sorted []int64) edn.Map {
	if len(sorted) == 0 {
		return nil
	}
	return edn.Map{
		{Key: 0.5, Val: visMS(checker.Quantile(sorted, 0.5))},
		{Key: 0.99, Val: visMS(checker.Quantile(sorted, 0.99))},
		{Key: int64(1), Val: visMS(checker.Quantile(sorted, 1))},
	}
}

func visSort(xs []int64) []int64 {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return xs
}

func (a *visAnalysis) result(b VisibilityBounds) edn.Map {
	var lags, uppers []int64
	var outside, outsideSeen, outsideSuperseded, healPairs int
	var worstHeal int64
	worstHealAt := -1
	unresolved, neverSeen := map[int]bool{}, map[int]bool{}
	var neverSeenExamples edn.List
	for _, p := range a.pairs {
		if p.unresolved {
			unresolved[p.write] = true
		}
		if p.neverSeen && !neverSeen[p.write] {
			neverSeen[p.write] = true
			if len(neverSeenExamples) < 8 {
				w := a.writes[p.write]
				neverSeenExamples = append(neverSeenExamples, edn.K("key", w.k, "value", w.val,
					"acked-at", visMS(w.txn.ack), "lag-ms", visMS(p.lag)))
			}
		}
		if p.healPair {
			healPairs++
			if p.heal >= 0 {
				if p.lag > worstHeal || worstHealAt < 0 {
					worstHeal, worstHealAt = p.lag, p.heal
				}
			}
			continue
		}
		outside++
		lags = append(lags, p.lag)
		switch {
		case p.seen:
			outsideSeen++
			uppers = append(uppers, p.upper)
		case p.resolved:
			outsideSuperseded++
		}
	}
	visSort(lags)
	visSort(uppers)

	var problems edn.List
	if len(lags) > 0 {
		if med := checker.Quantile(lags, 0.5); time.Duration(med) > b.Median {
			problems = append(problems, fmt.Sprintf("median visibility lag %v ms exceeds %v", visMS(med), b.Median))
		}
		if p99 := checker.Quantile(lags, 0.99); time.Duration(p99) > b.P99 {
			problems = append(problems, fmt.Sprintf("p99 visibility lag %v ms exceeds %v", visMS(p99), b.P99))
		}
	}
	if time.Duration(worstHeal) > b.AfterHeal {
		problems = append(problems, fmt.Sprintf("a write was still invisible %v ms after the heal at %v s (bound %v)",
			visMS(worstHeal), visSeconds(a.periods[worstHealAt].end), b.AfterHeal))
	}
	if len(neverSeen) > 0 {
		problems = append(problems, fmt.Sprintf("%d writes were never seen on some node although reads there kept missing them for longer than allowed", len(neverSeen)))
	}
	valid := checker.Valid
	if len(problems) > 0 {
		valid = checker.Invalid
	}
	heals := 0
	for _, p := range a.periods {
		if p.end != math.MaxInt64 {
			heals++
		}
	}
	after := edn.K("heals", heals, "pairs", healPairs)
	if worstHealAt >= 0 {
		after = append(after, edn.K("max-ms", visMS(worstHeal), "worst-heal-at-s", visSeconds(a.periods[worstHealAt].end))...)
	}
	res := edn.K(
		"valid?", valid.EDN(),
		"writes", len(a.writes),
		"pairs", outside,
		"seen", outsideSeen,
		"superseded", outsideSuperseded,
		"lag-ms", visQuantiles(lags),
		"first-seen-ms", visQuantiles(uppers),
		"unresolved-writes", len(unresolved),
		"never-seen-writes", len(neverSeen),
	)
	if len(neverSeenExamples) > 0 {
		res = append(res, edn.Entry{Key: edn.Keyword("never-seen"), Val: neverSeenExamples})
	}
	res = append(res, edn.K(
		"after-heal", after,
		"bounds", edn.K("median-ms", visMS(int64(b.Median)), "p99-ms", visMS(int64(b.P99)), "after-heal-ms", visMS(int64(b.AfterHeal))),
	)...)
	if len(problems) > 0 {
		res = append(res, edn.Entry{Key: edn.Keyword("problems"), Val: problems})
	}
	return res
}
