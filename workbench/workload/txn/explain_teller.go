package txn

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
)

// teller tells transactions of a history for sentences. The tellers of
// each kind of finding (caseTeller, cycleTeller, visTeller) embed it.
type teller struct {
	ev *explain.Evidence
}

// op returns the history's operation of index i.
func (x teller) op(i int) (history.Op, bool) {
	ops := x.ev.Ops
	if i >= 0 && i < len(ops) && ops[i].Index == i {
		return ops[i], true
	}
	j := sort.Search(len(ops), func(j int) bool { return ops[j].Index >= i })
	if j < len(ops) && ops[j].Index == i {
		return ops[j], true
	}
	return history.Op{}, false
}

// invocation returns the invocation of the completion c: the last
// invocation of its process before it.
func (x teller) invocation(c history.Op) (history.Op, bool) {
	ops := x.ev.Ops
	j := min(c.Index, len(ops)) - 1
	for ; j >= 0; j-- {
		if ops[j].Process == c.Process && ops[j].Index < c.Index {
			if ops[j].Type == history.Invoke {
				return ops[j], true
			}
			return history.Op{}, false
		}
	}
	return history.Op{}, false
}

// txn describes the transaction whose completion is history index i:
// "op 1234, process 3 (on n1), at 2.100 s → 2.150 s, ok: [r 1 nil] [w 3 4]".
func (x teller) txn(i int) string {
	c, ok := x.op(i)
	if !ok {
		return fmt.Sprintf("op %d", i)
	}
	// Milliseconds matter here: a realtime edge may span a few.
	span := fmt.Sprintf("done at %.3f s", float64(c.Time)/1e9)
	inv, invoked := x.invocation(c)
	if invoked {
		span = fmt.Sprintf("at %.3f s → %.3f s", float64(inv.Time)/1e9, float64(c.Time)/1e9)
	}
	s := fmt.Sprintf("op %d, %s, %s, %s", i, x.ev.Who(c), span, c.Type)
	if c.Type == history.Fail || c.Type == history.Info {
		s += " (" + explain.ErrorName(c) + ")"
		if invoked && c.Value == nil {
			c.Value = inv.Value
		}
	}
	return s + ": " + mops(c.Value)
}

// node names the node of the transaction whose completion is index i,
// "" when unknown.
func (x teller) node(i int) string {
	if c, ok := x.op(i); ok {
		return x.ev.NodeOf(c.Process)
	}
	return ""
}

// mops renders micro-operations as the history holds them: [r 1 nil]
// [w 3 4], [append 2 7].
func mops(v any) string {
	l, ok := v.([]any)
	if !ok {
		return val(v)
	}
	parts := make([]string, len(l))
	for i, m := range l {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			parts[i] = val(m)
			continue
		}
		f := fmt.Sprint(mop[0])
		if k, ok := mop[0].(edn.Keyword); ok {
			f = string(k)
		}
		parts[i] = fmt.Sprintf("[%s %s %s]", f, val(mop[1]), val(mop[2]))
	}
	return strings.Join(parts, " ")
}

// initElement is how Elle prints list-append's initial, empty version.
const initElement = edn.Keyword("elle.list-append/init")

// val renders one value: nil, 3, [1 2 3].
func val(v any) string {
	if v == nil {
		return "nil"
	}
	if v == initElement {
		return "(empty)"
	}
	switch x := v.(type) {
	case edn.Keyword:
		return ":" + string(x)
	case string:
		return x
	}
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// mop renders a micro-operation [f k v] of a case.
func mop(v any) string { return mops([]any{v}) }

// label names the i-th transaction of a story: T1, T2, ...
func label(i int) string { return fmt.Sprintf("T%d", i+1) }

// labels names the first n transactions of a story: T1, T2, ...
func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = label(i)
	}
	return out
}

// joinSorted lists a set's members in order: "n1, n2".
func joinSorted(set map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}
