// Package topology computes the neighbour maps the broadcast workload sends
// to its nodes in the initial {"type":"topology"} message.
//
// A topology maps every node id to the ids of its neighbours. The shapes
// and, importantly, the order of every neighbour list follow Maelstrom's
// broadcast workload exactly, so a node that (say) gossips only to its first
// neighbour behaves the same here as under Maelstrom:
//
//	grid   nodes fill a ⌈√n⌉-wide square row by row; neighbours are
//	       below, above, right, left (those that exist)
//	line   a chain: x0 – x1 – … – x(n−1)
//	tree2  a tree with branching factor 2, filled tier by tier
//	tree3  the same with 3 children per node
//	tree4  the same with 4 children per node
//	tree   another name for tree2
//	total  every node is the neighbour of every other node
//
// Every topology is symmetric: if a lists b, b lists a.
package topology

import (
	"fmt"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/internal/suggest"
)

// names lists the topologies in the order the CLI documents them.
var names = [...]string{"grid", "line", "tree", "tree2", "tree3", "tree4", "total"}

// Names returns the accepted topology names: grid, line, tree, tree2,
// tree3, tree4, total. The caller may modify the returned slice.
func Names() []string { return append([]string(nil), names[:]...) }

// Check returns nil for a name Build accepts, else an error that lists
// the valid names and guesses the one meant.
func Check(name string) error {
	if slices.Contains(names[:], name) {
		return nil
	}
	guess := ""
	if s, ok := suggest.Closest(name, names[:]); ok {
		guess = fmt.Sprintf(" (did you mean %s?)", s)
	}
	return fmt.Errorf("unknown topology %q%s; valid: %s", name, guess, strings.Join(names[:], ", "))
}

// Build returns the named topology over nodes, taken in the order given
// (the test's node list). Neighbour lists are in Maelstrom's order; see the
// package documentation. The result is never nil, but it is empty for
// "line" with fewer than two nodes (as in Maelstrom), and for any topology
// over no nodes. Nodes with no neighbours (a single node in a grid, tree or
// total topology) map to an empty, non-nil list, so they encode as [] in
// JSON.
//
// Build returns an error naming the valid topologies when name is unknown.
func Build(name string, nodes []string) (map[string][]string, error) {
	switch name {
	case "grid":
		return grid(nodes), nil
	case "line":
		return line(nodes), nil
	case "tree", "tree2":
		return tree(2, nodes), nil
	case "tree3":
		return tree(3, nodes), nil
	case "tree4":
		return tree(4, nodes), nil
	case "total":
		return total(nodes), nil
	}
	return nil, fmt.Errorf("topology: %w", Check(name))
}

// grid lays the nodes out row-major in a square of side ⌈√n⌉ (the last row
// may be incomplete) and links each node to the cells below, above, right
// and left of it, in that order, skipping cells that hold no node.
func grid(nodes []string) map[string][]string {
	n := len(nodes)
	side := 0
	for side*side < n {
		side++
	}
	// at returns the node in row r, column c, or "" and false if there is none.
	at := func(r, c int) (string, bool) {
		if r < 0 || c < 0 || c >= side {
			return "", false
		}
		i := r*side + c
		if i >= n {
			return "", false
		}
		return nodes[i], true
	}
	topo := make(map[string][]string, n)
	for i, node := range nodes {
		r, c := i/side, i%side
		nbrs := []string{}
		for _, d := range [...][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			if nb, ok := at(r+d[0], c+d[1]); ok {
				nbrs = append(nbrs, nb)
			}
		}
		topo[node] = nbrs
	}
	return topo
}

// line links every node to its predecessor and successor in list order.
// The two ends have one neighbour each; fewer than two nodes give {}.
func line(nodes []string) map[string][]string {
	n := len(nodes)
	topo := make(map[string][]string, n)
	if n < 2 {
		return topo
	}
	for i, node := range nodes {
		switch i {
		case 0:
			topo[node] = []string{nodes[1]}
		case n - 1:
			topo[node] = []string{nodes[n-2]}
		default:
			topo[node] = []string{nodes[i-1], nodes[i+1]}
		}
	}
	return topo
}

// total links every node to every other node, in list order.
func total(nodes []string) map[string][]string {
	topo := make(map[string][]string, len(nodes))
	for _, node := range nodes {
		others := make([]string, 0, len(nodes))
		for _, o := range nodes {
			if o != node {
				others = append(others, o)
			}
		}
		topo[node] = others
	}
	return topo
}

// tree cuts the node list into tiers of 1, b, b², … nodes (the last tier
// may be short). The j-th node of a tier is the parent of nodes j·b …
// j·b+b−1 of the next tier. A node's neighbours are its parent, if any,
// followed by its children in order.
func tree(b int, nodes []string) map[string][]string {
	topo := make(map[string][]string, len(nodes))
	for _, node := range nodes {
		topo[node] = []string{}
	}
	// start is the index in nodes of the first node of the current tier;
	// size is that tier's full width.
	for start, size := 0, 1; start < len(nodes); start, size = start+size, size*b {
		next := start + size // first node of the tier below
		for j := 0; j < size && start+j < len(nodes); j++ {
			parent := nodes[start+j]
			for k := next + j*b; k < next+(j+1)*b && k < len(nodes); k++ {
				child := nodes[k]
				topo[parent] = append(topo[parent], child)
				topo[child] = append(topo[child], parent)
			}
		}
	}
	return topo
}
