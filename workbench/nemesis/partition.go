package nemesis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/edn"
)

// The four partition specs follow Jepsen's nemesis as Maelstrom uses it
// (Jepsen 0.3.7: jepsen/nemesis/combined.clj, partition-package, and the
// grudges of jepsen/nemesis.clj), with n nodes and majority(n) = ⌊n/2⌋+1:
//
//	one              isolate one random node from all the others
//	majority         split a shuffled list into ⌊n/2⌋ nodes and the rest
//	minority-third   split off ⌊(n−1)/3⌋ shuffled nodes (none when n ≤ 3)
//	majorities-ring  every node still hears a majority, but (by design, and
//	                 guaranteed for n ≤ 5) no two nodes hear the same one

// Grudge says which messages a partition drops: it maps a receiving node
// to the sorted list of senders whose messages it discards. A receiver
// that is absent, or present with an empty list, drops nothing. Grudges
// built by Partition have an entry for every node, as Jepsen's do, so the
// value recorded in the history names every node.
type Grudge map[string][]string

// Drops reports whether receiver discards messages from sender.
func (g Grudge) Drops(receiver, sender string) bool {
	_, found := slices.BinarySearch(g[receiver], sender)
	return found
}

// EDN returns the grudge as Maelstrom prints it in a history,
// {"n1" #{"n2" "n3"}, …}, with receivers in sorted order.
func (g Grudge) EDN() edn.Map {
	receivers := make([]string, 0, len(g))
	for r := range g {
		receivers = append(receivers, r)
	}
	slices.Sort(receivers)
	m := make(edn.Map, 0, len(g))
	for _, r := range receivers {
		senders := make(edn.Set, len(g[r]))
		for i, s := range g[r] {
			senders[i] = s
		}
		m = append(m, edn.Entry{Key: r, Val: senders})
	}
	return m
}

// Isolated returns the :value of a :start-partition completion,
// [:isolated <grudge>].
func (g Grudge) Isolated() edn.Vector {
	return edn.Vector{edn.Keyword("isolated"), g.EDN()}
}

// GrudgeOf reads a :start-partition completion's value back into a
// grudge: the inverse of Isolated, [:isolated {"n1" #{"n2"}, …}], with
// every receiver it names and each one's senders sorted. ok is false
// when v is not such a value.
func GrudgeOf(v any) (g Grudge, ok bool) {
	vec, ok := v.(edn.Vector)
	if !ok || len(vec) != 2 {
		return nil, false
	}
	m, ok := vec[1].(edn.Map)
	if !ok {
		return nil, false
	}
	g = Grudge{}
	for _, e := range m {
		r, ok := e.Key.(string)
		if !ok {
			continue
		}
		senders := NodesOf(e.Val)
		slices.Sort(senders)
		g[r] = senders
	}
	return g, true
}

// NodesOf reads a list of node ids from a nemesis operation's value (the
// targets of a kill or pause, the senders of a grudge): the strings of a
// []string, an EDN set or vector, or a []any, in their order.
func NodesOf(v any) []string {
	var items []any
	switch v := v.(type) {
	case []string:
		return slices.Clone(v)
	case edn.Set:
		items = v
	case edn.Vector:
		items = v
	case []any:
		items = v
	}
	var out []string
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Healed is the :value of a :stop-partition completion.
const Healed = edn.Keyword("network-healed")

// The partition specs, by name.
const (
	One            = "one"
	MinorityThird  = "minority-third"
	Majority       = "majority"
	MajoritiesRing = "majorities-ring"
)

// specs is the order Maelstrom draws specs from.
var specs = [...]string{One, MinorityThird, Majority, MajoritiesRing}

// Specs returns the partition specs in Maelstrom's order: one,
// minority-third, majority, majorities-ring. The caller may modify the
// returned slice.
func Specs() []string { return append([]string(nil), specs[:]...) }

// Partition computes the grudge for one partition spec over nodes (the
// test's server ids). Duplicate ids count once. Every node gets an entry
// in the grudge; with no nodes the grudge is empty.
//
// The shapes, for n nodes:
//   - one: a random node and everyone else cannot hear each other.
//   - majority: the shuffled nodes split into ⌊n/2⌋ and the rest; the two
//     sides cannot hear each other.
//   - minority-third: likewise, splitting off ⌊(n−1)/3⌋ nodes, so nothing
//     is cut for n ≤ 3, one node for n = 5 and eight for n = 25.
//   - majorities-ring, n ≤ 5: the shuffled nodes form a ring; each node
//     hears only the majority(n) consecutive ring positions it is the
//     middle of (offset ⌊m/2⌋). For n = 5 that is a node's two ring
//     neighbours; for n = 4 each node loses only the opposite node; for
//     n = 3 the cut is one-directional (each node hears its predecessor
//     but not its successor); for n ≤ 2 nothing is cut.
//   - majorities-ring, n > 5: a random symmetric graph built by repeatedly
//     linking a least-connected node to another least-connected node it is
//     not linked to yet, until every node (counting itself) is linked to a
//     majority; each node drops everyone it is not linked to. As in
//     Jepsen, two nodes may occasionally end up hearing the same majority.
//
// Partition returns an error for an unknown spec or a nil rng.
func Partition(spec string, nodes []string, rng *rand.Rand) (Grudge, error) {
	if rng == nil {
		return nil, errors.New("nemesis: Partition needs a random source, got nil")
	}
	nodes = distinct(nodes)
	switch spec {
	case One:
		if len(nodes) == 0 {
			return Grudge{}, nil
		}
		loner := nodes[rng.IntN(len(nodes))]
		rest := slices.DeleteFunc(slices.Clone(nodes), func(x string) bool { return x == loner })
		return completeGrudge([]string{loner}, rest), nil
	case Majority:
		shuffled := shuffle(nodes, rng)
		half := len(shuffled) / 2
		return completeGrudge(shuffled[:half], shuffled[half:]), nil
	case MinorityThird:
		shuffled := shuffle(nodes, rng)
		k := max(0, (len(shuffled)-1)/3)
		return completeGrudge(shuffled[:k], shuffled[k:]), nil
	case MajoritiesRing:
		if len(nodes) <= 5 {
			return perfectRing(nodes, rng), nil
		}
		return stochasticRing(nodes, rng), nil
	}
	return nil, fmt.Errorf("nemesis: unknown partition spec %q (valid: %s)", spec, strings.Join(specs[:], ", "))
}

// RandomPartition picks one of Specs uniformly at random, as each
// :start-partition does, and returns it with its grudge over nodes.
// rng must not be nil.
func RandomPartition(nodes []string, rng *rand.Rand) (spec string, g Grudge) {
	spec = specs[rng.IntN(len(specs))]
	g, err := Partition(spec, nodes, rng)
	if err != nil {
		// Unreachable: spec is valid and rng is not nil.
		panic(err)
	}
	return spec, g
}

// majority is the smallest number of nodes that is more than half of n.
func majority(n int) int { return n/2 + 1 }

// distinct returns nodes without repeats, keeping first occurrences.
func distinct(nodes []string) []string {
	seen := make(map[string]bool, len(nodes))
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// shuffle returns a shuffled copy of nodes.
func shuffle(nodes []string, rng *rand.Rand) []string {
	out := slices.Clone(nodes)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// completeGrudge cuts every link between different components: each node
// drops every node outside its own component.
func completeGrudge(components ...[]string) Grudge {
	g := Grudge{}
	for i, comp := range components {
		var outside []string
		for j, other := range components {
			if j != i {
				outside = append(outside, other...)
			}
		}
		slices.Sort(outside)
		for _, node := range comp {
			g[node] = append([]string{}, outside...)
		}
	}
	return g
}

// dropAllBut returns the sorted nodes that are not in keep.
func dropAllBut(nodes []string, keep map[string]bool) []string {
	out := []string{}
	for _, n := range nodes {
		if !keep[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// perfectRing is majorities-ring for n ≤ 5. The nodes are shuffled into a
// ring; for each of the n windows of m = majority(n) consecutive positions,
// the node in the middle of the window hears only the window. Each node is
// the middle of exactly one window.
func perfectRing(nodes []string, rng *rand.Rand) Grudge {
	ring := shuffle(nodes, rng)
	n, m := len(ring), majority(len(ring))
	g := make(Grudge, n)
	for start := range n {
		window := make(map[string]bool, m)
		for k := range m {
			window[ring[(start+k)%n]] = true
		}
		middle := ring[(start+m/2)%n]
		g[middle] = dropAllBut(nodes, window)
	}
	return g
}

// stochasticRing is majorities-ring for n > 5. Starting from every node
// linked only to itself, it repeatedly takes a least-linked node a (ties
// broken at random) and links it both ways to the first node, in order of
// increasing link count with ties at random, that a is not yet linked to;
// it stops when every node is linked to a majority. Each node then drops
// every node it is not linked to, so the grudge is symmetric.
func stochasticRing(nodes []string, rng *rand.Rand) Grudge {
	m := majority(len(nodes))
	links := make(map[string]map[string]bool, len(nodes))
	for _, n := range nodes {
		links[n] = map[string]bool{n: true}
	}
	for {
		// Nodes by increasing link count; a shuffle first makes ties random.
		order := shuffle(nodes, rng)
		slices.SortStableFunc(order, func(x, y string) int { return len(links[x]) - len(links[y]) })
		a := order[0]
		if len(links[a]) >= m {
			break
		}
		for _, b := range order {
			if !links[a][b] {
				links[a][b] = true
				links[b][a] = true
				break
			}
		}
	}
	g := make(Grudge, len(nodes))
	for _, n := range nodes {
		g[n] = dropAllBut(nodes, links[n])
	}
	return g
}
