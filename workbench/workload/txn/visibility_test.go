package txn

import (
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// visHistory builds txn histories for TxnVisibility by hand. With two
// nodes and concurrency 2, even processes talk to n0 and odd ones to n1.
type visHistory struct{ ops []history.Op }

func msT(ms float64) int64 { return int64(ms * float64(time.Millisecond)) }

// txn records a transaction of process p invoked at inv and completed at
// comp (milliseconds) with the given type; the completion holds mops.
func (h *visHistory) txn(p int, inv, comp float64, typ history.Type, mops ...[]any) {
	val := make([]any, len(mops))
	for i, m := range mops {
		val[i] = m
	}
	h.ops = append(h.ops,
		history.Op{Index: len(h.ops), Time: msT(inv), Type: history.Invoke, Process: p, F: "txn", Value: val},
		history.Op{Index: len(h.ops) + 1, Time: msT(comp), Type: typ, Process: p, F: "txn", Value: val})
}

func (h *visHistory) ok(p int, inv, comp float64, mops ...[]any) {
	h.txn(p, inv, comp, history.OK, mops...)
}

// nemesis records a nemesis operation as the runner does: two entries.
func (h *visHistory) nemesis(f string, at float64) {
	for i := range 2 {
		h.ops = append(h.ops, history.Op{Index: len(h.ops), Time: msT(at + float64(i)), Type: history.Info,
			Process: history.NemesisProcess, F: f})
	}
}

func r(k, v any) []any        { return []any{edn.Keyword("r"), k, v} }
func w(k, v any) []any        { return []any{edn.Keyword("w"), k, v} }
func appendOp(k, v any) []any { return []any{edn.Keyword("append"), k, v} }

func (h *visHistory) check(t *testing.T, appends bool, nodes ...string) edn.Map {
	t.Helper()
	if len(nodes) == 0 {
		nodes = []string{"n0", "n1"}
	}
	res := Visibility(h.ops, nodes, 2, appends, DefaultVisibilityBounds())
	t.Logf("%v", res)
	return res
}

func visGet(t *testing.T, res edn.Map, path ...any) any {
	t.Helper()
	v, ok := res.Path(path...)
	if !ok {
		t.Fatalf("no %v in %v", path, res)
	}
	return v
}

func wantVis(t *testing.T, res edn.Map, want any, path ...any) {
	t.Helper()
	if got := visGet(t, res, path...); !history.Equal(got, want) {
		t.Errorf("%v = %v, want %v", path, got, want)
	}
}

func wantValidity(t *testing.T, res edn.Map, want checker.Validity) {
	t.Helper()
	if got := checker.ValidityOf(res); got != want {
		t.Errorf("judged %v, want %v: %v", got, want, res)
	}
}

// The lag is proven by stale reads: from the acknowledgement to the last
// read that still missed the write. Reads invoked before the
// acknowledgement say nothing; the first read that sees the write gives
// the upper bound.
func TestVisibilityLagFromStaleReads(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 10, w(1, int64(1)))
	h.ok(1, 5, 6, r(1, nil))   // before the ack: ignored
	h.ok(1, 20, 21, r(1, nil)) // stale
	h.ok(1, 60, 61, r(1, nil)) // stale: lag ≥ 50 ms
	h.ok(1, 110, 112, r(1, int64(1)))
	h.ok(1, 130, 131, r(1, nil)) // after resolution: not part of this pair
	res := h.check(t, false)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 1, "pairs")
	wantVis(t, res, 1, "seen")
	wantVis(t, res, 50.0, "lag-ms", 0.5)
	wantVis(t, res, 102.0, "first-seen-ms", 0.5)
	wantVis(t, res, 0, "unresolved-writes")
}

// Only external reads count, and only on other nodes: a read of the
// writer's own node, or of a transaction that wrote the key first, is no
// evidence.
func TestVisibilityLagIgnoresOwnNodeAndInternalReads(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 10, w(1, int64(1)))
	h.ok(2, 20, 21, r(1, nil))                      // n0, the writer's node
	h.ok(1, 30, 31, w(1, int64(2)), r(1, int64(2))) // n1 reads its own write
	res := h.check(t, false)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 0, "pairs")

	// A node serves its own later write whether it got x=1 or not; its
	// own earlier write, after x=1 was acknowledged, is stale.
	var o visHistory
	o.ok(1, 0, 1, w(1, int64(0)))
	o.ok(0, 10, 20, w(1, int64(1)))
	o.ok(1, 30, 31, r(1, int64(0)))
	o.ok(1, 40, 41, w(1, int64(2)))
	o.ok(1, 50, 51, r(1, int64(2)))
	res = o.check(t, false)
	wantVis(t, res, 1, "pairs")
	wantVis(t, res, 0, "superseded")
	wantVis(t, res, 1, "unresolved-writes")
	wantVis(t, res, 10.0, "lag-ms", int64(1))
}

// A read of a value written after the acknowledgement resolves the pair
// (the write was superseded); a value written concurrently with it is
// ignored, so a node keeping its own concurrent write is not stale.
func TestVisibilitySupersededAndConcurrentWrites(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 10, w(1, int64(1)))
	h.ok(0, 30, 40, w(1, int64(2)))
	h.ok(1, 50, 51, r(1, nil))
	h.ok(1, 70, 71, r(1, int64(2)))
	res := h.check(t, false)
	wantVis(t, res, 2, "pairs")
	wantVis(t, res, 1, "seen")
	wantVis(t, res, 1, "superseded")
	wantVis(t, res, 40.0, "lag-ms", int64(1))        // x=1 missed at 50 ms, acked at 10
	wantVis(t, res, 31.0, "first-seen-ms", int64(1)) // x=2 acked at 40, seen by 71

	var c visHistory
	c.ok(0, 0, 10, w(1, int64(1)))
	c.ok(1, 5, 15, w(1, int64(2))) // concurrent, on n1
	for at := 20.0; at < 3000; at += 100 {
		c.ok(1, at, at+1, r(1, int64(2)))
	}
	res = c.check(t, false)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 0, "pairs")
}

// A node that never gets a write, and keeps reading an older value long
// after it was acknowledged, makes the run invalid; a write missed only
// by reads at the very end of the run does not.
func TestVisibilityNeverSeenWrites(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 5, w(1, int64(1)))
	h.ok(0, 10, 20, w(1, int64(2)))
	for at := 30.0; at < 2000; at += 50 {
		h.ok(1, at, at+1, r(1, int64(1))) // x=1 was acked before x=2 began: stale
	}
	res := h.check(t, false)
	wantValidity(t, res, checker.Invalid)
	wantVis(t, res, 1, "unresolved-writes")
	wantVis(t, res, 1, "never-seen-writes")
	if _, ok := res.Get(edn.Keyword("problems")); !ok {
		t.Error("no :problems")
	}

	var e visHistory
	e.ok(0, 0, 5, w(1, int64(1)))
	for at := 10.0; at < 200; at += 50 {
		e.ok(1, at, at+1, r(1, nil))
	}
	for at := 10.0; at < 1000; at += 20 { // keep most lags at 0
		e.ok(0, at, at+5, w(2, int64(at)))
		e.ok(1, at+10, at+11, r(2, int64(at)))
	}
	res = e.check(t, false)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 1, "unresolved-writes")
	wantVis(t, res, 0, "never-seen-writes")
}

func TestVisibilityMedianAndP99Bounds(t *testing.T) {
	slow := func(lag float64) edn.Map {
		var h visHistory
		for i := range 10 {
			at := float64(i) * 1000
			h.ok(0, at, at+1, w(int64(i), int64(1)))
			h.ok(1, at+1+lag, at+2+lag, r(int64(i), nil))
			h.ok(1, at+3+lag, at+4+lag, r(int64(i), int64(1)))
		}
		return h.check(t, false)
	}
	wantValidity(t, slow(99), checker.Valid)
	wantValidity(t, slow(101), checker.Invalid) // median over 100 ms
	res := slow(600)
	wantValidity(t, res, checker.Invalid)
	if p := visGet(t, res, "problems").(edn.List); len(p) != 2 {
		t.Errorf("problems %v, want the median and the p99", p)
	}
}

// Writes whose span meets a partition are judged from the heal: stale
// reads during the partition are excused, stale reads more than 1 s after
// the heal are not.
func TestVisibilityAfterHeal(t *testing.T) {
	run := func(lastStale float64) edn.Map {
		var h visHistory
		h.nemesis("start-partition", 100)
		h.ok(0, 200, 210, w(1, int64(1)))
		h.ok(1, 500, 501, r(1, nil)) // during the partition
		h.nemesis("stop-partition", 1000)
		h.ok(1, lastStale, lastStale+1, r(1, nil))
		h.ok(1, lastStale+100, lastStale+101, r(1, int64(1)))
		return h.check(t, false)
	}
	res := run(1500)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 0, "pairs")
	wantVis(t, res, 1, "after-heal", "pairs")
	wantVis(t, res, 1, "after-heal", "heals")
	wantVis(t, res, 499.0, "after-heal", "max-ms") // from the heal's completion at 1001 ms
	wantValidity(t, run(2100), checker.Invalid)
}

// A write that met a partition and that the first read after the heal
// saw stayed invisible 0 ms past the heal: the figure is there, and 0,
// rather than missing (a scoreboard target on it would read "no
// figure"). Without a heal there is no figure.
func TestVisibilityAfterHealWithoutStaleReads(t *testing.T) {
	run := func(heal bool) edn.Map {
		var h visHistory
		h.nemesis("start-partition", 100)
		h.ok(0, 200, 210, w(1, int64(1)))
		h.ok(1, 500, 501, r(1, nil)) // during the partition
		if heal {
			h.nemesis("stop-partition", 1000)
		}
		h.ok(1, 1500, 1501, r(1, int64(1)))
		return h.check(t, false)
	}
	res := run(true)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 1, "after-heal", "pairs")
	wantVis(t, res, 0.0, "after-heal", "max-ms")
	if _, ok := visGet(t, run(false), "after-heal").(edn.Map).Get(edn.Keyword("max-ms")); ok {
		t.Errorf("a partition that never healed has an after-heal max-ms")
	}
}

// Indeterminate writers may supersede, failed writers and intermediate
// values are ignored.
func TestVisibilityWritersOfOtherKinds(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 10, w(1, int64(1)))
	h.txn(0, 20, 30, history.Fail, w(1, int64(7)))
	h.ok(2, 25, 35, w(1, int64(8)), w(1, int64(9)))
	h.ok(1, 40, 41, r(1, int64(7))) // failed writer: ignored
	h.ok(1, 50, 51, r(1, int64(8))) // intermediate: ignored
	h.ok(1, 60, 61, r(1, nil))      // stale
	h.txn(2, 70, 80, history.Info, w(1, int64(10)))
	h.ok(1, 90, 91, r(1, int64(10))) // written after the ack by an :info txn
	res := h.check(t, false)
	// Both x=1 (acked at 10) and x=9 (acked at 35) were missed at 60 and
	// superseded at 90.
	wantVis(t, res, 2, "pairs")
	wantVis(t, res, 2, "superseded")
	wantVis(t, res, 50.0, "lag-ms", int64(1))
	wantVis(t, res, 50.0, "lag-ms", 0.5)
}

func TestVisibilitySingleNodeHasNothingToMeasure(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 10, w(1, int64(1)))
	h.ok(1, 20, 21, r(1, nil))
	res := h.check(t, false, "n0")
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 0, "pairs")
	wantVis(t, res, 1, "writes")
}

// In list-append a write is visible when a read's list holds the element.
func TestVisibilityListAppend(t *testing.T) {
	var h visHistory
	h.ok(0, 0, 10, appendOp(1, int64(1)))
	h.ok(0, 12, 20, appendOp(1, int64(2)))
	h.ok(1, 50, 51, r(1, []any{int64(1)}))
	h.ok(1, 80, 81, r(1, []any{int64(1), int64(2)}))
	res := h.check(t, true)
	wantValidity(t, res, checker.Valid)
	wantVis(t, res, 2, "writes")
	wantVis(t, res, 2, "seen")
	wantVis(t, res, 30.0, "lag-ms", int64(1)) // element 2 acked at 20, missing at 50
}
