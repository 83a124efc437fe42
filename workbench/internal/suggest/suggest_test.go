package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"node-cont", "node-count", 1},
		{"lin-vk", "lin-kv", 2},
		{"tést", "test", 1}, // runes, not bytes
	} {
		if got := distance(c.a, c.b); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := distance(c.b, c.a); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	flags := []string{"node", "node-count", "nodes", "nodes-file", "nemesis", "nemesis-interval", "rate", "time-limit"}
	for _, c := range []struct {
		word string
		want string // "" for no suggestion
	}{
		{"node-cont", "node-count"},         // one letter missing
		{"noed-count", "node-count"},        // transposition: distance 2
		{"nemesis-int", "nemesis-interval"}, // prefix, far in edit distance
		{"TIME-LIMIT", "time-limit"},        // case ignored
		{"rates", "rate"},
		{"nodez", "node"}, // distance 1 to node and to nodes: listed first wins
		{"frobnicate", ""},
		{"", ""},
		{"x", ""}, // distance 2 would match nothing of length ≤ 3 here; no prefix either
	} {
		got, ok := Closest(c.word, flags)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Closest(%q) = %q, %v; want %q", c.word, got, ok, c.want)
		}
	}
	// Challenge ids are short: a near id is offered, a far one is not.
	ids := []string{"1", "2", "3a", "3b", "3c", "3d", "3e", "4", "5a", "5b", "5c", "6a", "6b", "6c"}
	if got, ok := Closest("3f", ids); !ok || got != "3a" {
		t.Errorf("Closest(3f) = %q, %v; want 3a, the first at distance 1", got, ok)
	}
	if got, ok := Closest("9z", ids); ok {
		t.Errorf("Closest(9z) offered %q; two letters both wrong is no near miss", got)
	}
	if got, ok := Closest("3", ids); !ok || got != "3a" {
		t.Errorf("Closest(3) = %q, %v; want 3a, the first it is a prefix of", got, ok)
	}
	if got, ok := Closest("echo", ids); ok {
		t.Errorf("Closest(echo) offered %q", got)
	}
}
