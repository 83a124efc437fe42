package elle

// work is scratch space for strongly-connected-component and cycle
// searches over one frozen graph, sized once and reused so that repeated
// searches allocate nothing per vertex.
type work struct {
	g       *Graph
	idx     []int32 // Tarjan visit order, -1 when unvisited
	low     []int32
	onStack []bool
	mark    []uint32 // mark[v] == stamp: v belongs to the current vertex set
	stamp   uint32
	comp    []int32 // scratch component ids for sub-SCC computations
}

func newWork(g *Graph) *work {
	n := len(g.ops)
	w := &work{g: g, idx: make([]int32, n), low: make([]int32, n), onStack: make([]bool, n),
		mark: make([]uint32, n), comp: make([]int32, n)}
	for i := range w.idx {
		w.idx[i] = -1
	}
	return w
}

// restrict marks vs as the current vertex set.
func (w *work) restrict(vs []int32) {
	w.stamp++
	if w.stamp == 0 { // wrapped: clear
		for i := range w.mark {
			w.mark[i] = 0
		}
		w.stamp = 1
	}
	for _, v := range vs {
		w.mark[v] = w.stamp
	}
}

// sccs returns the strongly connected components with at least two
// vertices of the subgraph induced by vs, using only edges for which use
// returns true. Tarjan's algorithm, iterative, so deep graphs cannot
// overflow the stack. vs becomes the current vertex set.
func (w *work) sccs(vs []int32, use func(rels Rel) bool) [][]int32 {
	w.restrict(vs)
	g := w.g
	var out [][]int32
	var stack []int32 // Tarjan's vertex stack
	type frame struct {
		v   int32
		pos int32
	}
	var frames []frame
	counter := int32(0)
	var visited []int32
	for _, root := range vs {
		if w.idx[root] >= 0 {
			continue
		}
		w.idx[root], w.low[root] = counter, counter
		counter++
		visited = append(visited, root)
		stack = append(stack, root)
		w.onStack[root] = true
		frames = append(frames, frame{root, g.start[root]})
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			v := f.v
			descended := false
			for end := g.start[v+1]; f.pos < end; f.pos++ {
				u := g.to[f.pos]
				if w.mark[u] != w.stamp || !use(g.rels[f.pos]) {
					continue
				}
				if w.idx[u] < 0 {
					w.idx[u], w.low[u] = counter, counter
					counter++
					visited = append(visited, u)
					stack = append(stack, u)
					w.onStack[u] = true
					f.pos++
					frames = append(frames, frame{u, g.start[u]})
					descended = true
					break
				}
				if w.onStack[u] && w.idx[u] < w.low[v] {
					w.low[v] = w.idx[u]
				}
			}
			if descended {
				continue
			}
			if w.low[v] == w.idx[v] {
				i := len(stack) - 1
				for stack[i] != v {
					i--
				}
				c := stack[i:]
				for _, x := range c {
					w.onStack[x] = false
				}
				if len(c) > 1 {
					out = append(out, append([]int32(nil), c...))
				}
				stack = stack[:i]
			}
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				p := frames[len(frames)-1].v
				if w.low[v] < w.low[p] {
					w.low[p] = w.low[v]
				}
			}
		}
	}
	for _, v := range visited {
		w.idx[v] = -1
	}
	return out
}
