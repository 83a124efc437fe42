package history

import (
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
)

func TestEqualFollowsClojure(t *testing.T) {
	eq := [][2]any{
		{int64(3), json.Number("3")},
		{3, json.Number("3")},
		{[]any{1, "a"}, []any{json.Number("1"), "a"}},
		{map[string]any{"a": 1}, map[string]any{"a": json.Number("1")}},
		{nil, nil},
	}
	for _, c := range eq {
		if !Equal(c[0], c[1]) {
			t.Errorf("%#v ≠ %#v, want equal", c[0], c[1])
		}
	}
	ne := [][2]any{
		{json.Number("1"), json.Number("1.0")},
		{1, 1.0},
		{"1", 1},
		{[]any{1, 2}, []any{2, 1}},
		{nil, false},
	}
	for _, c := range ne {
		if Equal(c[0], c[1]) {
			t.Errorf("%#v = %#v, want different", c[0], c[1])
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b any
		want int
	}{
		{1, 2, -1},
		{json.Number("10"), int64(9), 1},
		{json.Number("2.5"), 2, 1},
		{"b", "a", 1},
		{[]any{1, 2}, []any{1}, 1},
		{[]any{1, 3}, []any{1, 2}, 1},
		{nil, 1, -1},
		{1, nil, 1},
		{false, true, -1},
	}
	for _, c := range cases {
		got, err := Compare(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("Compare(%v, %v) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	for _, c := range [][2]any{{1, "1"}, {map[string]any{}, map[string]any{}}, {true, 1}} {
		if _, err := Compare(c[0], c[1]); err == nil {
			t.Errorf("Compare(%v, %v) should fail: not comparable", c[0], c[1])
		}
	}
}

func TestPairsMatchesByProcess(t *testing.T) {
	ops := []Op{
		{Index: 0, Type: Invoke, Process: 0, F: "read"},
		{Index: 1, Type: Invoke, Process: 1, F: "add"},
		{Index: 2, Type: Info, Process: NemesisProcess, F: "start-partition"},
		{Index: 3, Type: OK, Process: 1, F: "add"},
		{Index: 4, Type: Invoke, Process: 2, F: "read"},
		{Index: 5, Type: Fail, Process: 0, F: "read"},
	}
	ps := Pairs(ops)
	if len(ps) != 3 || ps[0].Complete.Index != 5 || ps[1].Complete.Index != 3 || ps[2].Complete != nil {
		t.Errorf("pairs = %+v", ps)
	}
}

// Key's fast path for integers gives exactly the canonical text.
func TestKeyFastPathMatchesSlowKey(t *testing.T) {
	for _, v := range []any{
		0, -7, int64(1 << 40), int32(5), json.Number("12"), json.Number("-0"), json.Number("007"),
		json.Number("+5"), json.Number("1e2"), json.Number("1.5"), json.Number("99999999999999999999"),
		uint64(1 << 63), 1.0, 2.5, "x", "a<b", nil, true, []any{1, "a"}, map[string]any{"k": 1},
		edn.Keyword("kw"),
	} {
		if got, want := Key(v), slowKey(v); got != want {
			t.Errorf("Key(%#v) = %q, slowKey = %q", v, got, want)
		}
	}
}
