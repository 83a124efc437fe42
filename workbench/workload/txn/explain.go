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
// "op 1234, process 3 (on n1), 2.10 s → 2.15 s, ok: [r 1 nil] [w 3 4]".
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

// anomalyInfo says what an anomaly type means, as a noun phrase of one
// case ("aborted read") and a clause of what it is.
type anomalyInfo struct {
	noun, what string
}

// anomalyInfos are the non-cycle anomaly types of both checkers.
var anomalyInfos = map[string]anomalyInfo{
	"G1a": {"aborted read", "a committed transaction read a value that only a failed transaction wrote"},
	"G1b": {"intermediate read", "a committed transaction read a value that its writer overwrote before it committed"},
	"internal": {"internal inconsistency",
		"a transaction read something its own earlier micro-operations rule out"},
	"lost-update": {"lost update",
		"several committed transactions read the same version of a key and each wrote the key, so all but one of their updates were overwritten unseen"},
	"cyclic-versions": {"cyclic version order",
		"the versions of a key follow each other in a circle (a transaction read one and then wrote another)"},
	"future-read": {"future read", "a transaction read an element that it appends only later"},
	"duplicate-elements": {"duplicated element",
		"a read returned a list holding the same appended element more than once"},
	"incompatible-order": {"incompatible order",
		"two reads of a key disagree on the order of its elements: neither list is a prefix of the other"},
	"dirty-update": {"dirty update",
		"a committed append follows an append of a failed transaction in the key's list"},
	"cycle-search-timeout": {"cycle search that timed out",
		"the search for cycles ran out of time in a large component of the dependency graph"},
	"empty-transaction-graph": {"empty transaction graph",
		"no transaction completed in a way the checker could order, so nothing could be checked"},
}

// cycleWhat says what a cycle type means: a short name and a clause.
func cycleWhat(t string) (noun, what string) {
	// The -item types (G-single-item, ...) are the cycles over keys, the
	// only ones register and list histories can show.
	base, variant := elle.BaseType(t)
	switch strings.TrimSuffix(base, "-item") {
	case "G0":
		noun, what = "write cycle", "transactions overwrote each other's writes in a circle (ww edges only)"
	case "G1c":
		noun, what = "circular information flow", "each transaction wrote what the next read or overwrote (ww and wr edges)"
	case "G-single":
		noun, what = "read skew", "a cycle with exactly one anti-dependency (rw): one transaction missed a write of the next and saw another"
	case "G-nonadjacent":
		noun, what = "non-adjacent anti-dependencies", "a cycle with several anti-dependencies (rw), no two in a row"
	case "G2":
		noun, what = "write skew", "a cycle with two or more anti-dependencies (rw): transactions each missed the others' writes"
	default:
		noun, what = "dependency cycle", "a cycle of dependencies"
	}
	switch variant {
	case elle.Realtime:
		noun += ", counting real time"
		what += "; a transaction that completed before another began must come first"
	case elle.Process:
		noun += ", counting process order"
		what += "; a process's transactions must come in the order it ran them"
	}
	return noun, what
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

// cycles explains the cycle cases of one type, the shortest cycles
// first (they tell best), and draws the first few.
func (x teller) cycles(t string, cases []edn.Map) results.Finding {
	size := make([]int, len(cases))
	order := make([]int, len(cases))
	for i, c := range cases {
		order[i] = i
		if v, ok := c.Get(edn.Keyword("cycle")); ok {
			l, _ := v.(edn.Vector)
			size[i] = len(l)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return size[order[i]] < size[order[j]] })
	var f results.Finding
	nodes := map[string]bool{}
	for _, ci := range order[:min(len(order), results.MaxExamples)] {
		cc, ok := elle.ParseCycle(cases[ci])
		if !ok {
			continue
		}
		ex := x.cycleStory(cc)
		for _, ti := range cc.Txns {
			if n := x.node(ti); n != "" {
				nodes[n] = true
			}
		}
		if len(f.Examples) < maxDrawings && x.ev.WriteFile != nil {
			name := fmt.Sprintf("cycle-%s-%d.svg", t, len(f.Examples)+1)
			if err := x.ev.WriteFile(name, x.drawCycle(cc)); err == nil {
				ex.File = name
			}
		}
		f.Examples = append(f.Examples, ex)
	}
	on := ""
	if len(nodes) > 0 {
		on = " among transactions on " + joinSorted(nodes)
		if len(cases) > len(f.Examples) {
			on = fmt.Sprintf(", the %d told here among transactions on %s", len(f.Examples), joinSorted(nodes))
		}
	}
	noun, what := cycleWhat(t)
	f.Summary = fmt.Sprintf("%s (%s)%s: %s%s", results.Plural(len(cases), t+" cycle"), noun, on, what, forbids(t))
	return f
}

// joinSorted lists a set's members in order: "n1, n2".
func joinSorted(set map[string]bool) string {
	l := make([]string, 0, len(set))
	for s := range set {
		l = append(l, s)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// label names the i-th transaction of a story: T1, T2, ...
func label(i int) string { return fmt.Sprintf("T%d", i+1) }

// cycleStory tells one cycle: a line per transaction, a line per edge,
// and the conclusion.
func (x teller) cycleStory(cc elle.CycleCase) results.Example {
	n := len(cc.Txns)
	var text strings.Builder
	var lines []string
	for i, ti := range cc.Txns {
		lines = append(lines, fmt.Sprintf("%s = %s", label(i), x.txn(ti)))
		fmt.Fprintf(&text, "%s (op %d) →%s→ ", label(i), ti, edgeTag(cc.Steps[i]))
	}
	text.WriteString(label(0))
	for i, s := range cc.Steps {
		lines = append(lines, x.edge(label(i), label((i+1)%n), s))
	}
	chain := make([]string, n)
	for i := range chain {
		chain[i] = fmt.Sprintf("%s before %s", label(i), label((i+1)%n))
	}
	lines = append(lines, fmt.Sprintf("So %s came %s and %s: no order of these transactions explains what they saw (%s).",
		label(0), strings.TrimPrefix(strings.Join(chain[:n-1], ", "), label(0)+" "), chain[n-1], cc.Type))
	return results.Example{Text: cc.Type + ": " + text.String(), Lines: lines}
}

func labels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = label(i)
	}
	return out
}

// edgeTag is an edge's short label: "wr 3", "rw 5", "realtime".
func edgeTag(s elle.Step) string {
	if s.HasKey && (s.Rel == elle.WW || s.Rel == elle.WR || s.Rel == elle.RW) {
		return fmt.Sprintf("%s %s", s.Rel, val(s.Key))
	}
	return s.Rel.String()
}

// edge tells one edge of a cycle in words.
func (x teller) edge(a, b string, s elle.Step) string {
	head := fmt.Sprintf("%s → %s (%s): ", a, b, s.Rel)
	k, v, v2 := val(s.Key), val(s.Value), val(s.Value2)
	switch s.Rel {
	case elle.WR:
		if !s.HasKey {
			break
		}
		if x.appends {
			return head + fmt.Sprintf("%s read key %s as a list ending in %s, the element %s appended, so %s came after %s.", b, k, v, a, b, a)
		}
		return head + fmt.Sprintf("%s read key %s = %s, the value %s wrote, so %s came after %s.", b, k, v, a, b, a)
	case elle.WW:
		if !s.HasKey {
			break
		}
		if x.appends {
			return head + fmt.Sprintf("%s appended %s to key %s and %s appended %s right after it, so %s came after %s.", a, v, k, b, v2, b, a)
		}
		return head + fmt.Sprintf("%s wrote key %s = %s and %s overwrote that version with %s, so %s came after %s.", a, k, v, b, v2, b, a)
	case elle.RW:
		if !s.HasKey {
			break
		}
		if x.appends {
			if s.Value == initElement {
				return head + fmt.Sprintf("%s read key %s empty, without %s, which %s appended as its first element: %s did not see %s's append, so %s came before %s.", a, k, v2, b, a, b, a, b)
			}
			return head + fmt.Sprintf("%s read key %s ending in %s, without %s, which %s appended right after %s: %s did not see %s's append, so %s came before %s.", a, k, v, v2, b, v, a, b, a, b)
		}
		if s.Value == nil {
			return head + fmt.Sprintf("%s read key %s = nil, as if nobody had written it, and %s wrote %s to it: %s did not see %s's write, so %s came before %s.", a, k, b, v2, a, b, a, b)
		}
		return head + fmt.Sprintf("%s read key %s = %s and %s overwrote that version with %s: %s did not see %s's write, so %s came before %s.", a, k, v, b, v2, a, b, a, b)
	case elle.Realtime:
		var done, began string
		if c, ok := x.op(s.Completed); ok {
			done = fmt.Sprintf(" at %.3f s", float64(c.Time)/1e9)
		}
		if i, ok := x.op(s.Invoked); ok {
			began = fmt.Sprintf(" at %.3f s", float64(i.Time)/1e9)
		}
		return head + fmt.Sprintf("%s completed%s before %s began%s, so %s came before %s.", a, done, b, began, a, b)
	case elle.Process:
		who := fmt.Sprintf("process %d", s.Process)
		if n := x.ev.NodeOf(s.Process); n != "" {
			who += " (on " + n + ")"
		}
		return head + fmt.Sprintf("%s ran %s and then %s, so %s came before %s.", who, a, b, a, b)
	}
	return head + fmt.Sprintf("%s came before %s.", a, b)
}

// cycleExists explains Elle's fallback: a cycle exists among some
// transactions, but its search named none.
func (x teller) cycleExists(t string, cases []edn.Map) results.Finding {
	model := strings.TrimSuffix(t, "-cycle-exists")
	f := results.Finding{Summary: fmt.Sprintf("%s of transactions hold a dependency cycle that rules out %s, though no cycle of a named type was reported for them.",
		results.Plural(len(cases), "group"), model)}
	for i, c := range cases {
		if i >= results.MaxExamples {
			break
		}
		sub, _ := c.Get(edn.Keyword("subgraph"))
		scc, _ := c.Get(edn.Keyword("scc"))
		set, _ := scc.(edn.Set)
		var ids []string
		for _, v := range set[:min(len(set), 8)] {
			ids = append(ids, val(v))
		}
		more := ""
		if len(set) > 8 {
			more = ", …"
		}
		f.Examples = append(f.Examples, results.Example{
			Text: fmt.Sprintf("%s among ops %s%s, over the edges %s", results.Plural(len(set), "transaction"), strings.Join(ids, ", "), more, val(sub))})
	}
	return f
}

// cases explains the anomaly types that are not cycles.
func (x teller) cases(t string, cases []edn.Map) results.Finding {
	info, ok := anomalyInfos[t]
	if !ok {
		info = anomalyInfo{t, "Elle reported " + t}
	}
	f := results.Finding{Summary: fmt.Sprintf("%s (%s): %s", results.Plural(len(cases), info.noun), t, info.what)}
	why := map[string]int{} // G1a: how the writers failed; lost-update: on which nodes
	last := ""              // a transaction that read a key twice makes two equal cases
	for _, c := range cases {
		if cause := x.caseCause(t, c); cause != "" {
			why[cause]++
		}
		if len(f.Examples) >= results.MaxExamples {
			continue
		}
		if ex := x.caseStory(t, c); ex.Text != "" && ex.Text != last {
			f.Examples = append(f.Examples, ex)
			last = ex.Text
		}
	}
	f.Summary += causes(t, why, len(cases)) + forbids(t)
	return f
}

// causes renders what the cases' causes add up to, "" when they tell
// nothing.
func causes(t string, why map[string]int, total int) string {
	if len(why) == 0 {
		return ""
	}
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range why {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, 0, min(len(l), 3))
	for _, e := range l[:min(len(l), 3)] {
		if t == "lost-update" {
			parts = append(parts, fmt.Sprintf("%s in %s", e.k, results.Plural(e.n, "case")))
		} else {
			parts = append(parts, fmt.Sprintf("%d × %s", e.n, e.k))
		}
	}
	switch t {
	case "G1a", "dirty-update":
		return "; the failed writers' errors: " + strings.Join(parts, ", ")
	case "lost-update":
		return "; the competing writers ran on " + strings.Join(parts, ", ")
	}
	return ""
}

// get reads a case's value under a keyword.
func get(c edn.Map, k string) any {
	v, _ := c.Get(edn.Keyword(k))
	return v
}

// indexOf reads the history index of an operation printed in a case.
func indexOf(v any) (int, bool) {
	m, ok := v.(edn.Map)
	if !ok {
		return 0, false
	}
	return elle.OpIndex(m)
}

// orComma is el, or a comma when el is empty: "read key 1 = 5," or
// "read key 1 = [1 5], holding 5,".
func orComma(el string) string {
	if el == "" {
		return ","
	}
	return el
}

// mop renders a micro-operation [f k v] of a case.
func mop(v any) string { return mops([]any{v}) }

// did tells what a micro-operation did in words: "read key 9 = 5",
// "wrote 3 to key 9", "appended 3 to key 9".
func did(v any) string {
	m, ok := v.([]any)
	if !ok || len(m) != 3 {
		return "did " + val(v)
	}
	switch f := val(m[0]); f {
	case ":r", "r":
		return fmt.Sprintf("read key %s = %s", val(m[1]), val(m[2]))
	case ":w", "w":
		return fmt.Sprintf("wrote %s to key %s", val(m[2]), val(m[1]))
	case ":append", "append":
		return fmt.Sprintf("appended %s to key %s", val(m[2]), val(m[1]))
	}
	return "did " + mop(v)
}

// caseCause tells the cause of one case when the evidence tells one:
// how a G1a or dirty-update writer failed, on which nodes the writers of
// a lost update ran.
func (x teller) caseCause(t string, c edn.Map) string {
	switch t {
	case "G1a":
		if w, ok := indexOf(get(c, "writer")); ok {
			if wop, ok := x.op(w); ok {
				return explain.ErrorName(wop)
			}
		}
	case "dirty-update":
		if txns, _ := get(c, "txns").(edn.Vector); len(txns) > 0 {
			if w, ok := indexOf(txns[0]); ok {
				if wop, ok := x.op(w); ok {
					return explain.ErrorName(wop)
				}
			}
		}
	case "lost-update":
		nodes := map[string]bool{}
		for _, tm := range casesOf(get(c, "txns")) {
			if ti, ok := elle.OpIndex(tm); ok {
				if n := x.node(ti); n != "" {
					nodes[n] = true
				}
			}
		}
		switch len(nodes) {
		case 0:
		case 1:
			return "one node (" + joinSorted(nodes) + ")"
		default:
			return "different nodes (" + joinSorted(nodes) + ")"
		}
	}
	return ""
}

// caseStory tells one case of a non-cycle anomaly.
func (x teller) caseStory(t string, c edn.Map) (ex results.Example) {
	op, opOK := indexOf(get(c, "op"))
	switch t {
	case "G1a", "G1b":
		w, wOK := indexOf(get(c, "writer"))
		if !opOK || !wOK {
			break
		}
		m := get(c, "mop")
		el, wrote := "", "written"
		if e, ok := c.Get(edn.Keyword("element")); ok {
			el, wrote = ", holding "+val(e)+",", "appended"
		}
		ex.Lines = []string{"T1 = " + x.txn(w), "T2 = " + x.txn(op)}
		what, later := "a value T1 wrote", "and then overwrote"
		if wrote == "appended" {
			what, later = "an element T1 appended", "before appending to the key again"
		}
		if t == "G1a" {
			ex.Text = fmt.Sprintf("T2 (op %d) %s%s %s only by T1 (op %d), which failed", op, did(m), orComma(el), wrote, w)
			ex.Lines = append(ex.Lines, fmt.Sprintf("T2 %s%s %s; but T1 failed, so T2 saw a write that was never committed.", did(m), orComma(el), what))
		} else {
			ex.Text = fmt.Sprintf("T2 (op %d) %s%s %s %s before it committed", op, did(m), orComma(el), what, later)
			ex.Lines = append(ex.Lines, fmt.Sprintf("T2 %s%s %s %s in the same transaction: T2 saw T1 half done.", did(m), orComma(el), what, later))
		}
	case "internal":
		if !opOK {
			break
		}
		ex.Text = fmt.Sprintf("op %d %s, though its own earlier micro-operations imply %s", op, did(get(c, "mop")), val(get(c, "expected")))
		ex.Lines = []string{"T1 = " + x.txn(op)}
	case "future-read":
		if !opOK {
			break
		}
		ex.Text = fmt.Sprintf("op %d %s, holding %s, which it appends only later", op, did(get(c, "mop")), val(get(c, "element")))
		ex.Lines = []string{"T1 = " + x.txn(op)}
	case "duplicate-elements":
		if !opOK {
			break
		}
		var dups []string
		if dm, ok := get(c, "duplicates").(edn.Map); ok {
			for _, e := range dm {
				dups = append(dups, fmt.Sprintf("%s appears %s times", val(e.Key), val(e.Val)))
			}
		}
		ex.Text = fmt.Sprintf("op %d %s, in which %s", op, did(get(c, "mop")), strings.Join(dups, ", "))
		ex.Lines = []string{"T1 = " + x.txn(op)}
	case "lost-update":
		txns := casesOf(get(c, "txns"))
		k, v := val(get(c, "key")), val(get(c, "value"))
		var ids []string
		for i, tm := range txns {
			if ti, ok := elle.OpIndex(tm); ok {
				ex.Lines = append(ex.Lines, fmt.Sprintf("%s = %s", label(i), x.txn(ti)))
				ids = append(ids, fmt.Sprint(ti))
			}
		}
		ex.Text = fmt.Sprintf("%s (ops %s) read key %s = %s and then each wrote key %s", results.Plural(len(txns), "transaction"), strings.Join(ids, ", "), k, v, k)
		ex.Lines = append(ex.Lines, fmt.Sprintf("Each of %s read key %s = %s and wrote it, and all committed: whichever came last overwrote the others' updates without having seen them.",
			strings.Join(labels(len(txns)), ", "), k, v))
	case "incompatible-order":
		vs, _ := get(c, "values").(edn.Vector)
		if len(vs) == 2 {
			ex.Text = fmt.Sprintf("key %s was read as %s and as %s", val(get(c, "key")), val(vs[0]), val(vs[1]))
		}
	case "dirty-update":
		txns, _ := get(c, "txns").(edn.Vector)
		ex.Text = fmt.Sprintf("key %s holds %s", val(get(c, "key")), val(get(c, "values")))
		if len(txns) > 0 {
			if m, ok := txns[0].(edn.Map); ok {
				if ti, ok := elle.OpIndex(m); ok {
					ex.Lines = append(ex.Lines, "failed: "+x.txn(ti))
				}
			}
			if m, ok := txns[len(txns)-1].(edn.Map); ok {
				if ti, ok := elle.OpIndex(m); ok {
					ex.Lines = append(ex.Lines, "committed after it: "+x.txn(ti))
				}
			}
		}
	case "cyclic-versions":
		ex.Text = fmt.Sprintf("the versions %s of key %s follow each other in a circle", val(get(c, "scc")), val(get(c, "key")))
	case "cycle-search-timeout":
		ex.Text = fmt.Sprintf("the search for %s gave up in a component of %v transactions", val(get(c, "anomaly-spec-type")), val(get(c, "scc-size")))
	default:
		if c != nil {
			ex.Text = val(c)
		}
	}
	return ex
}
