package gset

import (
	"encoding/json"
	"testing"
)

// Equal elements spelled differently on the wire are one element.
func TestKeyOfIsCanonical(t *testing.T) {
	same := [][2]string{
		{`"a<b"`, `"a\u003cb"`},
		{`{"x":1,"y":2}`, `{ "y":2, "x":1 }`},
		{`[1, 2]`, `[1,2]`},
	}
	for _, p := range same {
		a, err1 := keyOf(json.RawMessage(p[0]))
		b, err2 := keyOf(json.RawMessage(p[1]))
		if err1 != nil || err2 != nil || a != b {
			t.Errorf("keyOf(%s) = %q, keyOf(%s) = %q; want equal", p[0], a, p[1], b)
		}
	}
	for _, p := range [][2]string{{`1`, `1.0`}, {`"1"`, `1`}} {
		a, _ := keyOf(json.RawMessage(p[0]))
		b, _ := keyOf(json.RawMessage(p[1]))
		if a == b {
			t.Errorf("keyOf(%s) = keyOf(%s) = %q; Maelstrom tells them apart", p[0], p[1], a)
		}
	}
}
