package elle

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// ellipsis stands for Elle's unknown-prefix marker, the symbol ... in
// expected states ([... 6]) and dirty-update txns ([T1 ... T2]).
type ellipsis struct{}

// EDN prints the marker as the bare symbol ..., as Elle does.
func (ellipsis) EDN() any { return edn.Symbol("...") }

// initElem is Elle's ::init, the version before any append, as printed.
var initElem = edn.Keyword("elle.list-append/init")

// CheckListAppend checks a txn-list-append history as Maelstrom 0.2.4
// does: Elle's list-append checker (elle/list_append.clj, check) with the
// given consistency models and no post-processing, so a clean history is
// {:valid? true} and :cycle-search-timeout stays in the result.
//
// The version order of each key is its longest read (every shorter read
// must be a prefix of a longer one, else :incompatible-order); ww, wr and
// rw edges come from it, over :ok and :info transactions. Besides cycles
// it reports :duplicate-elements, :internal, :future-read, :G1a, :G1b,
// :dirty-update and :lost-update.
func CheckListAppend(ops []history.Op, opts Options) edn.Map {
	res, _ := checkWith(ops, opts, analyseListAppend)
	return res
}

// laKey is one key's version order: the distinct elements of its longest
// read.
type laKey struct {
	values  []any
	indices map[any]int
}

// sortedValues is Elle's sorted-values: per key, the distinct non-empty
// lists read by ops, shortest first; a key never read but appended to
// exactly once (counting every op given, invocations too) gets [[v]].
func sortedValues(ops []*txn) map[any][][]any {
	out := map[any][][]any{}
	seen := map[any]map[any]bool{}
	appends := map[any]int{}
	single := map[any]any{}
	for _, t := range ops {
		for _, m := range t.mops {
			switch m.f {
			case "r":
				if len(m.list) == 0 {
					continue
				}
				s := seen[m.k]
				if s == nil {
					s = map[any]bool{}
					seen[m.k] = s
				}
				if !s[m.v] {
					s[m.v] = true
					out[m.k] = append(out[m.k], m.list)
				}
			case "append":
				appends[m.k]++
				single[m.k] = m.v
			}
		}
	}
	for k, n := range appends {
		if _, read := out[k]; !read && n == 1 {
			out[k] = [][]any{{single[k]}}
		}
	}
	for _, vs := range out {
		sort.SliceStable(vs, func(i, j int) bool { return len(vs[i]) < len(vs[j]) })
	}
	return out
}

// appendIndex is Elle's append-index.
func appendIndex(sv map[any][][]any) map[any]*laKey {
	out := make(map[any]*laKey, len(sv))
	for k, vs := range sv {
		longest := vs[len(vs)-1]
		ki := &laKey{indices: make(map[any]int, len(longest))}
		for _, e := range longest {
			if _, dup := ki.indices[e]; !dup {
				ki.indices[e] = len(ki.values)
				ki.values = append(ki.values, e)
			}
		}
		out[k] = ki
	}
	return out
}

// writeIndex maps key and appended element to the completion that
// appended it (the last one, if several).
func writeIndex(ops []*txn) map[vkey]*txn {
	out := map[vkey]*txn{}
	for _, t := range ops {
		for _, m := range t.mops {
			if m.f == "append" {
				out[vkey{m.k, m.v}] = t
			}
		}
	}
	return out
}

func isPrefix(a, b []any) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[any]V) []any {
	ks := make([]any, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return lessValue(ks[i], ks[j]) })
	return ks
}

func denormList(l []any) edn.Vector {
	v := make(edn.Vector, len(l))
	for i, e := range l {
		v[i] = denorm(e)
	}
	return v
}

// laInit is the key of the initial (empty) version in read indexes.
type laInitT struct{}

var laInit = laInitT{}

func lastOrInit(l []any) any {
	if len(l) == 0 {
		return laInit
	}
	return l[len(l)-1]
}

// analyseListAppend finds every anomaly of a list-append history, the way
// Elle's list-append/check composes its parts: validate the history,
// then the cases that need no graph (G1a, G1b, internal and future reads,
// duplicate elements, incompatible orders, dirty and lost updates), then
// the cycles of the dependency graph.
func analyseListAppend(ops []history.Op, opts Options, models []string) (Anomalies, error) {
	txns, client, err := parseTxns(ops)
	if err != nil {
		return nil, err
	}
	invokes, err := listAppendInvocations(client)
	if err != nil {
		return nil, err
	}
	if err := verifyMopTypes([][]*txn{invokes, txns}, "append"); err != nil {
		return nil, err
	}
	all := inHistoryOrder(invokes, txns)
	var possible []*txn // :ok and :info transactions
	for _, t := range txns {
		if t.op.Type == history.OK || t.op.Type == history.Info {
			possible = append(possible, t)
		}
	}

	out := Anomalies{}
	g1a, g1b := listAppendG1Cases(ops, all, txns)
	out.Add("G1a", g1a...)
	out.Add("G1b", g1b...)
	internal, future := listAppendTxnCases(txns)
	out.Add("internal", internal...)
	out.Add("future-read", future...)
	out.Add("duplicate-elements", duplicateElementCases(possible)...)
	sv := sortedValues(possible)
	out.Add("incompatible-order", incompatibleOrderCases(sv)...)
	dirty, err := dirtyUpdateCases(all, txns)
	if err != nil {
		return nil, err
	}
	out.Add("dirty-update", dirty...)
	out.Add("lost-update", lostUpdateCases(possible, "append")...)

	g := listAppendGraph(possible, sv, client, models)
	if g.Len() == 0 {
		out["empty-transaction-graph"] = []edn.Map{nil}
	}
	for t, cs := range g.Cycles(CycleOptions{Timeout: opts.CycleSearchTimeout}) {
		out.Add(t, cs...)
	}
	return out, nil
}

// listAppendInvocations parses every invocation's transaction and checks
// Elle's verify-unique-appends: no value is appended to a key twice.
func listAppendInvocations(client []history.Op) ([]*txn, error) {
	var invokes []*txn
	appended := map[vkey]bool{}
	for _, op := range client {
		if op.Type != history.Invoke {
			continue
		}
		mops, err := parseMops(op.Value)
		if err != nil {
			return nil, fmt.Errorf("op %d: %w", op.Index, err)
		}
		t := &txn{op: op, mops: mops}
		invokes = append(invokes, t)
		for _, m := range mops {
			if m.f != "append" {
				continue
			}
			if appended[vkey{m.k, m.v}] {
				//lint:ignore ST1005 the text is the one Elle's verify-unique-appends gives, shown to users as is
				return nil, fmt.Errorf("duplicate-appends: value %s appended to key %s multiple times!",
					edn1s(printableV(t, m.k, m.v)), edn1s(printable(t, m.k)))
			}
			appended[vkey{m.k, m.v}] = true
		}
	}
	return invokes, nil
}

// verifyMopTypes is Elle's verify-mop-types: every micro-op is a read or
// the workload's write (write, or append).
func verifyMopTypes(groups [][]*txn, write string) error {
	for _, ts := range groups {
		for _, t := range ts {
			for _, m := range t.mops {
				if m.f != "r" && m.f != write {
					return fmt.Errorf("unexpected-txn-micro-op-types: history contained operations other than %ss or reads: %s",
						write, edn1s(t.op.EDN()))
				}
			}
		}
	}
	return nil
}

// inHistoryOrder merges invocations and completions, each in history
// order, into one list of client transactions in history order.
func inHistoryOrder(invokes, completions []*txn) []*txn {
	all := make([]*txn, 0, len(invokes)+len(completions))
	i, j := 0, 0
	for i < len(invokes) || j < len(completions) {
		if j >= len(completions) || (i < len(invokes) && invokes[i].op.Index < completions[j].op.Index) {
			all = append(all, invokes[i])
			i++
		} else {
			all = append(all, completions[j])
			j++
		}
	}
	return all
}

// listAppendG1Cases finds aborted reads (G1a: an :ok read saw an element
// a failed transaction appended) and intermediate reads (G1b: an :ok read
// ends with an element its writer appended to before it committed).
func listAppendG1Cases(ops []history.Op, all, txns []*txn) (g1a, g1b []edn.Map) {
	failed := map[vkey]int{}
	interm := map[vkey]int{}
	for _, t := range all {
		for i, m := range t.mops {
			if m.f != "append" {
				continue
			}
			if t.op.Type == history.Fail {
				failed[vkey{m.k, m.v}] = t.op.Index
			}
			for _, n := range t.mops[i+1:] {
				if n.f == "append" && n.k == m.k {
					interm[vkey{m.k, m.v}] = t.op.Index
					break
				}
			}
		}
	}
	for _, t := range txns {
		if t.op.Type != history.OK {
			continue
		}
		for _, m := range t.mops {
			if m.f != "r" {
				continue
			}
			for _, e := range m.list {
				if w, ok := failed[vkey{m.k, e}]; ok {
					g1a = append(g1a, edn.K("op", t.op.EDN(), "mop", m.raw, "writer", opAt(ops, w), "element", denorm(e)))
				}
			}
			if len(m.list) > 0 {
				e := m.list[len(m.list)-1]
				if w, ok := interm[vkey{m.k, e}]; ok && w != t.op.Index {
					g1b = append(g1b, edn.K("op", t.op.EDN(), "mop", m.raw, "writer", opAt(ops, w), "element", denorm(e)))
				}
			}
		}
	}
	return g1a, g1b
}

// listAppendTxnCases finds, in each :ok transaction alone, an internal
// inconsistency and a read of the transaction's own future appends.
func listAppendTxnCases(txns []*txn) (internal, future []edn.Map) {
	for _, t := range txns {
		if t.op.Type != history.OK {
			continue
		}
		if c := laInternal(t); c != nil {
			internal = append(internal, c)
		}
		if c := laFutureRead(t); c != nil {
			future = append(future, c)
		}
	}
	return internal, future
}

// duplicateElementCases finds reads (of :ok and :info transactions) that
// hold an element more than once, with each duplicate's count.
func duplicateElementCases(possible []*txn) []edn.Map {
	var dups []edn.Map
	for _, t := range possible {
		for _, m := range t.mops {
			if m.f != "r" || len(m.list) < 2 || !hasDuplicate(m.list) {
				continue
			}
			counts := map[any]int{}
			for _, e := range m.list {
				counts[e]++
			}
			var ds []any
			for e, n := range counts {
				if n > 1 {
					ds = append(ds, e)
				}
			}
			sort.Slice(ds, func(i, j int) bool { return lessValue(ds[i], ds[j]) })
			dm := make(edn.Map, len(ds))
			for i, e := range ds {
				dm[i] = edn.Entry{Key: denorm(e), Val: counts[e]}
			}
			dups = append(dups, edn.K("op", t.op.EDN(), "mop", m.raw, "duplicates", dm))
		}
	}
	return dups
}

// incompatibleOrderCases finds, per key, the first two reads of which
// neither is a prefix of the other.
func incompatibleOrderCases(sv map[any][][]any) []edn.Map {
	var out []edn.Map
	for _, k := range sortedKeys(sv) {
		vs := sv[k]
		for i := 0; i+1 < len(vs); i++ {
			if !isPrefix(vs[i], vs[i+1]) {
				out = append(out, edn.K("key", denorm(k), "values", edn.Vector{denormList(vs[i]), denormList(vs[i+1])}))
				break
			}
		}
	}
	return out
}

// dirtyUpdateCases is Elle's dirty-update-cases: along each key's version
// order (taken from every client transaction, failed writers included),
// a committed append that follows a failed one.
func dirtyUpdateCases(all, completions []*txn) ([]edn.Map, error) {
	var out []edn.Map
	ai := appendIndex(sortedValues(all))
	wi := writeIndex(completions)
	for _, k := range sortedKeys(ai) {
		t1Type := history.OK
		var t1 *txn
		var vs []any
		for _, v := range ai[k].values {
			vs = append(vs, v)
			t2 := wi[vkey{k, v}]
			if t2 == nil {
				return nil, fmt.Errorf("java.lang.AssertionError: Assert failed: No transaction wrote %s %s",
					edn1s(denorm(k)), edn1s(denorm(v)))
			}
			switch t2.op.Type {
			case history.OK:
				if t1Type == history.Fail {
					out = append(out, edn.K("key", denorm(k), "values", denormList(vs),
						"txns", edn.Vector{t1.op.EDN(), ellipsis{}, t2.op.EDN()}))
				}
				t1, t1Type, vs = t2, history.OK, []any{v}
			case history.Fail:
				if t1Type != history.Fail {
					t1, t1Type, vs = t2, history.Fail, []any{v}
				}
			}
			// :info writers: keep t1 and the range
		}
	}
	return out, nil
}

// listAppendGraph is the dependency graph over :ok and :info
// transactions: wr (a read saw an append), ww (appends in version order),
// rw (a read missed the next append), plus realtime or process order when
// the models ask for it; each edge explains itself through laGraph.
func listAppendGraph(possible []*txn, sv map[any][][]any, client []history.Op, models []string) *Graph {
	ri := map[vkey][]*txn{} // key, last element (or init) -> readers
	for _, t := range possible {
		for _, m := range t.mops {
			if m.f != "r" || (t.op.Type == history.Info && m.v == nil) {
				continue
			}
			vk := vkey{m.k, lastOrInit(m.list)}
			ri[vk] = append(ri[vk], t)
		}
	}
	la := &laGraph{ai: appendIndex(sv), wi: writeIndex(possible), ri: ri}
	g := newGraphSized(len(possible))
	for _, t := range possible {
		for _, m := range t.mops {
			switch m.f {
			case "r":
				if w := la.wrDep(t, m); w != nil {
					g.Link(w.op, t.op, WR, nil)
				}
			case "append":
				if w := la.wwDep(t, m); w != nil {
					g.Link(w.op, t.op, WW, nil)
				}
				for _, rd := range ri[vkey{m.k, la.prevElem(m)}] {
					if rd != t {
						g.Link(rd.op, t.op, RW, nil)
					}
				}
			}
		}
	}
	if NeedsRealtime(models) {
		g.AddRealtime(client)
	} else if NeedsProcess(models) {
		g.AddProcess(client)
	}
	byIndex := make(map[int]*txn, len(possible))
	for _, t := range possible {
		byIndex[t.op.Index] = t
	}
	g.explain = func(a, b history.Op, r Rel) edn.Map {
		return la.explain(byIndex[a.Index], byIndex[b.Index], r)
	}
	return g
}

// laInternal is Elle's op-int-case for list-append: the first read that
// disagrees with what the transaction's own earlier reads and appends
// imply.
func laInternal(t *txn) edn.Map {
	type state struct {
		unknownPrefix bool  // we appended without having read: [... appended]
		isNil         bool  // we read nil: nothing is known
		list          []any // the expected list (or its known suffix)
	}
	var st alist[*state]
	for _, m := range t.mops {
		switch m.f {
		case "append":
			s, ok := st.get(m.k)
			if !ok {
				s = &state{unknownPrefix: true}
				st.put(m.k, s)
			}
			s.isNil = false
			s.list = append(s.list, m.v)
		case "r":
			if s, ok := st.get(m.k); ok && !s.isNil {
				var bad bool
				if s.unknownPrefix {
					i := len(m.list) - len(s.list)
					bad = i < 0 || !equalList(s.list, m.list[i:])
				} else {
					bad = m.list == nil || !equalList(s.list, m.list)
				}
				if bad {
					exp := edn.Vector{}
					if s.unknownPrefix {
						exp = append(exp, ellipsis{})
					}
					exp = append(exp, denormList(s.list)...)
					return edn.K("op", t.op.EDN(), "mop", m.raw, "expected", exp)
				}
			}
			st.put(m.k, &state{isNil: m.list == nil, list: append([]any{}, m.list...)})
		}
	}
	return nil
}

// hasDuplicate reports whether l holds an element twice, without a map
// for the short lists reads usually return.
func hasDuplicate(l []any) bool {
	if len(l) > 64 {
		seen := make(map[any]bool, len(l))
		for _, e := range l {
			if seen[e] {
				return true
			}
			seen[e] = true
		}
		return false
	}
	for i, e := range l {
		for _, f := range l[:i] {
			if e == f {
				return true
			}
		}
	}
	return false
}

func equalList(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// laFutureRead is Elle's op-future-read-case: a read of an element the
// same transaction appends later.
func laFutureRead(t *txn) edn.Map {
	for i, m := range t.mops {
		if m.f != "append" {
			continue
		}
		for _, r := range t.mops[:i] {
			if r.f != "r" || r.k != m.k {
				continue
			}
			for _, e := range r.list {
				if e == m.v {
					return edn.K("op", t.op.EDN(), "mop", r.raw, "element", denorm(m.v))
				}
			}
		}
	}
	return nil
}

// laGraph holds list-append's indexes for building and explaining edges.
type laGraph struct {
	ai map[any]*laKey
	wi map[vkey]*txn
	ri map[vkey][]*txn
}

// prevElem is Elle's previously-appended-element: the element before m's
// in the version order, or, if m's element was never read, the last
// element read; laInit when there is none.
func (la *laGraph) prevElem(m mop) any {
	ki := la.ai[m.k]
	if ki == nil {
		return laInit
	}
	if i, ok := ki.indices[m.v]; ok {
		if i > 0 {
			return ki.values[i-1]
		}
		return laInit
	}
	if len(ki.values) == 0 {
		return laInit
	}
	return ki.values[len(ki.values)-1]
}

// wrDep is Elle's wr-mop-dep: the other transaction that appended the last
// element read.
func (la *laGraph) wrDep(t *txn, m mop) *txn {
	if len(m.list) == 0 {
		return nil
	}
	w := la.wi[vkey{m.k, m.list[len(m.list)-1]}]
	if w == t {
		return nil
	}
	return w
}

// wwDep is Elle's ww-mop-dep: the other transaction that appended the
// element just before m's.
func (la *laGraph) wwDep(t *txn, m mop) *txn {
	p := la.prevElem(m)
	if p == laInit {
		return nil
	}
	w := la.wi[vkey{m.k, p}]
	if w == t {
		return nil
	}
	return w
}

func (la *laGraph) printElem(t *txn, k, e any) any {
	if e == laInit {
		return initElem
	}
	return denorm(e)
}

// explain is Elle's list-append WWExplainer, WRExplainer and RWExplainer.
func (la *laGraph) explain(a, b *txn, r Rel) edn.Map {
	if a == nil || b == nil {
		return nil
	}
	switch r {
	case WW:
		for _, m := range b.mops {
			if m.f == "append" && la.wwDep(b, m) == a {
				p := la.prevElem(m)
				return edn.K("type", edn.Keyword("ww"), "key", printable(b, m.k), "value", la.printElem(a, m.k, p),
					"value'", denorm(m.v), "a-mop-index", a.mopIndex("append", m.k, p),
					"b-mop-index", b.mopIndex("append", m.k, m.v))
			}
		}
	case WR:
		for i, m := range b.mops {
			if m.f == "r" && la.wrDep(b, m) == a {
				e := m.list[len(m.list)-1]
				return edn.K("type", edn.Keyword("wr"), "key", printable(b, m.k), "value", denorm(e),
					"a-mop-index", a.mopIndex("append", m.k, e), "b-mop-index", firstMop(b, i))
			}
		}
	case RW:
		for i, m := range b.mops {
			if m.f != "append" {
				continue
			}
			p := la.prevElem(m)
			found := false
			for _, rd := range la.ri[vkey{m.k, p}] {
				if rd == a {
					found = true
				}
			}
			if !found || a == b {
				continue
			}
			ai := -1
			for j, am := range a.mops {
				if am.f == "r" && am.k == m.k && lastOrInit(am.list) == p {
					ai = j
					break
				}
			}
			return edn.K("type", edn.Keyword("rw"), "key", printable(b, m.k), "value", la.printElem(a, m.k, p),
				"value'", denorm(m.v), "a-mop-index", ai, "b-mop-index", i)
		}
	}
	return nil
}

// firstMop is Elle's index-of for the micro-op at position i: the first
// position holding an equal micro-op.
func firstMop(t *txn, i int) int {
	m := t.mops[i]
	for j, n := range t.mops[:i] {
		if n.f == m.f && n.k == m.k && n.v == m.v {
			return j
		}
	}
	return i
}
