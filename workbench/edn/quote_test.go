package edn

import "testing"

func TestQuoteEscapesLikePrStr(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:     `"plain"`,
		"a\"b\\c":   `"a\"b\\c"`,
		"n\nt\tr\r": `"n\nt\tr\r"`,
		"f\fb\b":    `"f\fb\b"`,
		"bell\a":    `"bell\u0007"`,
		"ünïcode ✓": `"ünïcode ✓"`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPath(t *testing.T) {
	m := K("net", K("servers", K("msgs-per-op", 1.5)), "q", Map{{Key: 0.5, Val: 88}})
	if v, ok := m.Path("net", "servers", "msgs-per-op"); !ok || v != 1.5 {
		t.Errorf("Path = %v, %v", v, ok)
	}
	if v, ok := m.Path("q", 0.5); !ok || v != 88 {
		t.Errorf("non-keyword key: %v, %v", v, ok)
	}
	for _, p := range [][]any{{"net", "clients"}, {"net", "servers", "msgs-per-op", "deeper"}, {"nope"}} {
		if v, ok := m.Path(p...); ok {
			t.Errorf("Path(%v) = %v, want missing", p, v)
		}
	}
}
