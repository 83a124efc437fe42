package checker

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/glomers/glomers/workbench/history"
)

func TestSetFullStableAndStale(t *testing.T) {
	b := newBuilder()
	b.at(0).inv(0, "add", 1)             // 0
	b.at(10).ok(0, "add", 1)             // 1: 1 known at 10 ms
	b.at(20).inv(1, "read", nil)         // 2
	b.at(30).ok(1, "read", []any{})      // 3: 1 absent (read invoked at 20)
	b.at(40).inv(0, "add", 2)            // 4
	b.at(50).inv(2, "read", nil)         // 5
	b.at(60).ok(2, "read", []any{1, 2})  // 6: 2 known here, before its add is acknowledged
	b.at(70).ok(0, "add", 2)             // 7
	b.at(80).inv(1, "read", nil)         // 8
	b.at(90).ok(1, "read", []any{2})     // 9: 1 absent again (invoked at 80)
	b.at(100).inv(2, "read", nil)        // 10
	b.at(110).ok(2, "read", []any{2, 1}) // 11: both present
	b.nemesis("start-partition")         // 12, 13
	b.at(120).inv(0, "add", 3)           // 14
	b.at(130).ok(0, "add", 3)            // 15: never read afterwards
	b.at(140).inv(1, "add", 4)           // 16
	b.at(150).info(1, "add", 4)          // 17: never known
	// 1: stable; latency = (80 ms + 1 ns) − 10 ms → 70 ms, so stale.
	// 2: stable; no read missed it after tracking began → 0.
	// Latencies sorted (0 70): 0 → 0; ⌊2·0.5⌋ = 1 → 70; and 70 above.
	expect(t, SetFull(b.ops), "{:worst-stale ({:element 1, :outcome :stable, :stable-latency 70, :lost-latency nil, "+
		":known {:index 1, :time 10000000, :type :ok, :process 0, :f :add, :value 1}, "+
		":last-absent {:index 8, :time 80000000, :type :invoke, :process 1, :f :read, :value nil}}), "+
		":duplicated-count 0, :valid? true, :lost-count 0, :lost (), :stable-count 2, :stale-count 1, :stale (1), "+
		":never-read-count 2, :stable-latencies {0 0, 0.5 70, 0.95 70, 0.99 70, 1 70}, :attempt-count 4, "+
		":never-read (3 4), :duplicated {}}")

	r := SetFullAnalysis(b.ops)
	if r.Valid != Valid || !slices.Equal(r.StableLatencies, []int64{70, 0}) {
		t.Errorf("typed result: valid %v, stable latencies %v (want element order [70 0])", r.Valid, r.StableLatencies)
	}
	if k := r.Elements[1].Known; k == nil || k.Index != 6 {
		t.Errorf("element 2 should be known from the read at index 6, got %+v", k)
	}
}

func TestSetFullLost(t *testing.T) {
	b := newBuilder()
	b.at(0).inv(0, "add", 5).at(1).ok(0, "add", 5)            // 0, 1: known at 1 ms
	b.at(2).inv(1, "read", nil).at(3).ok(1, "read", []any{5}) // 2, 3: present
	b.at(4).inv(1, "read", nil).at(5).ok(1, "read", []any{})  // 4, 5: absent
	b.at(6).inv(2, "add", 6).at(7).ok(2, "add", 6)            // 6, 7: known at 7 ms
	b.at(8).inv(1, "read", nil).at(9).ok(1, "read", []any{})  // 8, 9: both absent
	// 5: last present 2 < last absent 8, known 1 < 8 → lost; latency (2 ms + 1 ns) − 1 ms → 1.
	// 6: never present, known 7 < 8 → lost; latency max(0, 0 − 7 ms) = 0.
	expect(t, SetFull(b.ops), "{:worst-stale (), :duplicated-count 0, :valid? false, :lost-count 2, :lost (5 6), "+
		":stable-count 0, :stale-count 0, :stale (), :never-read-count 0, :attempt-count 2, "+
		":lost-latencies {0 0, 0.5 1, 0.95 1, 0.99 1, 1 1}, :never-read (), :duplicated {}}")
}

func TestSetFullConcurrentMissIsNeverRead(t *testing.T) {
	// The read that misses 7 began before 7's add completed, so it may have
	// happened first: 7 is never-read, not lost, and with nothing stable
	// the verdict is :unknown.
	b := newBuilder().inv(0, "add", 7).inv(1, "read", nil).ok(0, "add", 7).ok(1, "read", []any{})
	r := SetFullAnalysis(b.ops)
	if r.Valid != Unknown || !slices.Equal(r.NeverRead, []any{7}) || len(r.Lost) != 0 {
		t.Errorf("want :unknown with never-read (7), got %s", show(r.EDN()))
	}
	// Nothing added at all: also :unknown.
	if v := SetFullAnalysis(newBuilder().inv(0, "read", nil).ok(0, "read", []any{}).ops).Valid; v != Unknown {
		t.Errorf("empty set: want :unknown, got %v", v)
	}
}

func TestSetFullReAddRestartsTracking(t *testing.T) {
	b := newBuilder().
		inv(0, "add", 1).ok(0, "add", 1).
		inv(1, "read", nil).ok(1, "read", []any{}).                // would make 1 stale or lost
		inv(0, "add", 1).ok(0, "add", 1).                          // tracking restarts
		inv(1, "read", nil).ok(1, "read", []any{json.Number("1")}) // 1 as a decoded reply carries it
	r := SetFullAnalysis(b.ops)
	if r.Valid != Valid || len(r.Stale) != 0 || len(r.Elements) != 1 || r.Elements[0].StableLatency != 0 {
		t.Errorf("want one stable element with latency 0, got %s", show(r.EDN()))
	}
}

func TestSetFullWorstStaleOrderAndCap(t *testing.T) {
	b := newBuilder()
	for e := 1; e <= 9; e++ {
		b.at(0).inv(e, "add", e)
	}
	for e := 1; e <= 9; e++ {
		b.at(int64(min(e, 8))).ok(e, "add", e) // 9 is known at 8 ms, like 8
	}
	all := []any{1, 2, 3, 4, 5, 6, 7, 8, 9}
	b.at(20).inv(0, "read", nil).at(21).ok(0, "read", []any{})
	b.at(30).inv(0, "read", nil).at(31).ok(0, "read", all)
	// Latency of e: (20 ms + 1 ns) − known → 19, 18, …, 13, 12, 12.
	r := SetFullAnalysis(b.ops)
	var worst []any
	for _, e := range r.WorstStale {
		worst = append(worst, e.Element)
	}
	// Largest first; of the tied 8 and 9 the larger element wins the last slot.
	if want := []any{1, 2, 3, 4, 5, 6, 7, 9}; !slices.Equal(worst, want) {
		t.Errorf("worst-stale %v, want %v", worst, want)
	}
	if len(r.Stale) != 9 {
		t.Errorf("stale %v, want all 9", r.Stale)
	}
	// Sorted (12 12 13 14 15 16 17 18 19), n = 9: ⌊4.5⌋ = 4 → 15; ⌊8.55⌋ = 8 → 19.
	if s := show(Quantiles(r.StableLatencies)); s != "{0 12, 0.5 15, 0.95 19, 0.99 19, 1 19}" {
		t.Errorf("stable latencies %s", s)
	}
}

func TestSetFullMalformedHistoriesAreUnknown(t *testing.T) {
	notList := newBuilder().inv(0, "add", 1).ok(0, "add", 1).inv(1, "read", nil).ok(1, "read", "1")
	incomparable := newBuilder().inv(0, "add", 1).ok(0, "add", 1).inv(0, "add", "a").ok(0, "add", "a").
		inv(1, "read", nil).ok(1, "read", []any{1, "a"})
	for name, ops := range map[string][]history.Op{"read not a list": notList.ops, "incomparable": incomparable.ops} {
		got := SetFull(ops)
		if ValidityOf(got) != Unknown {
			t.Errorf("%s: want :unknown, got %s", name, show(got))
		}
		get(t, got, "error")
	}
}

func TestRenameF(t *testing.T) {
	b := newBuilder().inv(0, "broadcast", 1).ok(0, "broadcast", 1).inv(1, "read", nil)
	got := RenameF(b.ops, "broadcast", "add")
	if got[0].F != "add" || got[1].F != "add" || got[2].F != "read" {
		t.Errorf("renamed kinds %q %q %q", got[0].F, got[1].F, got[2].F)
	}
	if b.ops[0].F != "broadcast" {
		t.Error("RenameF must not modify its input")
	}
}
