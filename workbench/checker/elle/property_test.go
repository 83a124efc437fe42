package elle

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// bruteCycleTypes enumerates every simple cycle of a small graph (as
// labelled by g's explanation order) and returns the set of their types.
func bruteCycleTypes(g *Graph) map[string]bool {
	g.freeze()
	n := len(g.ops)
	types := map[string]bool{}
	var path []int32
	var labels []Rel
	on := make([]bool, n)
	var dfs func(start, v int32)
	dfs = func(start, v int32) {
		for e := g.start[v]; e < g.start[v+1]; e++ {
			u := g.to[e]
			l := g.labels[g.rels[e]]
			if u == start {
				types[classify(append(labels, l))] = true
				continue
			}
			// each simple cycle once: start is its least vertex
			if u < start || on[u] {
				continue
			}
			on[u] = true
			path = append(path, u)
			labels = append(labels, l)
			dfs(start, u)
			path = path[:len(path)-1]
			labels = labels[:len(labels)-1]
			on[u] = false
		}
	}
	for s := int32(0); s < int32(n); s++ {
		on[s] = true
		dfs(s, s)
		on[s] = false
	}
	return types
}

// TestCycleSearchAgainstBruteForce: on random small graphs, every cycle
// type that exists is reported or implied by a reported one, and every
// reported cycle is a real cycle of the graph of its type.
// Random graphs: how many, and up to how many vertices.
const iterations, maxN = 3000, 7

func TestCycleSearchAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	// Elle adds the realtime or the process order, never both.
	relsRT := []Rel{WW, WR, RW, Realtime, WW | WR, WR | RW, RW | Realtime, WW | Realtime}
	relsPR := []Rel{WW, WR, RW, Process, WW | WR, WR | RW, RW | Process}
	for iter := 0; iter < iterations; iter++ {
		rels := relsRT
		if iter%2 == 1 {
			rels = relsPR
		}
		n := 2 + rng.Intn(maxN-1)
		ops := make([]history.Op, n)
		for i := range ops {
			ops[i] = history.Op{Index: i, Type: history.OK, Process: i}
		}
		g := NewGraph()
		if rng.Intn(2) == 0 {
			g.SetExplainOrder(rwRegisterExplainOrder[:]...)
		}
		for i := range ops {
			g.vertexOf(ops[i])
		}
		edges := rng.Intn(3 * n)
		for e := 0; e < edges; e++ {
			a, b := rng.Intn(n), rng.Intn(n)
			r := rels[rng.Intn(len(rels))]
			if r&(Realtime|Process) != 0 && a > b {
				a, b = b, a // real-time and process orders are acyclic
			}
			g.Link(ops[a], ops[b], r, nil)
		}
		want := bruteCycleTypes(g)
		found := g.Cycles(CycleOptions{Timeout: -1})
		covered := map[string]bool{}
		for typ, cases := range found {
			if !isCycleType[typ] {
				continue
			}
			for a := range closure([]string{typ}, impliedAnomalies) {
				covered[a] = true
			}
			if !want[typ] {
				t.Fatalf("iter %d: reported %s, which does not exist (exist: %v)", iter, typ, want)
			}
			for _, c := range cases {
				checkCase(t, g, c, typ)
			}
		}
		for typ := range want {
			if strings.HasPrefix(typ, "cycle") {
				continue // only realtime/process edges: real orders are acyclic
			}
			if !covered[typ] {
				t.Fatalf("iter %d: %s exists but was neither reported nor implied; found %v", iter, typ, found.Types())
			}
		}
	}
}

// checkCase verifies a reported cycle: consecutive ops are linked by an
// edge whose label is the step's type, and the labels classify as typ.
func checkCase(t *testing.T, g *Graph, c edn.Map, typ string) {
	t.Helper()
	cyc, _ := c.Get(edn.Keyword("cycle"))
	steps, _ := c.Get(edn.Keyword("steps"))
	ops := cyc.(edn.Vector)
	st := steps.(edn.List)
	if len(ops) != len(st)+1 {
		t.Fatalf("cycle of %d ops has %d steps", len(ops), len(st))
	}
	idx := func(o any) int32 {
		i, _ := o.(edn.Map).Get(edn.Keyword("index"))
		return g.vertex[i.(int)]
	}
	var labels []Rel
	seen := map[int32]bool{}
	for i, s := range st {
		a, b := idx(ops[i]), idx(ops[i+1])
		if seen[a] {
			t.Fatalf("cycle repeats a vertex: %v", ops)
		}
		seen[a] = true
		l := g.labels[g.relsBetween(a, b)]
		k, _ := s.(edn.Map).Get(edn.Keyword("type"))
		if l == 0 || string(k.(edn.Keyword)) != l.String() {
			t.Fatalf("step %d: %v, edge explained as %v", i, k, l)
		}
		labels = append(labels, l)
	}
	if idx(ops[0]) != idx(ops[len(ops)-1]) {
		t.Fatal("cycle does not close")
	}
	if classify(labels) != typ {
		t.Fatalf("cycle classified %s, reported as %s", classify(labels), typ)
	}
}
