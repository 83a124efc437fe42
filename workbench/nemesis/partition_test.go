package nemesis

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
)

func nodeIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%d", i)
	}
	return out
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// hears returns the senders receiver still hears from, itself included.
func hears(g Grudge, nodes []string, receiver string) []string {
	var out []string
	for _, s := range nodes {
		if !g.Drops(receiver, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkWellFormed asserts the properties every grudge from Partition has:
// an entry per node, sorted senders that are known nodes, no self-drops.
func checkWellFormed(t *testing.T, spec string, nodes []string, g Grudge) {
	t.Helper()
	if len(g) != len(nodes) {
		t.Errorf("%s(%d): %d entries, want one per node: %v", spec, len(nodes), len(g), g)
	}
	for r, senders := range g {
		if !slices.Contains(nodes, r) {
			t.Errorf("%s: unknown receiver %q", spec, r)
		}
		if senders == nil || !slices.IsSorted(senders) {
			t.Errorf("%s: senders of %s not a sorted non-nil list: %#v", spec, r, senders)
		}
		for _, s := range senders {
			if s == r || !slices.Contains(nodes, s) {
				t.Errorf("%s: %s drops %q", spec, r, s)
			}
		}
	}
}

// isSymmetric reports whether a drops b exactly when b drops a.
func isSymmetric(g Grudge, nodes []string) bool {
	for _, a := range nodes {
		for _, b := range nodes {
			if g.Drops(a, b) != g.Drops(b, a) {
				return false
			}
		}
	}
	return true
}

// components returns the groups of mutually-hearing nodes of a complete
// (symmetric, transitive) grudge, as sorted sizes.
func componentSizes(t *testing.T, g Grudge, nodes []string) []int {
	t.Helper()
	seen := map[string]bool{}
	var sizes []int
	for _, a := range nodes {
		if seen[a] {
			continue
		}
		comp := hears(g, nodes, a)
		for _, b := range comp {
			if seen[b] {
				t.Fatalf("grudge is not a partition into components: %v", g)
			}
			seen[b] = true
			if !slices.Equal(hears(g, nodes, b), comp) {
				t.Fatalf("%s and %s hear different groups: %v", a, b, g)
			}
		}
		sizes = append(sizes, len(comp))
	}
	slices.Sort(sizes)
	return sizes
}

func TestOneIsolatesExactlyOneNode(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 9} {
		nodes := nodeIDs(n)
		for seed := range uint64(20) {
			g, err := Partition(One, nodes, newRand(seed))
			if err != nil {
				t.Fatal(err)
			}
			checkWellFormed(t, One, nodes, g)
			if !isSymmetric(g, nodes) {
				t.Fatalf("one(%d) not symmetric: %v", n, g)
			}
			want := []int{1, n - 1}
			if n == 1 {
				want = []int{1}
			}
			if got := componentSizes(t, g, nodes); !slices.Equal(got, want) {
				t.Fatalf("one(%d) components %v, want %v: %v", n, got, want, g)
			}
		}
	}
}

func TestOnePicksDifferentNodes(t *testing.T) {
	nodes := nodeIDs(5)
	loners := map[string]bool{}
	for seed := range uint64(50) {
		g, _ := Partition(One, nodes, newRand(seed))
		for r, s := range g {
			if len(s) == len(nodes)-1 {
				loners[r] = true
			}
		}
	}
	if len(loners) != len(nodes) {
		t.Errorf("over 50 seeds only %v were isolated", loners)
	}
}

func TestMajoritySplitsInHalfSmallerSideFirst(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 10} {
		nodes := nodeIDs(n)
		g, err := Partition(Majority, nodes, newRand(uint64(n)))
		if err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, Majority, nodes, g)
		if !isSymmetric(g, nodes) {
			t.Fatalf("majority(%d) not symmetric: %v", n, g)
		}
		want := []int{n / 2, n - n/2}
		if n/2 == 0 {
			want = []int{n}
		}
		if got := componentSizes(t, g, nodes); !slices.Equal(got, want) {
			t.Errorf("majority(%d) components %v, want %v", n, got, want)
		}
	}
}

func TestMinorityThird(t *testing.T) {
	cases := []struct{ n, cut int }{{1, 0}, {2, 0}, {3, 0}, {4, 1}, {5, 1}, {7, 2}, {10, 3}, {25, 8}}
	for _, c := range cases {
		nodes := nodeIDs(c.n)
		g, err := Partition(MinorityThird, nodes, newRand(7))
		if err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, MinorityThird, nodes, g)
		if !isSymmetric(g, nodes) {
			t.Fatalf("minority-third(%d) not symmetric", c.n)
		}
		want := []int{c.cut, c.n - c.cut}
		if c.cut == 0 {
			want = []int{c.n}
			for r, s := range g {
				if len(s) != 0 {
					t.Errorf("minority-third(%d) should be a no-op, %s drops %v", c.n, r, s)
				}
			}
		}
		if got := componentSizes(t, g, nodes); !slices.Equal(got, want) {
			t.Errorf("minority-third(%d) components %v, want %v", c.n, got, want)
		}
	}
}

// checkMajoritiesRing asserts the defining property: every node hears a
// majority (itself included) and, if distinct, no two nodes hear the same
// set. Only the perfect ring (n ≤ 5) guarantees distinct majorities; the
// stochastic construction aims for it but, like Jepsen's, may repeat one.
func checkMajoritiesRing(t *testing.T, nodes []string, g Grudge, distinct bool) {
	t.Helper()
	checkWellFormed(t, MajoritiesRing, nodes, g)
	m := majority(len(nodes))
	seen := map[string]string{}
	for _, r := range nodes {
		h := hears(g, nodes, r)
		if len(h) < m {
			t.Errorf("%s hears only %v, want ≥ %d nodes", r, h, m)
		}
		key := strings.Join(h, ",")
		if other, dup := seen[key]; dup && distinct {
			t.Errorf("%s and %s hear the same majority %v", r, other, h)
		}
		seen[key] = r
	}
}

func TestMajoritiesRingFiveNodesHearOnlyRingNeighbours(t *testing.T) {
	nodes := nodeIDs(5)
	for seed := range uint64(20) {
		g, err := Partition(MajoritiesRing, nodes, newRand(seed))
		if err != nil {
			t.Fatal(err)
		}
		checkMajoritiesRing(t, nodes, g, true)
		if !isSymmetric(g, nodes) {
			t.Fatalf("5-node ring not symmetric: %v", g)
		}
		// Each node hears exactly itself and two others, and following
		// "hears" links from n0 walks a single 5-cycle.
		prev, cur := "", "n0"
		visited := map[string]bool{}
		for range 5 {
			h := hears(g, nodes, cur)
			if len(h) != 3 {
				t.Fatalf("%s hears %v, want itself and two ring neighbours", cur, h)
			}
			visited[cur] = true
			next := ""
			for _, x := range h {
				if x != cur && x != prev {
					next = x
					break
				}
			}
			prev, cur = cur, next
		}
		if len(visited) != 5 || cur != "n0" {
			t.Fatalf("hearing links do not form one 5-ring: %v", g)
		}
	}
}

func TestMajoritiesRingFourNodesLoseOnlyTheOppositeNode(t *testing.T) {
	nodes := nodeIDs(4)
	for seed := range uint64(20) {
		g, _ := Partition(MajoritiesRing, nodes, newRand(seed))
		checkMajoritiesRing(t, nodes, g, true)
		for r, s := range g {
			if len(s) != 1 {
				t.Fatalf("%s drops %v, want exactly one node", r, s)
			}
			if opp := s[0]; !slices.Equal(g[opp], []string{r}) {
				t.Fatalf("%s drops %s but %s drops %v: not opposite pairs", r, opp, opp, g[opp])
			}
		}
	}
}

func TestMajoritiesRingThreeNodesIsOneDirectional(t *testing.T) {
	nodes := nodeIDs(3)
	for seed := range uint64(20) {
		g, _ := Partition(MajoritiesRing, nodes, newRand(seed))
		checkMajoritiesRing(t, nodes, g, true)
		// Each node drops exactly one node, and the dropped-by relation is
		// a 3-cycle: a drops b, b drops c, c drops a. Then nobody is dropped
		// back by the node it drops.
		for r, s := range g {
			if len(s) != 1 {
				t.Fatalf("%s drops %v, want one node", r, s)
			}
			if g.Drops(s[0], r) {
				t.Fatalf("%s and %s drop each other; want one-directional: %v", r, s[0], g)
			}
		}
		if isSymmetric(g, nodes) {
			t.Fatalf("3-node ring is symmetric: %v", g)
		}
	}
}

func TestMajoritiesRingTwoOrFewerIsNoOp(t *testing.T) {
	for _, n := range []int{1, 2} {
		nodes := nodeIDs(n)
		g, _ := Partition(MajoritiesRing, nodes, newRand(1))
		checkWellFormed(t, MajoritiesRing, nodes, g)
		for r, s := range g {
			if len(s) != 0 {
				t.Errorf("ring(%d): %s drops %v", n, r, s)
			}
		}
	}
}

func TestMajoritiesRingStochasticLargeClusters(t *testing.T) {
	for _, n := range []int{6, 7, 8, 9, 13, 25} {
		nodes := nodeIDs(n)
		for seed := range uint64(5) {
			g, err := Partition(MajoritiesRing, nodes, newRand(seed))
			if err != nil {
				t.Fatal(err)
			}
			checkMajoritiesRing(t, nodes, g, false)
			if !isSymmetric(g, nodes) {
				t.Fatalf("stochastic ring(%d) not symmetric: %v", n, g)
			}
			// Nobody hears everyone: the algorithm links least-connected
			// nodes first, so no node should end up fully connected.
			for r := range g {
				if len(g[r]) == 0 {
					t.Errorf("ring(%d) seed %d: %s hears everyone", n, seed, r)
				}
			}
		}
	}
}

func TestPartitionIsDeterministicBySeed(t *testing.T) {
	nodes := nodeIDs(9)
	for _, spec := range Specs() {
		a, _ := Partition(spec, nodes, newRand(42))
		b, _ := Partition(spec, nodes, newRand(42))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs for the same seed: %v vs %v", spec, a, b)
		}
	}
	// And different seeds do produce different cuts (for some seed).
	base, _ := Partition(Majority, nodes, newRand(0))
	differs := false
	for seed := uint64(1); seed < 10 && !differs; seed++ {
		g, _ := Partition(Majority, nodes, newRand(seed))
		differs = !reflect.DeepEqual(base, g)
	}
	if !differs {
		t.Error("majority gives the same cut for ten seeds")
	}
}

func TestPartitionErrors(t *testing.T) {
	if _, err := Partition("bridge", nodeIDs(3), newRand(1)); err == nil || !strings.Contains(err.Error(), "majorities-ring") {
		t.Errorf("unknown spec: err = %v, want one listing valid specs", err)
	}
	if _, err := Partition(One, nodeIDs(3), nil); err == nil {
		t.Error("nil rng accepted")
	}
	for _, spec := range Specs() {
		g, err := Partition(spec, nil, newRand(1))
		if err != nil || len(g) != 0 {
			t.Errorf("%s over no nodes = %v, %v; want empty grudge", spec, g, err)
		}
	}
}

func TestDuplicateNodesCountOnce(t *testing.T) {
	g, _ := Partition(One, []string{"a", "b", "a", "c"}, newRand(3))
	checkWellFormed(t, One, []string{"a", "b", "c"}, g)
}

func TestSpecsOrder(t *testing.T) {
	want := []string{"one", "minority-third", "majority", "majorities-ring"}
	if got := Specs(); !slices.Equal(got, want) {
		t.Errorf("Specs() = %v, want %v", got, want)
	}
}

func TestRandomPartitionUsesEverySpec(t *testing.T) {
	nodes := nodeIDs(5)
	rng := newRand(9)
	counts := map[string]int{}
	for range 400 {
		spec, g := RandomPartition(nodes, rng)
		counts[spec]++
		checkWellFormed(t, spec, nodes, g)
	}
	for _, s := range Specs() {
		if counts[s] < 60 { // expected 100 each
			t.Errorf("spec %s chosen %d/400 times: %v", s, counts[s], counts)
		}
	}
}

func TestGrudgeEDN(t *testing.T) {
	g := Grudge{"n2": {"n1"}, "n1": {"n2", "n3"}, "n3": {}}
	want := edn.Map{
		{Key: "n1", Val: edn.Set{"n2", "n3"}},
		{Key: "n2", Val: edn.Set{"n1"}},
		{Key: "n3", Val: edn.Set{}},
	}
	if got := g.EDN(); !reflect.DeepEqual(got, want) {
		t.Errorf("EDN() = %#v, want %#v", got, want)
	}
	iso := g.Isolated()
	if len(iso) != 2 || iso[0] != edn.Keyword("isolated") || !reflect.DeepEqual(iso[1], want) {
		t.Errorf("Isolated() = %#v", iso)
	}
	if !g.Drops("n1", "n3") || g.Drops("n3", "n1") || g.Drops("n4", "n1") {
		t.Error("Drops disagrees with the grudge")
	}
}

// GrudgeOf reads back what Isolated records, every receiver included,
// and refuses values that are not a :start-partition completion.
func TestGrudgeOfReadsIsolatedBack(t *testing.T) {
	_, g := RandomPartition([]string{"n0", "n1", "n2", "n3", "n4"}, newRand(5))
	back, ok := GrudgeOf(g.Isolated())
	if !ok || !reflect.DeepEqual(back, g) {
		t.Fatalf("GrudgeOf(%v.Isolated()) = %v, %v", g, back, ok)
	}
	for _, v := range []any{nil, Healed, edn.Vector{edn.Keyword("isolated")}, edn.Vector{edn.Keyword("isolated"), "n1"}} {
		if g, ok := GrudgeOf(v); ok || g != nil {
			t.Errorf("GrudgeOf(%#v) = %v, %v; want nothing", v, g, ok)
		}
	}
	for _, v := range []any{[]string{"n2", "n1"}, edn.Set{"n2", "n1"}, edn.Vector{"n2", 7, "n1"}, []any{"n2", "n1"}} {
		if got := NodesOf(v); !slices.Equal(got, []string{"n2", "n1"}) {
			t.Errorf("NodesOf(%#v) = %q, want [n2 n1]", v, got)
		}
	}
}
