package txn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// maxDrawings bounds the cycles drawn per anomaly type.
const maxDrawings = 5

// Explain tells, for each anomaly Elle reported, the story of its
// transactions and of the edges that prove it (Section "workload"), with
// a drawing of the first cycles of each type, and what the visibility
// check found (Section "glomers"). It reads the checker's cases back from
// ev.Workload rather than checking again, and takes the visibility
// analysis ExtraCheck kept, so its cost grows with the examples it
// tells more than with the history.
func (w *txnWorkload) Explain(ev *explain.Evidence) []results.Finding {
	var out []results.Finding
	if ev.Workload != nil && checker.ValidityOf(ev.Workload) != checker.Valid {
		out = append(out, explainAnomalies(ev, w.appends)...)
		if e, ok := ev.Workload.Get(edn.Keyword("error")); ok {
			out = append(out, results.Finding{Section: "workload", Kind: "checker-error", Count: 1, Short: "not checkable",
				Summary: fmt.Sprintf("Elle could not check the history, so its verdict is unknown: %s.", strings.TrimSuffix(val(e), "."))})
		}
	}
	if ev.Extra != nil && checker.ValidityOf(ev.Extra) != checker.Valid {
		a := w.keptVisibility(ev.Ops)
		if a == nil {
			a = newVisAnalysis(ev.Ops, ev.Nodes, ev.Concurrency, w.appends)
			a.measure(w.Visibility)
		}
		out = append(out, explainVisibility(ev, a, w.Visibility)...)
	}
	return out
}

// teller tells transactions of a history for sentences.
type teller struct {
	ev      *explain.Evidence
	appends bool
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
	if inv, ok := x.invocation(c); ok {
		span = fmt.Sprintf("at %.3f s → %.3f s", float64(inv.Time)/1e9, float64(c.Time)/1e9)
	}
	s := fmt.Sprintf("op %d, %s, %s, %s", i, x.ev.Who(c), span, c.Type)
	if c.Type == history.Fail || c.Type == history.Info {
		s += " (" + explain.ErrorName(c) + ")"
		if inv, ok := x.invocation(c); ok && c.Value == nil {
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

// forbiddenBy names the weakest consistency models an anomaly type rules
// out: "read-committed", "serializable and snapshot-isolation".
func forbiddenBy(t string) string {
	not, _ := elle.Boundary([]string{t})
	switch len(not) {
	case 0:
		return ""
	case 1:
		return not[0]
	}
	return strings.Join(not[:len(not)-1], ", ") + " and " + not[len(not)-1]
}

// explainAnomalies turns each anomaly type of ev.Workload into a finding.
func explainAnomalies(ev *explain.Evidence, appends bool) []results.Finding {
	am, _ := ev.Workload.Get(edn.Keyword("anomalies"))
	anomalies, _ := am.(edn.Map)
	x := teller{ev: ev, appends: appends}
	var out []results.Finding
	for _, e := range anomalies {
		kw, ok := e.Key.(edn.Keyword)
		if !ok {
			continue
		}
		t := string(kw)
		cases := casesOf(e.Val)
		if t == "empty-transaction-graph" {
			cases = []edn.Map{nil}
		}
		if len(cases) == 0 {
			continue
		}
		var f results.Finding
		switch {
		case elle.IsCycleType(t):
			f = x.cycles(t, cases)
		case strings.HasSuffix(t, "-cycle-exists"):
			f = x.cycleExists(t, cases)
		default:
			f = x.cases(t, cases)
		}
		f.Section, f.Kind, f.Count = "workload", t, len(cases)
		f.Short = fmt.Sprintf("%s ×%d", t, len(cases))
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return anomalyRank(out[i].Kind) < anomalyRank(out[j].Kind) })
	return out
}

// anomalyRanks order the findings from the plainest wrong to the
// subtlest: a transaction at odds with itself or a read no store could
// return first, then what read-committed forbids, then what only
// serializability does, then Elle's fallbacks.
var anomalyRanks = map[string]int{
	"internal": 0, "duplicate-elements": 1, "incompatible-order": 2, "future-read": 3, "cyclic-versions": 4,
	"G0": 10, "G1a": 11, "G1b": 12, "dirty-update": 13, "G1c": 14,
	"lost-update": 20, "G-single": 21, "G-nonadjacent": 22, "G2": 23,
	"cycle-search-timeout": 31, "empty-transaction-graph": 32,
}

// anomalyRank is a type's rank: its base type's, the -process and
// -realtime variants just after the plain one; cycle-exists cases and
// unknown types last.
func anomalyRank(t string) int {
	base, variant := elle.BaseType(t)
	r, ok := anomalyRanks[strings.TrimSuffix(base, "-item")]
	if !ok {
		r = 30
		if !strings.HasSuffix(t, "-cycle-exists") {
			r = 40
		}
	}
	r *= 4
	switch variant {
	case elle.Process:
		r++
	case elle.Realtime:
		r += 2
	}
	return r
}

// casesOf reads an anomaly type's cases (a list or vector of maps).
func casesOf(v any) []edn.Map {
	var items []any
	switch l := v.(type) {
	case edn.List:
		items = l
	case edn.Vector:
		items = l
	case []any:
		items = l
	}
	out := make([]edn.Map, 0, len(items))
	for _, it := range items {
		if m, ok := it.(edn.Map); ok {
			out = append(out, m)
		}
	}
	return out
}

// forbids ends a summary's first sentence: "; read-committed forbids
// it (and every stronger model)."
func forbids(t string) string {
	m := forbiddenBy(t)
	switch {
	case m == "":
		return "."
	case strings.Contains(m, " and "):
		return fmt.Sprintf("; %s forbid it (and every stronger model).", m)
	}
	return fmt.Sprintf("; %s forbids it (and every stronger model).", m)
}
