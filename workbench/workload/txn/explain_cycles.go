package txn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// maxDrawings bounds the cycles drawn per anomaly type.
const maxDrawings = 5

// cycleTeller tells the cycles Elle found: their transactions, the edges
// between them in words, and a drawing of the first few.
type cycleTeller struct {
	teller
	appends bool // list-append: versions are lists, writes appends
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

// finding explains the cycle cases of one type, the shortest cycles
// first (they tell best), and draws the first few.
func (x cycleTeller) finding(t string, cases []edn.Map) results.Finding {
	size := make([]int, len(cases))
	order := make([]int, len(cases))
	for i, c := range cases {
		order[i] = i
		l, _ := c.Lookup("cycle").(edn.Vector)
		size[i] = len(l)
	}
	sort.SliceStable(order, func(i, j int) bool { return size[order[i]] < size[order[j]] })
	var f results.Finding
	nodes := map[string]bool{}
	for _, ci := range order[:min(len(order), results.MaxExamples)] {
		cc, ok := elle.ParseCycle(cases[ci])
		if !ok {
			continue
		}
		ex := x.story(cc)
		for _, ti := range cc.Txns {
			if n := x.node(ti); n != "" {
				nodes[n] = true
			}
		}
		if len(f.Examples) < maxDrawings && x.ev.WriteFile != nil {
			name := fmt.Sprintf("cycle-%s-%d.svg", t, len(f.Examples)+1)
			if err := x.ev.WriteFile(name, drawCycle(cc, x.boxes(cc))); err == nil {
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

// story tells one cycle: a line per transaction, a line per edge,
// and the conclusion.
func (x cycleTeller) story(cc elle.CycleCase) results.Example {
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

// boxes are the second lines of the boxes of a cycle's drawing, one a
// transaction: "op 12 · n1 · 2.100 s".
func (x cycleTeller) boxes(cc elle.CycleCase) []string {
	out := make([]string, len(cc.Txns))
	for i, ti := range cc.Txns {
		who := fmt.Sprintf("op %d", ti)
		if node := x.node(ti); node != "" {
			who += " · " + node
		}
		if c, ok := x.op(ti); ok {
			who += fmt.Sprintf(" · %.3f s", float64(c.Time)/1e9)
		}
		out[i] = who
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
func (x cycleTeller) edge(a, b string, s elle.Step) string {
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
		who := x.ev.Who(history.Op{Process: s.Process})
		return head + fmt.Sprintf("%s ran %s and then %s, so %s came before %s.", who, a, b, a, b)
	}
	return head + fmt.Sprintf("%s came before %s.", a, b)
}

// cycleExists explains Elle's fallback: a cycle exists among some
// transactions, but its search named none.
func cycleExists(t string, cases []edn.Map) results.Finding {
	model := strings.TrimSuffix(t, "-cycle-exists")
	f := results.Finding{Summary: fmt.Sprintf("%s of transactions hold a dependency cycle that rules out %s, though no cycle of a named type was reported for them.",
		results.Plural(len(cases), "group"), model)}
	for i, c := range cases {
		if i >= results.MaxExamples {
			break
		}
		sub := c.Lookup("subgraph")
		set, _ := c.Lookup("scc").(edn.Set)
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
