package service

import (
	"encoding/json"
	"math"
	"testing"
)

func TestPrStrMatchesClojure(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "nil"},
		{true, "true"},
		{false, "false"},
		{json.Number("42"), "42"},
		{json.Number("-7"), "-7"},
		{json.Number("123456789012345678901234567890"), "123456789012345678901234567890"},
		{json.Number("1.5"), "1.5"},
		{json.Number("1.50"), "1.5"},
		{json.Number("1e2"), "100.0"},
		{json.Number("1.0"), "1.0"},
		{json.Number("0.001"), "0.001"},
		{json.Number("0.0001"), "1.0E-4"},
		{json.Number("1.5e-5"), "1.5E-5"},
		{json.Number("9999999.5"), "9999999.5"},
		{json.Number("1e7"), "1.0E7"},
		{json.Number("-2.5e20"), "-2.5E20"},
		{json.Number("-0.0"), "-0.0"},
		{json.Number("1e400"), "##Inf"},
		{int64(3), "3"},
		{2.0, "2.0"},
		{math.Inf(-1), "##-Inf"},
		{"plain", `"plain"`},
		{"q\"b\\n\nt\tr\r", `"q\"b\\n\nt\tr\r"`},
		{"ünï", `"ünï"`},
		{[]any{}, "[]"},
		{[]any{json.Number("1"), "a", nil, []any{true}}, `[1 "a" nil [true]]`},
		{map[string]any{}, "{}"},
		{map[string]any{"z": json.Number("1"), "a": []any{"x"}}, `{"a" ["x"], "z" 1}`},
	}
	for _, c := range cases {
		if got := prStr(c.in); got != c.want {
			t.Errorf("prStr(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestStrLeavesStringsBare(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{"b", "b"},
		{`say "hi"`, `say "hi"`},
		{nil, ""},
		{json.Number("4"), "4"},
		{[]any{"a"}, `["a"]`},
	}
	for _, c := range cases {
		if got := str(c.in); got != c.want {
			t.Errorf("str(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}
