package elle

import (
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/glomers/glomers/workbench/edn"
)

// Anomalies maps an anomaly type name, without the colon ("G1c",
// "G1a", "PL-1-cycle-exists", ...), to its cases in Elle's shape.
type Anomalies map[string][]edn.Map

// Add appends cases under typ.
func (a Anomalies) Add(typ string, cases ...edn.Map) { a[typ] = append(a[typ], cases...) }

// Types returns the anomaly type names present, sorted as Clojure sorts
// keywords.
func (a Anomalies) Types() []string {
	ts := make([]string, 0, len(a))
	for t, cs := range a {
		if len(cs) > 0 {
			ts = append(ts, t)
		}
	}
	sort.Strings(ts)
	return ts
}

// CycleOptions tunes Graph.Cycles.
type CycleOptions struct {
	// Timeout bounds the search in each strongly connected component, as
	// Elle's :cycle-search-timeout (default 1 s). When it runs out the
	// component yields a :cycle-search-timeout case and a fallback cycle.
	// Negative means no limit.
	Timeout time.Duration
}

// DefaultCycleSearchTimeout is Elle's txn/cycle-search-timeout.
const DefaultCycleSearchTimeout = time.Second

// cycleExistsSpecs are Elle's txn/cycle-exists-specs whose subgraphs are
// plain unions of relationships. The three :extension specs (PL-SI and its
// strong variants) are not evaluated: their models are then never assumed
// possible, so no search is skipped on their account.
var cycleExistsSpecs = []struct {
	model    string // canonical
	rels     Rel
	subgraph edn.Vector
}{
	{"PL-1", WW, kws("union", "ww", "wwp")},
	{"PL-2", WW | WR, kws("union", "ww", "wwp", "wr", "wrp")},
	{"PL-2.99", WW | WR | RW, kws("union", "ww", "wwp", "wr", "wrp", "rw")},
	{"PL-3", WW | WR | RW, kws("union", "ww", "wwp", "wr", "wrp", "rw", "rwp")},
	{"strong-session-PL-1", WW | Process, kws("union", "ww", "wwp", "process")},
	{"strong-session-PL-2", WW | WR | Process, kws("union", "ww", "wwp", "wr", "wrp", "process")},
	{"strong-session-serializable", WW | WR | RW | Process, kws("union", "ww", "wwp", "wr", "wrp", "rw", "rwp", "process")},
	{"strong-PL-1", WW | Realtime, kws("union", "ww", "wwp", "realtime")},
	{"strong-PL-2", WW | WR | Realtime, kws("union", "ww", "wwp", "wr", "wrp", "realtime")},
	{"PL-SS", WW | WR | RW | Realtime, kws("union", "ww", "wwp", "wr", "wrp", "rw", "rwp", "realtime")},
}

func kws(names ...string) edn.Vector {
	v := make(edn.Vector, len(names))
	for i, n := range names {
		v[i] = edn.Keyword(n)
	}
	return v
}

// isCycleType reports whether name is one of Elle's cycle anomaly types.
var isCycleType = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range searchOrder {
		m[n] = true
	}
	return m
}()

// Cycles finds Elle's cycle anomalies in the graph, as elle.txn/cycles
// does: the graph is split into strongly connected components (Tarjan);
// in each, Elle's cycle-exists checks run first (PL-1-cycle-exists and
// so on, for the models whose subgraph has a cycle), then every cycle
// anomaly type is searched for in Elle's order (G-single-item, G0,
// G-nonadjacent-item, ..., G2-item-realtime), skipping types already
// implied by one found, and at most one cycle per type and component is
// reported: the shortest through the first vertex (in Link order) that
// has one, found by breadth-first search. Each cycle's steps are labelled
// as Elle's explainer labels them when an edge carries several
// relationships (see SetExplainOrder).
func (g *Graph) Cycles(opts CycleOptions) Anomalies {
	g.freeze()
	out := Anomalies{}
	n := len(g.ops)
	if n == 0 {
		return out
	}
	w := newWork(g)
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	sccs := w.sccs(all, func(Rel) bool { return true })
	for _, c := range sccs {
		slices.Sort(c)
	}
	sort.Slice(sccs, func(i, j int) bool { return sccs[i][0] < sccs[j][0] })
	s := &searcher{w: w, local: make([]int32, n)}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultCycleSearchTimeout
	}
	for _, scc := range sccs {
		s.deadline = time.Time{}
		if timeout > 0 {
			s.deadline = time.Now().Add(timeout)
		}
		for _, c := range g.sccCases(s, scc) {
			t, _ := c.Get(edn.Keyword("type"))
			out.Add(string(t.(edn.Keyword)), c)
		}
	}
	return out
}

// sccCases is Elle's txn/cycle-cases-in-scc.
func (g *Graph) sccCases(s *searcher, scc []int32) []edn.Map {
	exists, notModels := g.cycleExists(s.w, scc)
	redundant := impossibleCycleAnomalies(notModels)
	var found []edn.Map
	var searched []string
	foundTypes := map[string]bool{}
	for _, name := range searchOrder {
		if redundant[name] {
			continue
		}
		searched = append(searched, name)
		sp := specFor(name)
		if sp.never {
			continue
		}
		cyc, labels, err := s.find(scc, sp)
		if errors.Is(err, errTimeout) {
			var dnc edn.List
			for _, t := range searched[:len(searched)-1] {
				if !foundTypes[t] {
					dnc = append(dnc, edn.Keyword(t))
				}
			}
			cases := []edn.Map{edn.K("type", edn.Keyword("cycle-search-timeout"),
				"anomaly-spec-type", edn.Keyword(name),
				"does-not-contain", dnc,
				"scc-size", len(scc)),
				g.fallback(s, scc)}
			cases = append(cases, exists...)
			return append(cases, found...)
		}
		if cyc == nil {
			continue
		}
		found = append(found, g.explainCycle(cyc, labels))
		foundTypes[name] = true
		for a := range closure([]string{name}, impliedAnomalies) {
			redundant[a] = true
		}
	}
	return append(exists, found...)
}

// cycleExists is Elle's txn/cycle-exists-cases over one component: for
// each spec not already implied, is there a cycle in its subgraph? It
// returns the cases and the canonical models they rule out.
func (g *Graph) cycleExists(w *work, scc []int32) ([]edn.Map, []string) {
	var cases []edn.Map
	var nots []string
	redundant := map[string]bool{}
	for _, spec := range cycleExistsSpecs {
		if redundant[spec.model] {
			continue
		}
		rels := spec.rels
		subs := w.sccs(scc, func(r Rel) bool { return r&rels != 0 })
		if len(subs) == 0 {
			continue
		}
		smallest := subs[0]
		for _, c := range subs[1:] {
			if len(c) < len(smallest) {
				smallest = c
			}
		}
		idx := make([]int, len(smallest))
		for i, v := range smallest {
			idx[i] = g.ops[v].Index
		}
		sort.Ints(idx)
		set := make(edn.Set, len(idx))
		for i, x := range idx {
			set[i] = x
		}
		cases = append(cases, edn.K(
			"type", edn.Keyword(spec.model+"-cycle-exists"),
			"not", edn.Keyword(friendlyModel(spec.model)),
			"subgraph", spec.subgraph,
			"scc-size", len(smallest),
			"scc", set))
		nots = append(nots, spec.model)
		for m := range closure([]string{spec.model}, defaultLattice.stronger) {
			redundant[m] = true
		}
	}
	return cases, nots
}

// impossibleCycleAnomalies is Elle's
// cycle-exists-cases->impossible-cycle-anomalies: the cycle types that the
// models whose cycle-exists check found nothing prohibit, and so need no
// search.
func impossibleCycleAnomalies(notModels []string) map[string]bool {
	impossible := closure(notModels, defaultLattice.stronger)
	var possible []string
	for _, spec := range cycleExistsSpecs {
		if !impossible[spec.model] {
			possible = append(possible, spec.model)
		}
	}
	out := map[string]bool{}
	if len(possible) == 0 {
		return out
	}
	for a := range ProhibitedAnomalies(possible) {
		if isCycleType[a] {
			out[a] = true
		}
	}
	return out
}

// fallback is Elle's cycle-cases-in-scc-fallback: some cycle of the
// component, whatever its type, explained.
func (g *Graph) fallback(s *searcher, scc []int32) edn.Map {
	d := s.deadline
	s.deadline = time.Time{}
	defer func() { s.deadline = d }()
	sp := cycleSpec{name: "fallback", rw: rwAny}
	cyc, labels, _ := s.find(scc, sp)
	return g.explainCycle(cyc, labels)
}

// explainCycle renders a cycle as Elle's explainer does:
// {:cycle [ops... first-again], :steps (...), :type :G1c}.
func (g *Graph) explainCycle(cyc []int32, labels []Rel) edn.Map {
	ops := make(edn.Vector, len(cyc))
	for i, v := range cyc {
		ops[i] = g.ops[v].EDN()
	}
	steps := make(edn.List, len(labels))
	for i, l := range labels {
		steps[i] = g.step(cyc[i], cyc[i+1], l)
	}
	return edn.K("cycle", ops, "steps", steps, "type", edn.Keyword(classify(labels)))
}
