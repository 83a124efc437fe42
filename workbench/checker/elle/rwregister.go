package elle

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Options configures the transactional checkers.
type Options struct {
	// ConsistencyModels are the models the history must satisfy, by Elle's
	// names ("read-uncommitted", "read-committed", "serializable",
	// "strict-serializable", ...); empty means strict-serializable, as in
	// Maelstrom's --consistency-models.
	ConsistencyModels []string
	// CycleSearchTimeout bounds the cycle search in each strongly connected
	// component (Elle's :cycle-search-timeout, default 1 s); negative means
	// no limit.
	CycleSearchTimeout time.Duration
}

// mop is one parsed micro-operation.
type mop struct {
	f    string // "r", "w" or "append"
	k, v any    // normalised key and value (see norm); v is nil for unread reads
	raw  any    // the micro-op as recorded, for printing
	list []any  // list-append reads: the normalised elements (nil list: nil)
}

// txn is a parsed transaction completion.
type txn struct {
	op   history.Op
	mops []mop
	// external reads and writes in first-touch order (rw-register)
	extR, extW []kv
}

type kv struct{ k, v any }

func (t *txn) extRead(k any) (any, bool) {
	for _, e := range t.extR {
		if e.k == k {
			return e.v, true
		}
	}
	return nil, false
}

func (t *txn) extWrite(k any) (any, bool) {
	for _, e := range t.extW {
		if e.k == k {
			return e.v, true
		}
	}
	return nil, false
}

// norm turns a key or value into a comparable Go value with Clojure's
// equality: integers of any Go type become int64, strings stay strings,
// nil stays nil, anything else becomes its canonical text (history.Key)
// marked so it cannot collide with a string.
func norm(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		return x
	case string:
		return x
	}
	if i, ok := history.Int(v); ok {
		return i
	}
	return canon(history.Key(v))
}

// canon is the canonical text of a value that is neither an integer nor a
// string.
type canon string

// parseMops reads a transaction value: a list of [f k v] micro-ops.
func parseMops(value any) ([]mop, error) {
	list, ok := value.([]any)
	if !ok {
		if value == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("transaction %s is not a list of micro-ops", history.Key(value))
	}
	mops := make([]mop, 0, len(list))
	for _, m := range list {
		parts, ok := m.([]any)
		if !ok || len(parts) != 3 {
			return nil, fmt.Errorf("micro-op %s is not [f k v]", history.Key(m))
		}
		var f string
		switch x := parts[0].(type) {
		case edn.Keyword:
			f = string(x)
		case string:
			f = x
		default:
			return nil, fmt.Errorf("micro-op %s has no function name", history.Key(m))
		}
		mo := mop{f: f, k: norm(parts[1]), raw: m}
		if l, ok := parts[2].([]any); ok {
			// a list (list-append reads): elements normalised one by one,
			// and v a comparable key for the whole list
			mo.list = make([]any, len(l))
			for i, e := range l {
				mo.list[i] = norm(e)
			}
			mo.v = listKey(mo.list)
		} else {
			mo.v = norm(parts[2])
		}
		mops = append(mops, mo)
	}
	return mops, nil
}

// listKey is a comparable key for a list of normalised values, distinct
// from nil and from every non-list value.
func listKey(l []any) any {
	b := make([]byte, 0, 4*len(l)+2)
	b = append(b, '[')
	for i, e := range l {
		if i > 0 {
			b = append(b, ' ')
		}
		switch x := e.(type) {
		case int64:
			b = strconv.AppendInt(b, x, 10)
		default:
			b = append(b, history.Key(denorm(x))...)
		}
	}
	return canon(append(b, ']'))
}

// parseTxns returns the client completions of f "txn" with their parsed
// micro-ops, in history order, and the client part of the history.
func parseTxns(ops []history.Op) (txns []*txn, client []history.Op, err error) {
	client = ops // no copy unless there are nemesis ops to drop
	for _, op := range ops {
		if !op.IsClient() {
			client = make([]history.Op, 0, len(ops))
			for _, o := range ops {
				if o.IsClient() {
					client = append(client, o)
				}
			}
			break
		}
	}
	n := 0
	for i := range client {
		if client[i].Type != history.Invoke {
			n++
		}
	}
	store := make([]txn, 0, n)
	txns = make([]*txn, 0, n)
	for i := range client {
		op := &client[i]
		if op.Type == history.Invoke {
			continue
		}
		mops, err := parseMops(op.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("op %d: %w", op.Index, err)
		}
		store = append(store, txn{op: *op, mops: mops})
		txns = append(txns, &store[len(store)-1])
	}
	return txns, client, nil
}

// computeExt fills ext-reads and ext-writes as jepsen.txn's ext-reads /
// ext-writes: the first micro-op on a key, if a read, is an external read;
// the last write of a key is its external write.
func (t *txn) computeExt() {
	for _, m := range t.mops {
		seen := false
		for _, e := range t.extR {
			if e.k == m.k {
				seen = true
			}
		}
		for _, e := range t.extW {
			if e.k == m.k {
				seen = true
			}
		}
		switch m.f {
		case "r":
			if !seen {
				t.extR = append(t.extR, kv{m.k, m.v})
			}
		case "w":
			found := false
			for i := range t.extW {
				if t.extW[i].k == m.k {
					t.extW[i].v = m.v
					found = true
				}
			}
			if !found {
				t.extW = append(t.extW, kv{m.k, m.v})
			}
		}
	}
}

// mopIndex is Elle's index-of: the position of the first micro-op [f k v].
func (t *txn) mopIndex(f string, k, v any) int {
	for i, m := range t.mops {
		if m.f == f && m.k == k && m.v == v {
			return i
		}
	}
	return -1
}

// rwKey holds one key's indexes.
type rwKey struct {
	writers map[any][]*txn // value -> :ok txns that externally wrote it
	readers map[any][]*txn // value (nil too) -> :ok txns that externally read it
	read    []any          // the keys of readers in first-seen (history) order
	nilNext []any          // versions after nil (initial-state source), in first-seen order
	nilSeen map[any]bool
	wfr     [][2]any // writes-follow-reads version edges
	orig    any      // the key as recorded, for printing
}

type vedge struct{ k, a, b any }

// CheckRWRegister checks a txn-rw-register history as Maelstrom 0.2.4
// does: Elle's rw-register checker (elle/rw_register.clj, check) with
// :wfr-keys? true and the given consistency models, wrapped by Maelstrom
// (maelstrom/workload/txn_rw_register.clj, checker), which drops
// :cycle-search-timeout and recomputes :valid? as "no anomaly types left".
//
// Versions are ordered only by "nil comes first" and, inside each :ok
// transaction that reads a key and then writes it, "the write follows the
// read"; ww and rw edges come from those version edges, wr edges from
// unique written values. Besides cycles it reports :internal, :G1a (reads
// of :fail transactions' writes), :G1b (reads of intermediate writes),
// :lost-update and :cyclic-versions; which of them count depends on the
// models. The result is {:valid? :anomaly-types :anomalies [:not
// :also-not]} as Maelstrom prints it.
func CheckRWRegister(ops []history.Op, opts Options) edn.Map {
	res, ok := checkWith(ops, opts, analyseRWRegister)
	if !ok {
		return res
	}
	return maelstromWrap(res)
}

// maelstromWrap is Maelstrom's txn-rw-register checker wrapper.
func maelstromWrap(res edn.Map) edn.Map {
	types, _ := res.Get(edn.Keyword("anomaly-types"))
	var kept edn.List
	if l, ok := types.(edn.List); ok {
		for _, t := range l {
			if t != edn.Keyword("cycle-search-timeout") {
				kept = append(kept, t)
			}
		}
	}
	if kept == nil {
		kept = edn.List{}
	}
	var anoms any
	if am, ok := res.Get(edn.Keyword("anomalies")); ok {
		m := edn.Map{}
		for _, e := range am.(edn.Map) {
			if e.Key != edn.Keyword("cycle-search-timeout") {
				m = append(m, e)
			}
		}
		anoms = m
	}
	res = res.Set(edn.Keyword("anomaly-types"), kept)
	res = res.Set(edn.Keyword("anomalies"), anoms)
	return res.Set(edn.Keyword("valid?"), len(kept) == 0)
}

// checkWith is what Elle's checkers share: the models named (or the
// default), refused when unknown, then analyse's anomalies judged against
// them. ok is false when the result is an error ({:valid? :unknown}).
func checkWith(ops []history.Op, opts Options, analyse func([]history.Op, Options, []string) (Anomalies, error)) (res edn.Map, ok bool) {
	models := modelsOrDefault(opts.ConsistencyModels)
	for _, m := range models {
		if !KnownModel(m) {
			return edn.K("valid?", edn.Keyword("unknown"),
				"error", fmt.Sprintf("Unknown consistency model %s", m)), false
		}
	}
	anomalies, err := analyse(ops, opts, models)
	if err != nil {
		return edn.K("valid?", edn.Keyword("unknown"), "error", err.Error()), false
	}
	return Result(anomalies, models), true
}

// analyseRWRegister finds every anomaly Elle's rw-register check finds,
// reportable or not, composed as Elle composes it: the cases that need no
// graph (internal, G1a, G1b, lost updates), the version orders of each
// key (with cyclic versions), then the cycles of the transaction graph.
func analyseRWRegister(ops []history.Op, opts Options, models []string) (Anomalies, error) {
	txns, client, err := parseTxns(ops)
	if err != nil {
		return nil, err
	}
	byIndex := make(map[int]*txn, len(txns))
	for _, t := range txns {
		t.computeExt()
		byIndex[t.op.Index] = t
	}
	out := Anomalies{}
	internal, g1a, g1b := rwRegisterTxnCases(ops, client, txns, byIndex)
	out.Add("internal", internal...)
	out.Add("G1a", g1a...)
	out.Add("G1b", g1b...)
	out.Add("lost-update", lostUpdateCases(txns, "w")...)

	vs := rwVersions(txns)
	cyclic := vs.cyclicVersionCases()
	out.Add("cyclic-versions", cyclic...)

	g, vedges, err := vs.graph(len(txns), len(cyclic) == 0)
	if err != nil {
		return nil, err
	}
	if NeedsRealtime(models) {
		g.AddRealtime(client)
	} else if NeedsProcess(models) {
		g.AddProcess(client)
	}
	if g.Len() == 0 {
		out["empty-transaction-graph"] = []edn.Map{nil}
	}
	g.explain = func(a, b history.Op, r Rel) edn.Map {
		return explainRW(byIndex[a.Index], byIndex[b.Index], r, vedges)
	}
	for t, cs := range g.Cycles(CycleOptions{Timeout: opts.CycleSearchTimeout}) {
		out.Add(t, cs...)
	}
	return out, nil
}

// rwRegisterTxnCases finds internal inconsistencies (a read that
// disagrees with the transaction's own earlier write or read of the key),
// aborted reads (G1a: a read of a failed transaction's write) and
// intermediate reads (G1b: a read of a write its transaction overwrote),
// in :ok transactions.
func rwRegisterTxnCases(ops, client []history.Op, txns []*txn, byIndex map[int]*txn) (internal, g1a, g1b []edn.Map) {
	failed := map[vkey]int{} // key/value -> index of the :fail op that wrote it
	interm := map[vkey]int{} // key/value -> index of the op that overwrote it in-txn
	for _, op := range client {
		var mops []mop
		if t, ok := byIndex[op.Index]; ok {
			mops = t.mops
		} else if op.Type == history.Invoke {
			mops, _ = parseMops(op.Value)
		}
		writes := 0
		for _, m := range mops {
			if m.f == "w" {
				writes++
				if op.Type == history.Fail {
					failed[vkey{m.k, m.v}] = op.Index
				}
			}
		}
		if writes < 2 {
			continue
		}
		// A write followed by another write of its key in the same txn
		// is intermediate (txn/intermediate-write-indices, over every op,
		// invocations included, so completions win).
		for i, m := range mops {
			if m.f != "w" {
				continue
			}
			for _, n := range mops[i+1:] {
				if n.f == "w" && n.k == m.k {
					interm[vkey{m.k, m.v}] = op.Index
					break
				}
			}
		}
	}
	var state alist[any]
	for _, t := range txns {
		if t.op.Type != history.OK {
			continue
		}
		state = state[:0]
		internalDone := false
		for _, m := range t.mops {
			switch m.f {
			case "w":
				state.put(m.k, m.v)
			case "r":
				if !internalDone {
					if s, ok := state.get(m.k); ok && s != nil && s != m.v {
						internal = append(internal, edn.K("op", t.op.EDN(), "mop", m.raw, "expected", s))
						internalDone = true
					}
				}
				if !internalDone {
					state.put(m.k, m.v)
				}
				if w, ok := failed[vkey{m.k, m.v}]; ok {
					g1a = append(g1a, edn.K("op", t.op.EDN(), "mop", m.raw, "writer", opAt(ops, w)))
				}
				if w, ok := interm[vkey{m.k, m.v}]; ok && w != t.op.Index {
					g1b = append(g1b, edn.K("op", t.op.EDN(), "mop", m.raw, "writer", opAt(ops, w)))
				}
			}
		}
	}
	return internal, g1a, g1b
}

// rwVersionInfo is what the version orders of a history's keys rest on:
// per key, its writers and readers of each value, the versions that
// follow the initial state, and the writes-follow-reads edges; keys in
// Elle's sort order.
type rwVersionInfo struct {
	keys  map[any]*rwKey
	order []any
}

// rwVersions collects the version information of :ok transactions (and
// the versions :info transactions may have written).
func rwVersions(txns []*txn) *rwVersionInfo {
	vs := &rwVersionInfo{keys: map[any]*rwKey{}}
	keyOf := func(k any, t *txn) *rwKey {
		ki, ok := vs.keys[k]
		if !ok {
			ki = &rwKey{writers: map[any][]*txn{}, readers: map[any][]*txn{}, nilSeen: map[any]bool{}, orig: printable(t, k)}
			vs.keys[k] = ki
			vs.order = append(vs.order, k)
		}
		return ki
	}
	addNil := func(ki *rwKey, v any) {
		if v != nil && !ki.nilSeen[v] {
			ki.nilSeen[v] = true
			ki.nilNext = append(ki.nilNext, v)
		}
	}
	for _, t := range txns {
		switch t.op.Type {
		case history.OK:
			for _, e := range t.extW {
				ki := keyOf(e.k, t)
				ki.writers[e.v] = append(ki.writers[e.v], t)
				addNil(ki, e.v)
			}
			for _, e := range t.extR {
				ki := keyOf(e.k, t)
				rs, seen := ki.readers[e.v]
				if !seen {
					ki.read = append(ki.read, e.v)
				}
				ki.readers[e.v] = append(rs, t)
				addNil(ki, e.v)
				if e.v != nil {
					if w, ok := t.extWrite(e.k); ok {
						ki.wfr = append(ki.wfr, [2]any{e.v, w})
					}
				}
			}
		case history.Info:
			for _, e := range t.extW {
				addNil(keyOf(e.k, t), e.v)
			}
		}
	}
	sort.SliceStable(vs.order, func(i, j int) bool { return lessValue(vs.order[i], vs.order[j]) })
	return vs
}

// cyclicVersionCases finds, per key, the cycles of the version order
// that the initial state and writes-follow-reads imply.
func (vs *rwVersionInfo) cyclicVersionCases() []edn.Map {
	var cyclic []edn.Map
	for _, k := range vs.order {
		for _, scc := range valueSCCs(vs.keys[k].wfr) {
			set := make(edn.Set, len(scc))
			for i, v := range scc {
				set[i] = printableV(nil, k, v)
			}
			cyclic = append(cyclic, edn.K("key", vs.keys[k].orig, "scc", set,
				"sources", kws("initial-state", "wfr-keys")))
		}
	}
	return cyclic
}

// graph is the transaction graph the version orders give: wr from each
// value's one writer to its readers, ww and rw along each version edge
// (the initial state's, and writes-follow-reads' unless those were
// cyclic). It returns the version edges too, which explain ww and rw.
func (vs *rwVersionInfo) graph(size int, useWFR bool) (*Graph, map[vedge]bool, error) {
	g := newGraphSized(size)
	g.SetExplainOrder(rwRegisterExplainOrder[:]...)
	vedges := map[vedge]bool{}
	linkAll := func(as, bs []*txn, r Rel) {
		for _, a := range as {
			for _, b := range bs {
				g.Link(a.op, b.op, r, nil)
			}
		}
	}
	for _, k := range vs.order {
		ki := vs.keys[k]
		// wr: a value read must have exactly one :ok writer to relate.
		// Values go in history order, not map order: the order of Link
		// calls numbers the graph's vertices, and the cycle search's
		// choices (which component first, which of several shortest
		// cycles) follow that numbering.
		for _, v := range ki.read {
			if v == nil {
				continue
			}
			rs := ki.readers[v]
			ws := ki.writers[v]
			if len(ws) > 1 {
				return nil, nil, fmt.Errorf("java.lang.IllegalArgumentException: Key %s had value %s written by more than one op: %s",
					edn1s(ki.orig), edn1s(printableV(ws[0], k, v)), edn1s(opsEDN(ws)))
			}
			if len(ws) == 1 {
				linkAll(ws, rs, WR)
			}
		}
		edges := make([][2]any, 0, len(ki.nilNext)+len(ki.wfr))
		for _, v := range ki.nilNext {
			edges = append(edges, [2]any{nil, v})
		}
		if useWFR {
			edges = append(edges, ki.wfr...)
		}
		for _, e := range edges {
			ve := vedge{k, e[0], e[1]}
			if vedges[ve] {
				continue
			}
			vedges[ve] = true
			linkAll(ki.writers[e[0]], ki.writers[e[1]], WW)
			linkAll(ki.readers[e[0]], ki.writers[e[1]], RW)
		}
	}
	return g, vedges, nil
}

type vkey struct{ k, v any }

// explainRW is Elle's rw-register WRExplainer, WWExplainer and
// RWExplainer for the relationship the cycle search used.
func explainRW(a, b *txn, r Rel, vedges map[vedge]bool) edn.Map {
	if a == nil || b == nil {
		return nil
	}
	switch r {
	case WR:
		for _, w := range a.extW {
			if v, ok := b.extRead(w.k); ok && v == w.v {
				return edn.K("type", edn.Keyword("wr"), "key", printable(a, w.k), "value", printableV(a, w.k, w.v),
					"a-mop-index", a.mopIndex("w", w.k, w.v), "b-mop-index", b.mopIndex("r", w.k, w.v))
			}
		}
	case WW, RW:
		from, f := a.extW, "w"
		if r == RW {
			from, f = a.extR, "r"
		}
		for _, x := range from {
			if v2, ok := b.extWrite(x.k); ok && vedges[vedge{x.k, x.v, v2}] {
				return edn.K("key", printable(a, x.k), "value", printableV(a, x.k, x.v),
					"value'", printableV(b, x.k, v2), "type", edn.Keyword(r.String()),
					"a-mop-index", a.mopIndex(f, x.k, x.v), "b-mop-index", b.mopIndex("w", x.k, v2))
			}
		}
	}
	return nil
}

// printable returns the key k as t recorded it (keys are normalised for
// comparison; print what the history holds).
func printable(t *txn, k any) any {
	if t != nil {
		for _, m := range t.mops {
			if m.k == k {
				if p, ok := m.raw.([]any); ok {
					return p[1]
				}
			}
		}
	}
	return denorm(k)
}

// printableV returns the value v of key k as t recorded it.
func printableV(t *txn, k, v any) any {
	if t != nil {
		for _, m := range t.mops {
			if m.k == k && m.v == v {
				if p, ok := m.raw.([]any); ok {
					return p[2]
				}
			}
		}
	}
	return denorm(v)
}

func denorm(v any) any {
	if c, ok := v.(canon); ok {
		return string(c)
	}
	return v
}

func opAt(ops []history.Op, index int) edn.Map {
	if index >= 0 && index < len(ops) && ops[index].Index == index {
		return ops[index].EDN()
	}
	for _, op := range ops {
		if op.Index == index {
			return op.EDN()
		}
	}
	return nil
}

func opsEDN(ts []*txn) edn.Vector {
	v := make(edn.Vector, len(ts))
	for i, t := range ts {
		v[i] = t.op.EDN()
	}
	return v
}

func edn1s(v any) string {
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// lessValue orders normalised values: nil, then integers, then strings,
// then anything else by text.
func lessValue(a, b any) bool {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case int64:
			return 1
		case string:
			return 2
		}
		return 3
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	switch x := a.(type) {
	case int64:
		return x < b.(int64)
	case string:
		return x < b.(string)
	case canon:
		return x < b.(canon)
	}
	return false
}

// valueSCCs returns the strongly connected components (two or more
// values) of a small version graph given as edges, each sorted, ordered by
// their least value as Elle's cyclic-version-cases sorts them.
func valueSCCs(edges [][2]any) [][]any {
	if len(edges) == 0 {
		return nil
	}
	ids := map[any]int32{}
	var vals []any
	id := func(v any) int32 {
		if i, ok := ids[v]; ok {
			return i
		}
		ids[v] = int32(len(vals))
		vals = append(vals, v)
		return int32(len(vals) - 1)
	}
	g := NewGraph()
	for _, e := range edges {
		a, b := id(e[0]), id(e[1])
		g.Link(history.Op{Index: int(a)}, history.Op{Index: int(b)}, WW, nil)
	}
	g.freeze()
	w := newWork(g)
	all := make([]int32, g.Len())
	for i := range all {
		all[i] = int32(i)
	}
	var out [][]any
	for _, c := range w.sccs(all, func(Rel) bool { return true }) {
		vs := make([]any, len(c))
		for i, v := range c {
			vs[i] = vals[g.ops[v].Index]
		}
		sort.Slice(vs, func(i, j int) bool { return lessValue(vs[i], vs[j]) })
		out = append(out, vs)
	}
	sort.Slice(out, func(i, j int) bool { return lessValue(out[i][0], out[j][0]) })
	return out
}
