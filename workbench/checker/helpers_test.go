package checker

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// builder assembles a history: each op gets the next index and the current
// time, then time advances by step (1 ms unless changed).
type builder struct {
	ops  []history.Op
	now  int64 // ns
	step int64 // ns
}

func newBuilder() *builder { return &builder{step: 1_000_000} }

// at sets the time of the next op, in milliseconds.
func (b *builder) at(ms int64) *builder { b.now = ms * 1_000_000; return b }

func (b *builder) add(t history.Type, p int, f string, v any) *builder {
	b.ops = append(b.ops, history.Op{Index: len(b.ops), Time: b.now, Type: t, Process: p, F: f, Value: v})
	b.now += b.step
	return b
}

func (b *builder) inv(p int, f string, v any) *builder  { return b.add(history.Invoke, p, f, v) }
func (b *builder) ok(p int, f string, v any) *builder   { return b.add(history.OK, p, f, v) }
func (b *builder) fail(p int, f string, v any) *builder { return b.add(history.Fail, p, f, v) }
func (b *builder) info(p int, f string, v any) *builder { return b.add(history.Info, p, f, v) }

// nemesis records a nemesis start/stop pair, which checkers must ignore.
func (b *builder) nemesis(f string) *builder {
	b.add(history.Info, history.NemesisProcess, f, nil)
	return b.add(history.Info, history.NemesisProcess, f, "done")
}

// final marks the last op as a final-phase op.
func (b *builder) final() *builder { b.ops[len(b.ops)-1].Final = true; return b }

// exception sets the exception class of the last op.
func (b *builder) exception(class string) *builder {
	b.ops[len(b.ops)-1].Exception = class
	b.ops[len(b.ops)-1].ExceptionMessage = "msg " + class
	return b
}

// show renders checker output as compact EDN so tests can state expected
// results the way Maelstrom prints them. Integers print alike whatever
// their Go type; float32 prints with float32 precision.
func show(v any) string {
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%T %v: %v>", v, v, err)
	}
	return string(b)
}

// expect fails the test when got does not render as want.
func expect(t *testing.T, got edn.Map, want string) {
	t.Helper()
	if s := show(got); s != want {
		t.Errorf("result mismatch\n got: %s\nwant: %s", s, want)
	}
}

// get returns the value under a keyword key, failing the test if absent.
func get(t *testing.T, m edn.Map, key string) any {
	t.Helper()
	v, ok := m.Get(edn.Keyword(key))
	if !ok {
		t.Fatalf("no :%s in %s", key, show(m))
	}
	return v
}

func TestValueKeyMatchesHistoryKey(t *testing.T) {
	for _, v := range []any{
		0, -7, int64(1 << 40), int32(5), json.Number("12"), json.Number("-0"), json.Number("007"),
		json.Number("+5"), json.Number("1e2"), json.Number("1.5"), json.Number("99999999999999999999"),
		uint64(1 << 63), 1.0, 2.5, "x", "a<b", nil, true, []any{1, "a"}, map[string]any{"k": 1},
		edn.Keyword("kw"),
	} {
		if got, want := valueKey(v), history.Key(v); got != want {
			t.Errorf("valueKey(%#v) = %q, history.Key = %q", v, got, want)
		}
	}
}

func TestQuantiles(t *testing.T) {
	cases := []struct {
		values []int64
		want   string
	}{
		// sorted 1..10: ⌊10·0.5⌋=5 → 6; ⌊9.5⌋=9 → 10; ⌊9.9⌋=9 → 10; min(9, 10) → 10.
		{[]int64{5, 1, 9, 3, 7, 2, 8, 4, 6, 10}, "{0 1, 0.5 6, 0.95 10, 0.99 10, 1 10}"},
		{[]int64{42}, "{0 42, 0.5 42, 0.95 42, 0.99 42, 1 42}"},
		// two values: ⌊1⌋=1 for 0.5 already picks the larger.
		{[]int64{70, 0}, "{0 0, 0.5 70, 0.95 70, 0.99 70, 1 70}"},
	}
	for _, c := range cases {
		if got := show(Quantiles(c.values)); got != c.want {
			t.Errorf("Quantiles(%v) = %s, want %s", c.values, got, c.want)
		}
	}
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(100 - i) // 100..1
	}
	// sorted 1..100: index 50 → 51, index 95 → 96, index 99 → 100.
	if got, want := show(Quantiles(hundred)), "{0 1, 0.5 51, 0.95 96, 0.99 100, 1 100}"; got != want {
		t.Errorf("Quantiles(1..100) = %s, want %s", got, want)
	}
	if Quantiles(nil) != nil {
		t.Error("Quantiles(nil) should be nil")
	}
}

// A verdict nobody set must not pass, and Worst orders verdicts as Jepsen
// merges them whatever their representation.
func TestValidityZeroValueDoesNotPass(t *testing.T) {
	var unset Validity
	if unset == Valid || unset.EDN() == true {
		t.Errorf("the zero Validity is %v", unset)
	}
	if got := Worst(Valid, unset); got != Unknown {
		t.Errorf("Worst(Valid, unset) = %v, want unknown", got)
	}
	if got := Worst(Unknown, Invalid, Valid); got != Invalid {
		t.Errorf("Worst(unknown, false, true) = %v, want false", got)
	}
	if got := Worst(); got != Valid {
		t.Errorf("Worst() = %v, want true (nothing failed)", got)
	}
}
