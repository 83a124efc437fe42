package topology

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// ids returns prefix+first … prefix+(first+n−1).
func ids(prefix string, first, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, first+i)
	}
	return out
}

func TestGridFiveNodesMatchesSpecExample(t *testing.T) {
	got, err := Build("grid", ids("n", 1, 5))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"n1": {"n4", "n2"},
		"n2": {"n5", "n3", "n1"},
		"n3": {"n2"},
		"n4": {"n1", "n5"},
		"n5": {"n2", "n4"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grid(5) = %v, want %v", got, want)
	}
}

func TestGridNineNodesIsAFullSquare(t *testing.T) {
	got, _ := Build("grid", ids("n", 0, 9))
	// Centre cell (1,1) = n4 has all four neighbours in down, up, right, left order.
	if want := []string{"n7", "n1", "n5", "n3"}; !slices.Equal(got["n4"], want) {
		t.Errorf("grid(9)[n4] = %v, want %v", got["n4"], want)
	}
	// Corner (2,2) = n8: up, left.
	if want := []string{"n5", "n7"}; !slices.Equal(got["n8"], want) {
		t.Errorf("grid(9)[n8] = %v, want %v", got["n8"], want)
	}
}

func TestTree4TwentyFiveNodesMatchesSpecExample(t *testing.T) {
	got, err := Build("tree4", ids("n", 0, 25))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"n0": ids("n", 1, 4)}
	// n1…n4 have parent n0 and four children each, filling n5…n20.
	for i := 1; i <= 4; i++ {
		want[fmt.Sprintf("n%d", i)] = append([]string{"n0"}, ids("n", 1+4*i, 4)...)
	}
	// n5 is the only third-tier node with children: the short last tier n21…n24.
	want["n5"] = []string{"n1", "n21", "n22", "n23", "n24"}
	for i := 6; i <= 20; i++ {
		want[fmt.Sprintf("n%d", i)] = []string{fmt.Sprintf("n%d", (i-5)/4+1)}
	}
	for i := 21; i <= 24; i++ {
		want[fmt.Sprintf("n%d", i)] = []string{"n5"}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree4(25) =\n%v\nwant\n%v", got, want)
	}
}

func TestTreeIsTree2(t *testing.T) {
	nodes := ids("n", 0, 7)
	a, _ := Build("tree", nodes)
	b, _ := Build("tree2", nodes)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("tree %v differs from tree2 %v", a, b)
	}
	want := map[string][]string{
		"n0": {"n1", "n2"},
		"n1": {"n0", "n3", "n4"},
		"n2": {"n0", "n5", "n6"},
		"n3": {"n1"}, "n4": {"n1"}, "n5": {"n2"}, "n6": {"n2"},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("tree2(7) = %v, want %v", a, want)
	}
}

func TestTree3PartialLastTier(t *testing.T) {
	got, _ := Build("tree3", ids("n", 0, 6))
	want := map[string][]string{
		"n0": {"n1", "n2", "n3"},
		"n1": {"n0", "n4", "n5"},
		"n2": {"n0"}, "n3": {"n0"}, "n4": {"n1"}, "n5": {"n1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree3(6) = %v, want %v", got, want)
	}
}

func TestLine(t *testing.T) {
	got, _ := Build("line", []string{"a", "b", "c", "d"})
	want := map[string][]string{"a": {"b"}, "b": {"a", "c"}, "c": {"b", "d"}, "d": {"c"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("line(4) = %v, want %v", got, want)
	}
	for _, nodes := range [][]string{nil, {"a"}} {
		got, err := Build("line", nodes)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("line(%v) = %v, %v; want empty non-nil map", nodes, got, err)
		}
	}
}

func TestTotal(t *testing.T) {
	got, _ := Build("total", []string{"a", "b", "c"})
	want := map[string][]string{"a": {"b", "c"}, "b": {"a", "c"}, "c": {"a", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("total(3) = %v, want %v", got, want)
	}
}

func TestSingleNodeHasEmptyNeighbourList(t *testing.T) {
	for _, name := range []string{"grid", "tree", "tree3", "total"} {
		got, _ := Build(name, []string{"n0"})
		if nb, ok := got["n0"]; !ok || nb == nil || len(nb) != 0 {
			t.Errorf("%s(1) = %#v, want n0 → []", name, got)
		}
	}
}

// TestEveryTopologyIsSymmetricAndCoversAllNodes checks the invariants all
// topologies share: each listed edge appears both ways, nobody is its own
// neighbour, no neighbour repeats, and (except short lines) every node has
// an entry.
func TestEveryTopologyIsSymmetricAndCoversAllNodes(t *testing.T) {
	for _, name := range Names() {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 10, 16, 25, 26} {
			nodes := ids("n", 0, n)
			topo, err := Build(name, nodes)
			if err != nil {
				t.Fatal(err)
			}
			wantEntries := n
			if name == "line" && n < 2 {
				wantEntries = 0
			}
			if len(topo) != wantEntries {
				t.Errorf("%s(%d): %d entries, want %d", name, n, len(topo), wantEntries)
			}
			for a, nbrs := range topo {
				seen := map[string]bool{}
				for _, b := range nbrs {
					if a == b {
						t.Errorf("%s(%d): %s is its own neighbour", name, n, a)
					}
					if seen[b] {
						t.Errorf("%s(%d): %s lists %s twice", name, n, a, b)
					}
					seen[b] = true
					if !slices.Contains(topo[b], a) {
						t.Errorf("%s(%d): %s→%s but not %s→%s", name, n, a, b, b, a)
					}
				}
			}
			// Connected: everyone reachable from the first node.
			if wantEntries > 0 {
				reached := map[string]bool{nodes[0]: true}
				queue := []string{nodes[0]}
				for len(queue) > 0 {
					x := queue[0]
					queue = queue[1:]
					for _, y := range topo[x] {
						if !reached[y] {
							reached[y] = true
							queue = append(queue, y)
						}
					}
				}
				if len(reached) != n {
					t.Errorf("%s(%d): only %d nodes reachable", name, n, len(reached))
				}
			}
		}
	}
}

func TestUnknownTopologyListsValidNames(t *testing.T) {
	_, err := Build("ring", ids("n", 0, 3))
	if err == nil {
		t.Fatal("Build(ring) succeeded, want error")
	}
	for _, name := range Names() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not mention %q", err, name)
		}
	}
}

func TestNamesReturnsACopy(t *testing.T) {
	a := Names()
	a[0] = "mangled"
	if Names()[0] != "grid" {
		t.Error("Names shares its backing array with callers")
	}
}
