package elle

import (
	"slices"
	"sort"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Rel is a set of dependency relationships between two transactions, as
// Elle's BitRels: an edge of the graph carries one or more of them.
type Rel uint8

// The relationships Elle's transaction graphs carry.
const (
	WW       Rel = 1 << iota // write-write: b overwrote a's version
	WR                       // write-read: b read a's version
	RW                       // read-write (anti-dependency): b overwrote the version a read
	Process                  // a and b ran in this order on one process
	Realtime                 // a completed before b was invoked
)

// defaultExplainOrder is the order in which Elle's combined explainer
// asks its explainers to justify a pair of transactions in list-append
// (elle/list_append.clj graph: ww, wr, rw graphs) and in Jepsen's kafka
// checker (ww, wr), followed by the additional process or realtime graph:
// the first relationship that explains a pair is the one a cycle step
// shows, and the cycle is classified by those. NewGraph uses it.
var defaultExplainOrder = [...]Rel{WW, WR, RW, Process, Realtime}

// rwRegisterExplainOrder is rw-register's order (elle/rw_register.clj
// graph: the wr graph, then ww+rw, then process or realtime).
var rwRegisterExplainOrder = [...]Rel{WR, WW, RW, Process, Realtime}

// labelTable maps every set of relationships to the one the explainer
// picks, given an explanation order.
func labelTable(order []Rel) [32]Rel {
	var t [32]Rel
	for rels := range t {
		for _, r := range order {
			if Rel(rels)&r != 0 {
				t[rels] = r
				break
			}
		}
	}
	return t
}

// String returns Elle's keyword name for a single relationship.
func (r Rel) String() string {
	switch r {
	case WW:
		return "ww"
	case WR:
		return "wr"
	case RW:
		return "rw"
	case Process:
		return "process"
	case Realtime:
		return "realtime"
	}
	var parts []string
	for _, x := range defaultExplainOrder {
		if r&x != 0 {
			parts = append(parts, x.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	s := parts[0]
	for _, p := range parts[1:] {
		s += "|" + p
	}
	return s
}

// Graph is a dependency graph over transactions (history completions),
// built with Link, AddRealtime and AddProcess and then searched with
// Cycles. Vertices are identified by the ops' Index. A Graph is not safe
// for concurrent use.
type Graph struct {
	ops     []history.Op  // vertex -> completion op
	vertex  map[int]int32 // op.Index -> vertex
	pending []rawEdge     // edges not yet frozen into the CSR arrays
	frozen  bool

	// CSR adjacency, sorted by (from, to), one entry per pair.
	start []int32
	to    []int32
	rels  []Rel

	why     map[whyKey]edn.Map                   // caller-supplied explanations, first per (pair, rel)
	rtHist  []history.Op                         // the history AddRealtime read
	invPos  []int32                              // vertex -> position of its invocation in rtHist, or -1
	explain func(a, b history.Op, r Rel) edn.Map // checker-specific explainer, optional
	labels  [32]Rel                              // relationships -> the one that explains them
}

type rawEdge struct {
	from, to int32
	rel      Rel
}

type whyKey struct {
	from, to int32
	rel      Rel
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return newGraphSized(0)
}

func newGraphSized(n int) *Graph {
	return &Graph{vertex: make(map[int]int32, n), ops: make([]history.Op, 0, n),
		labels: labelTable(defaultExplainOrder[:])}
}

// SetExplainOrder sets which relationship explains an edge carrying
// several. The default, ww, wr, rw, process, realtime, is how Elle's
// list-append and Jepsen's kafka checker combine their graphs;
// rw-register's is wr, ww, rw, process, realtime. Relationships left out
// never explain a step.
func (g *Graph) SetExplainOrder(order ...Rel) { g.labels = labelTable(order) }

// vertexOf returns op's vertex, adding it if needed.
func (g *Graph) vertexOf(op history.Op) int32 {
	if v, ok := g.vertex[op.Index]; ok {
		return v
	}
	v := int32(len(g.ops))
	g.vertex[op.Index] = v
	g.ops = append(g.ops, op)
	g.frozen = false
	return v
}

// Len is the number of vertices.
func (g *Graph) Len() int { return len(g.ops) }

// Link adds the relationship rel (one of WW, WR, RW, Process, Realtime)
// from transaction a to transaction b, both completion ops. why explains
// it the way the anomaly's :steps print it, e.g. edn.K("key", "k",
// "value", 3) for a wr edge; Cycles prepends :type. Only the first
// explanation of each (a, b, rel) is kept. Self-edges are ignored, as Elle
// removes them (the vertex is still added).
func (g *Graph) Link(a, b history.Op, rel Rel, why edn.Map) {
	va, vb := g.vertexOf(a), g.vertexOf(b)
	if va == vb {
		return
	}
	g.link(va, vb, rel)
	if why != nil {
		if g.why == nil {
			g.why = map[whyKey]edn.Map{}
		}
		k := whyKey{va, vb, rel}
		if _, ok := g.why[k]; !ok {
			g.why[k] = why
		}
	}
}

func (g *Graph) link(a, b int32, rel Rel) {
	if a == b {
		return
	}
	g.pending = append(g.pending, rawEdge{a, b, rel})
	g.frozen = false
}

// freeze merges pending edges into the CSR arrays.
func (g *Graph) freeze() {
	if g.frozen {
		return
	}
	n := len(g.ops)
	all := g.pending
	for v := 0; v < len(g.start)-1; v++ {
		for i := g.start[v]; i < g.start[v+1]; i++ {
			all = append(all, rawEdge{int32(v), g.to[i], g.rels[i]})
		}
	}
	slices.SortFunc(all, func(a, b rawEdge) int {
		if a.from != b.from {
			return int(a.from - b.from)
		}
		return int(a.to - b.to)
	})
	start := make([]int32, n+1)
	to := make([]int32, 0, len(all))
	rels := make([]Rel, 0, len(all))
	for i := 0; i < len(all); {
		e := all[i]
		r := e.rel
		j := i + 1
		for j < len(all) && all[j].from == e.from && all[j].to == e.to {
			r |= all[j].rel
			j++
		}
		to = append(to, e.to)
		rels = append(rels, r)
		start[e.from+1]++
		i = j
	}
	for v := 0; v < n; v++ {
		start[v+1] += start[v]
	}
	g.start, g.to, g.rels = start, to, rels
	g.pending = nil
	g.frozen = true
}

// relsBetween returns the relationships on the edge a -> b.
func (g *Graph) relsBetween(a, b int32) Rel {
	lo, hi := int(g.start[a]), int(g.start[a+1])
	i := lo + sort.Search(hi-lo, func(i int) bool { return g.to[lo+i] >= b })
	if i < hi && g.to[i] == b {
		return g.rels[i]
	}
	return 0
}

// AddRealtime adds Elle's realtime order over the history (which must hold
// invocations and completions in order, as recorded): an edge from every
// :ok completion a to the completion of every operation b invoked after a
// completed, reduced transitively as Elle's core/realtime-graph does (a
// buffer of completions not yet implied by later ones, linked to each new
// invocation), so the edge count stays near n times the concurrency.
func (g *Graph) AddRealtime(h []history.Op) {
	completion := completionPositions(h)
	g.rtHist = h
	var buffer []int32                 // positions of :ok completions not yet implied
	implied := make([][]int32, len(h)) // completion position -> buffer linked to it at its invocation
	for i := range h {
		op := &h[i]
		if !op.IsClient() {
			continue
		}
		switch op.Type {
		case history.Invoke:
			c := completion[i]
			if c < 0 || len(buffer) == 0 {
				continue // no edge, and so no vertex, as in Elle
			}
			vc := g.vertexOf(h[c])
			g.setInvoke(vc, int32(i))
			for _, a := range buffer {
				g.link(g.vertexOf(h[a]), vc, Realtime)
			}
			implied[c] = append([]int32(nil), buffer...)
		case history.OK:
			if in := implied[i]; len(in) > 0 {
				buffer = slices.DeleteFunc(buffer, func(x int32) bool { return slices.Contains(in, x) })
				implied[i] = nil
			}
			buffer = append(buffer, int32(i))
		}
	}
}

// setInvoke records the history position of vertex v's invocation.
func (g *Graph) setInvoke(v, pos int32) {
	for int(v) >= len(g.invPos) {
		g.invPos = append(g.invPos, -1)
	}
	g.invPos[v] = pos
}

// completionPositions maps each client invocation's position in h to its
// completion's position, or -1.
func completionPositions(h []history.Op) []int32 {
	out := make([]int32, len(h))
	open := map[int]int{}
	for i := range h {
		out[i] = -1
		op := &h[i]
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = i
			continue
		}
		if j, ok := open[op.Process]; ok {
			out[j] = int32(i)
			delete(open, op.Process)
		}
	}
	return out
}

// AddProcess adds Elle's process order: an edge between consecutive :ok
// completions of each process (core/process-graph).
func (g *Graph) AddProcess(h []history.Op) {
	last := map[int]int32{}
	for _, op := range h {
		if !op.IsClient() || op.Type != history.OK {
			continue
		}
		v := g.vertexOf(op)
		if p, ok := last[op.Process]; ok {
			g.link(p, v, Process)
		}
		last[op.Process] = v
	}
}

// step explains the edge a -> b by the relationship r, as Elle prints a
// cycle step.
func (g *Graph) step(a, b int32, r Rel) edn.Map {
	m := edn.K("type", edn.Keyword(r.String()))
	switch r {
	case Realtime:
		m = append(m, edn.Entry{Key: edn.Keyword("a'"), Val: g.ops[a].EDN()})
		if int(b) < len(g.invPos) && g.invPos[b] >= 0 {
			m = append(m, edn.Entry{Key: edn.Keyword("b"), Val: g.rtHist[g.invPos[b]].EDN()})
		}
		return m
	case Process:
		return append(m, edn.Entry{Key: edn.Keyword("process"), Val: g.ops[a].Process})
	}
	if why, ok := g.why[whyKey{a, b, r}]; ok {
		for _, e := range why {
			if e.Key != edn.Keyword("type") {
				m = append(m, e)
			}
		}
		return m
	}
	if g.explain != nil {
		if why := g.explain(g.ops[a], g.ops[b], r); why != nil {
			return why
		}
	}
	return m
}
