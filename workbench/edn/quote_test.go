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
