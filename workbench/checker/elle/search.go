package elle

import (
	"errors"
	"slices"
	"time"
)

// rwMode constrains how many anti-dependency (rw) edges a cycle holds and
// where, as Elle's BFSPath RWMode and single/multiple rels do.
type rwMode uint8

const (
	rwNone        rwMode = iota // no rw edge
	rwSingle                    // exactly one rw edge (G-single)
	rwAdjacent                  // two or more, some two adjacent (G2-item)
	rwNonadjacent               // two or more, no two adjacent (G-nonadjacent)
	rwAny                       // anything (the fallback cycle)
)

// cycleSpec is one anomaly type Elle's txn/cycle-anomaly-specs searches
// for, in terms of the edge labels the explainer gives.
type cycleSpec struct {
	name    string
	allowed Rel // labels usable besides rw
	rw      rwMode
	needWR  bool
	variant Rel // Process or Realtime: at least one such edge; 0 for none
	never   bool
	mask    uint8 // the state bits the spec looks at
}

// searchOrder is Elle 0.2.2's cycle-anomaly-specs in anomaly-depth order.
// The predicate types (G-single, G-nonadjacent, G2 and their variants)
// need a predicate read, which register and list histories never have, so
// their :type check can never pass: they are marked never.
var searchOrder = []string{
	"G-single-item", "G0", "G-nonadjacent-item", "G-single-item-process", "G1c",
	"G-nonadjacent-item-process", "G-single", "G-single-item-realtime", "G2-item",
	"G-nonadjacent", "G-nonadjacent-item-realtime", "G2", "G0-process",
	"G1c-process", "G-single-process", "G2-item-process", "G-nonadjacent-process",
	"G2-process", "G0-realtime", "G1c-realtime", "G-single-realtime",
	"G2-item-realtime", "G-nonadjacent-realtime", "G2-realtime",
}

// specFor builds the spec for an anomaly type name of searchOrder.
func specFor(name string) cycleSpec {
	s := cycleSpec{name: name}
	base := name
	for _, v := range []struct {
		suffix string
		rel    Rel
	}{{"-process", Process}, {"-realtime", Realtime}} {
		if len(name) > len(v.suffix) && name[len(name)-len(v.suffix):] == v.suffix {
			base = name[:len(name)-len(v.suffix)]
			s.variant = v.rel
		}
	}
	switch base {
	case "G0":
		s.allowed = WW
	case "G1c":
		s.allowed, s.needWR = WW|WR, true
	case "G-single-item":
		s.allowed, s.rw = WW|WR, rwSingle
	case "G-nonadjacent-item":
		s.allowed, s.rw = WW|WR, rwNonadjacent
	case "G2-item":
		s.allowed, s.rw = WW|WR, rwAdjacent
	default:
		s.never = true
	}
	s.allowed |= s.variant
	s.setMask()
	return s
}

// setMask keeps only the state bits sp's constraints read, so the product
// search explores as few states as it can.
func (sp *cycleSpec) setMask() {
	switch sp.rw {
	case rwSingle:
		sp.mask = stRW1 | stRW2
	case rwAdjacent:
		sp.mask = stRW1 | stRW2 | stFirst | stLast | stAdj
	case rwNonadjacent:
		sp.mask = stRW1 | stRW2 | stFirst | stLast
	}
	if sp.needWR {
		sp.mask |= stWR
	}
	if sp.variant != 0 {
		sp.mask |= stVar
	}
}

// classify names a cycle by its steps' labels as Elle's txn/cycle-explainer
// does.
func classify(labels []Rel) string {
	var rw, wr, ww, rt, pr int
	adj := false
	for i, l := range labels {
		switch l {
		case RW:
			rw++
			if labels[(i+len(labels)-1)%len(labels)] == RW {
				adj = true
			}
		case WR:
			wr++
		case WW:
			ww++
		case Realtime:
			rt++
		case Process:
			pr++
		}
	}
	var t string
	switch {
	case rw == 1:
		t = "G-single-item"
	case rw > 1 && adj:
		t = "G2-item"
	case rw > 1:
		t = "G-nonadjacent-item"
	case wr > 0:
		t = "G1c"
	case ww > 0:
		t = "G0"
	default:
		// Only process/realtime edges: cannot happen in Elle's graphs (such
		// orders are acyclic); name it after its order.
		t = "cycle"
	}
	switch {
	case rt > 0:
		t += "-realtime"
	case pr > 0:
		t += "-process"
	}
	return t
}

// State bits of the product search.
const (
	stRW1    = 1 << iota // one rw edge so far
	stRW2                // two or more
	stFirst              // the first edge was rw
	stLast               // the last edge was rw
	stAdj                // two adjacent rw edges seen
	stWR                 // a wr edge seen
	stVar                // a variant (process/realtime) edge seen
	stStates = 1 << 7
)

var errTimeout = errors.New("cycle search timed out")

// searcher runs constrained breadth-first cycle searches inside one SCC.
type searcher struct {
	w        *work
	deadline time.Time
	ticks    int
	// per-search scratch, indexed by local vertex * stride + packed state
	stride int32
	pack   [stStates]uint8 // state -> packed index (only the spec's mask bits)
	unpack [stStates]uint8
	seen   []uint32
	parent []int32
	via    []Rel
	gen    uint32
	local  []int32 // vertex -> local index in the current sub-SCC
	rev    []int32 // local index -> vertex
}

func (s *searcher) expired() bool {
	s.ticks++
	if s.ticks&1023 != 0 || s.deadline.IsZero() {
		return false
	}
	return time.Now().After(s.deadline)
}

// next applies an edge labelled l to state st; ok is false when the spec
// forbids the step.
func (sp *cycleSpec) next(st uint8, l Rel, first bool) (uint8, bool) {
	if l == RW {
		switch {
		case sp.rw == rwNone:
			return 0, false
		case sp.rw == rwSingle && st&(stRW1|stRW2) != 0:
			return 0, false
		case sp.rw == rwNonadjacent && st&stLast != 0:
			return 0, false
		}
		if st&stLast != 0 {
			st |= stAdj
		}
		if st&(stRW1|stRW2) != 0 {
			st = st&^stRW1 | stRW2
		} else {
			st |= stRW1
		}
		if first {
			st |= stFirst
		}
		st |= stLast
	} else {
		if l&sp.allowed == 0 && sp.rw != rwAny {
			return 0, false
		}
		st &^= stLast
		if l == WR {
			st |= stWR
		}
		if sp.variant != 0 && l == sp.variant {
			st |= stVar
		}
	}
	return st & sp.mask, true
}

// accepts reports whether a closed cycle in state st satisfies the spec.
func (sp *cycleSpec) accepts(st uint8) bool {
	if sp.needWR && st&stWR == 0 {
		return false
	}
	if sp.variant != 0 && st&stVar == 0 {
		return false
	}
	wrap := st&stFirst != 0 && st&stLast != 0
	switch sp.rw {
	case rwSingle:
		return st&stRW1 != 0
	case rwAdjacent:
		return st&stRW2 != 0 && (st&stAdj != 0 || wrap)
	case rwNonadjacent:
		return st&stRW2 != 0 && !wrap
	}
	return true
}

// usable reports whether an edge labelled l may appear in the spec's cycles.
func (sp *cycleSpec) usable(l Rel) bool {
	if sp.rw == rwAny {
		return true
	}
	if l == RW {
		return sp.rw != rwNone
	}
	return l&sp.allowed != 0
}

// anchor is the label every cycle of the spec must contain; searches start
// from the sources of such edges.
func (sp *cycleSpec) anchor() Rel {
	switch {
	case sp.rw != rwNone && sp.rw != rwAny:
		return RW
	case sp.variant != 0:
		return sp.variant
	case sp.needWR:
		return WR
	}
	return 0
}

// find returns the vertices of a cycle (first repeated at the end) and its
// step labels, or nil when scc has none matching sp.
func (s *searcher) find(scc []int32, sp cycleSpec) ([]int32, []Rel, error) {
	w, g := s.w, s.w.g
	use := func(r Rel) bool { return sp.usable(g.labels[r]) }
	subs := w.sccs(scc, use)
	anchor := sp.anchor()
	for _, sub := range subs {
		w.restrict(sub)
		for i, v := range sub {
			s.local[v] = int32(i)
		}
		s.rev = sub
		// Starts in vertex order: sources of an anchor edge inside sub.
		starts := make([]int32, 0, len(sub))
		for _, v := range sub {
			for e := g.start[v]; e < g.start[v+1]; e++ {
				if w.mark[g.to[e]] == w.stamp && use(g.rels[e]) &&
					(anchor == 0 || g.labels[g.rels[e]] == anchor) {
					starts = append(starts, v)
					break
				}
			}
		}
		// Elle tries vertices in its graph's order; ours is history order.
		slices.SortFunc(starts, func(a, b int32) int { return g.ops[a].Index - g.ops[b].Index })
		s.setPacking(sp.mask)
		need := len(sub) * int(s.stride)
		if len(s.seen) < need {
			s.seen = make([]uint32, need)
			s.parent = make([]int32, need)
			s.via = make([]Rel, need)
			s.gen = 0
		}
		for _, start := range starts {
			cyc, labels, err := s.bfs(start, sp)
			if err != nil || cyc != nil {
				return cyc, labels, err
			}
		}
	}
	return nil, nil, nil
}

// bfs searches for the shortest cycle through start matching sp, within
// the current vertex set (w.mark).
func (s *searcher) bfs(start int32, sp cycleSpec) ([]int32, []Rel, error) {
	w, g := s.w, s.w.g
	s.gen++
	if s.gen == 0 {
		for i := range s.seen {
			s.seen[i] = 0
		}
		s.gen = 1
	}
	// Queue entries are node ids: local*stride + packed state. The start vertex
	// is never enqueued; its out-edges seed the queue with parent -1.
	var queue []int32
	for e := g.start[start]; e < g.start[start+1]; e++ {
		u := g.to[e]
		if w.mark[u] != w.stamp {
			continue
		}
		l := g.labels[g.rels[e]]
		st, ok := sp.next(0, l, true)
		if !ok {
			continue
		}
		id := s.local[u]*s.stride + int32(s.pack[st])
		if s.seen[id] == s.gen {
			continue
		}
		s.seen[id], s.parent[id], s.via[id] = s.gen, -1, l
		queue = append(queue, id)
	}
	for qi := 0; qi < len(queue); qi++ {
		if s.expired() {
			return nil, nil, errTimeout
		}
		id := queue[qi]
		v := s.vertexAt(id)
		st := s.unpack[id%s.stride]
		for e := g.start[v]; e < g.start[v+1]; e++ {
			u := g.to[e]
			if w.mark[u] != w.stamp {
				continue
			}
			l := g.labels[g.rels[e]]
			st2, ok := sp.next(st, l, false)
			if !ok {
				continue
			}
			if u == start {
				if !sp.accepts(st2) {
					continue
				}
				cyc, labels := s.path(&sp, start, id, l)
				if cyc != nil {
					return cyc, labels, nil
				}
				continue
			}
			nid := s.local[u]*s.stride + int32(s.pack[st2])
			if s.seen[nid] == s.gen {
				continue
			}
			s.seen[nid], s.parent[nid], s.via[nid] = s.gen, id, l
			queue = append(queue, nid)
		}
	}
	return nil, nil, nil
}

// vertexAt maps a node id back to its vertex.
func (s *searcher) vertexAt(id int32) int32 { return s.rev[id/s.stride] }

// setPacking numbers the states that differ only in mask's bits densely,
// so the search's tables hold 2^popcount(mask) states per vertex rather
// than 128.
func (s *searcher) setPacking(mask uint8) {
	n := 0
	for st := 0; st < stStates; st++ {
		if uint8(st)&^mask != 0 {
			continue
		}
		s.pack[st] = uint8(n)
		s.unpack[n] = uint8(st)
		n++
	}
	s.stride = int32(n)
}

// path rebuilds the cycle ending with node id and a final edge labelled l
// back to start; it returns nil when the walk repeats a vertex (a
// non-simple walk, which Elle never reports).
func (s *searcher) path(sp *cycleSpec, start, id int32, l Rel) ([]int32, []Rel) {
	var vs []int32
	var ls []Rel
	ls = append(ls, l)
	for id >= 0 {
		vs = append(vs, s.vertexAt(id))
		ls = append(ls, s.via[id])
		id = s.parent[id]
	}
	vs = append(vs, start)
	// reverse
	for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
		vs[i], vs[j] = vs[j], vs[i]
	}
	for i, j := 0, len(ls)-1; i < j; i, j = i+1, j-1 {
		ls[i], ls[j] = ls[j], ls[i]
	}
	// ls[i] labels the edge vs[i] -> vs[i+1] (the last one back to start).
	// A closed walk that repeats a vertex is made of simple cycles; return
	// the first of those the spec accepts, as Elle trims loops with tails.
	type entry struct {
		v int32
		l Rel
	}
	var stack []entry
	pos := map[int32]int{}
	var best []entry
	try := func(loop []entry) {
		if len(loop) < 2 || (best != nil && len(best) <= len(loop)) {
			return
		}
		labels := make([]Rel, len(loop))
		for i, e := range loop {
			labels[i] = e.l
		}
		if sp.validCycle(labels) {
			best = append([]entry(nil), loop...)
		}
	}
	for i, v := range vs {
		if p, ok := pos[v]; ok {
			loop := stack[p:]
			try(loop)
			for _, e := range loop {
				delete(pos, e.v)
			}
			stack = stack[:p]
		}
		pos[v] = len(stack)
		stack = append(stack, entry{v, ls[i]})
	}
	if len(stack) == len(vs) {
		return append(vs, start), ls // simple already
	}
	try(stack)
	if best == nil {
		return nil, nil
	}
	cyc := make([]int32, 0, len(best)+1)
	labels := make([]Rel, len(best))
	for i, e := range best {
		cyc = append(cyc, e.v)
		labels[i] = e.l
	}
	return append(cyc, best[0].v), labels
}

// validCycle reports whether a closed cycle with these step labels
// satisfies the spec (the properties checked do not depend on where the
// cycle starts).
func (sp *cycleSpec) validCycle(labels []Rel) bool {
	var st uint8
	for i, l := range labels {
		var ok bool
		if st, ok = sp.next(st, l, i == 0); !ok {
			return false
		}
	}
	return sp.accepts(st)
}
