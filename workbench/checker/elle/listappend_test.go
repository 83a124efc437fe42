package elle

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// rl reads key k as the list elems (no elems: nil, as for an absent key);
// ap appends v to k.
func rl(k int64, elems ...int) []any {
	if len(elems) == 0 {
		return []any{edn.Keyword("r"), k, nil}
	}
	l := make([]any, len(elems))
	for i, e := range elems {
		l[i] = int64(e)
	}
	return []any{edn.Keyword("r"), k, l}
}
func ap(k int64, v int) []any { return []any{edn.Keyword("append"), k, int64(v)} }

func expectLA(t *testing.T, ops []history.Op, model string, wantValid any, wantTypes string, contains ...string) string {
	t.Helper()
	res := CheckListAppend(ops, Options{ConsistencyModels: []string{model}})
	s := edn1(t, res)
	if wantTypes == "()" { // Elle's clean result, unwrapped
		if s != "{:valid? true}" {
			t.Fatalf("%s: want {:valid? true}, got\n%s", model, s)
		}
		return s
	}
	if valid(t, res) != wantValid || types(res) != wantTypes {
		t.Fatalf("%s: want valid? %v types %s, got\n%s", model, wantValid, wantTypes, s)
	}
	for _, c := range contains {
		if !strings.Contains(s, c) {
			t.Errorf("%s: result lacks %q:\n%s", model, c, s)
		}
	}
	return s
}

// laDeps gives a history a dependency edge, so Elle does not report
// :empty-transaction-graph.
var laDeps = []tx{ok(5, ap(9, 1)), ok(6, rl(9, 1))}

func TestLAClean(t *testing.T) {
	ops := new(builder).seq(
		ok(0, rl(1), ap(1, 1)),
		ok(1, rl(1, 1), ap(1, 2)),
		ok(0, rl(1, 1, 2), rl(2)),
		info(1, ap(2, 1)),
		fail(2, ap(3, 1)),
		ok(3, rl(3), rl(2, 1)),
		ok(0, ap(4, 1), rl(4, 1), ap(4, 2), rl(4, 1, 2)),
	).ops
	for _, m := range allModels {
		res := CheckListAppend(ops, Options{ConsistencyModels: []string{m}})
		if s := edn1(t, res); s != "{:valid? true}" {
			t.Errorf("%s: want {:valid? true}, got %s", m, s)
		}
	}
}

func TestLAIncompatibleOrder(t *testing.T) {
	// Elle paper: two reads that no single order of appends explains.
	ops := new(builder).conc(ok(0, ap(1, 1)), ok(1, ap(1, 2))).seq(ok(2, rl(1, 1, 2)), ok(3, rl(1, 2, 1))).ops
	expectLA(t, ops, "read-committed", false, "(:incompatible-order)", "{:key 1, :values [[1 2] [2 1]]}")
	expectLA(t, ops, "read-uncommitted", true, "()")
}

func TestLADuplicates(t *testing.T) {
	ops := new(builder).seq(ok(0, ap(1, 1)), ok(1, rl(1, 1, 1))).ops
	expectLA(t, ops, "read-uncommitted", false, "(:duplicate-elements)", ":duplicates {1 2}")
}

func TestLAInternalAndFutureRead(t *testing.T) {
	// Maelstrom tutorial's :internal: an append, then a read without it.
	ops := new(builder).seq(ok(0, ap(9, 6), rl(9)), ok(1, rl(9, 6))).ops
	expectLA(t, ops, "read-committed", true, "()")
	s := expectLA(t, ops, "strict-serializable", false, "(:internal)", ":mop [:r 9 nil], :expected [... 6]")
	if !strings.Contains(s, ":not #{:read-atomic}") {
		t.Errorf("internal: :not #{:read-atomic} expected: %s", s)
	}
	fut := new(builder).seq(ok(0, rl(1, 1), ap(1, 1))).seq(laDeps...).ops
	expectLA(t, fut, "read-uncommitted", true, "()")
	expectLA(t, fut, "read-committed", false, "(:future-read)", ":element 1")
}

func TestLAG1aAndDirtyUpdate(t *testing.T) {
	ops := new(builder).seq(fail(0, ap(1, 1)), ok(1, rl(1, 1))).seq(laDeps...).ops
	expectLA(t, ops, "read-uncommitted", true, "()")
	expectLA(t, ops, "read-committed", false, "(:G1a)", ":element 1", ":writer {:index 1")
	// A committed append on top of an aborted one.
	du := new(builder).seq(fail(0, ap(1, 1)), ok(1, ap(1, 2)), ok(2, rl(1, 1, 2))).ops
	expectLA(t, du, "read-committed", false, "(:G1a :dirty-update)", "{:key 1, :values [1 2], :txns [{:index 1")
}

func TestLAG1b(t *testing.T) {
	ops := new(builder).seq(ok(0, ap(1, 1), ap(1, 2)), ok(1, rl(1, 1))).ops
	expectLA(t, ops, "read-committed", false, "(:G1b)", ":mop [:r 1 [1]]")
	expectLA(t, ops, "read-uncommitted", true, "()")
}

func TestLALostUpdate(t *testing.T) {
	ops := new(builder).seq(ok(0, ap(1, 1))).conc(
		ok(1, rl(1, 1), ap(1, 2)),
		ok(2, rl(1, 1), ap(1, 3)),
	).seq(ok(3, rl(1, 1, 2, 3))).ops
	expectLA(t, ops, "read-committed", true, "()")
	expectLA(t, ops, "strict-serializable", false, "(:G-single-item :lost-update)", "{:key 1, :value [1], :txns [")
}

func TestLAG0(t *testing.T) {
	ops := new(builder).conc(ok(0, ap(1, 1), ap(2, 2)), ok(1, ap(1, 2), ap(2, 1))).
		seq(ok(2, rl(1, 1, 2), rl(2, 1, 2))).ops
	expectLA(t, ops, "read-uncommitted", false, "(:G0)",
		"{:type :ww, :key 1, :value 1, :value' 2, :a-mop-index 0, :b-mop-index 0}",
		"{:type :ww, :key 2, :value 1, :value' 2, :a-mop-index 1, :b-mop-index 1}")
}

func TestLAG1c(t *testing.T) {
	ops := new(builder).conc(ok(0, ap(1, 1), rl(2, 1)), ok(1, ap(2, 1), rl(1, 1))).ops
	expectLA(t, ops, "read-uncommitted", true, "()")
	expectLA(t, ops, "read-committed", false, "(:G1c)", "{:type :wr, :key 1, :value 1, :a-mop-index 0, :b-mop-index 1}")
}

func TestLAGSingleReadSkew(t *testing.T) {
	// T2 sees y after T1 but x before it.
	ops := new(builder).conc(ok(0, ap(1, 1), ap(2, 1)), ok(1, rl(1), rl(2, 1))).ops
	expectLA(t, ops, "read-committed", true, "()")
	expectLA(t, ops, "serializable", false, "(:G-single-item)",
		"{:type :rw, :key 1, :value :elle.list-append/init, :value' 1, :a-mop-index 0, :b-mop-index 0}")
}

func TestLAG2WriteSkew(t *testing.T) {
	ops := new(builder).conc(ok(0, rl(1), ap(2, 1)), ok(1, rl(2), ap(1, 1))).
		seq(ok(2, rl(1, 1), rl(2, 1))).ops
	expectLA(t, ops, "read-committed", true, "()")
	expectLA(t, ops, "serializable", false, "(:G2-item)")
}

func TestLAStaleReadRealtime(t *testing.T) {
	ops := new(builder).seq(ok(0, ap(1, 1)), ok(1, rl(1))).ops
	expectLA(t, ops, "serializable", true, "()")
	expectLA(t, ops, "strict-serializable", false, "(:G-single-item-realtime)", ":type :realtime")
}

func TestLAErrors(t *testing.T) {
	// A read of an element nobody appended: Elle's dirty-update walk fails
	// an assertion.
	ops := new(builder).seq(ok(0, rl(1, 5))).ops
	res := CheckListAppend(ops, Options{})
	if valid(t, res) != edn.Keyword("unknown") || !strings.Contains(edn1(t, res), "No transaction wrote 1 5") {
		t.Errorf("want :unknown: %s", edn1(t, res))
	}
	dup := new(builder).seq(ok(0, ap(1, 1)), ok(1, ap(1, 1))).ops
	res = CheckListAppend(dup, Options{})
	if valid(t, res) != edn.Keyword("unknown") || !strings.Contains(edn1(t, res), "appended to key 1 multiple times") {
		t.Errorf("want :unknown: %s", edn1(t, res))
	}
	bad := new(builder).seq(ok(0, w(1, 1))).ops
	if res := CheckListAppend(bad, Options{}); valid(t, res) != edn.Keyword("unknown") {
		t.Errorf("writes are not list-append micro-ops: %s", edn1(t, res))
	}
}
