package checker

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/history"
)

func TestSetFullStableAndStale(t *testing.T) {
	b := newBuilder()
	b.At(0).Inv(0, "add", 1)             // 0
	b.At(10).OK(0, "add", 1)             // 1: 1 known at 10 ms
	b.At(20).Inv(1, "read", nil)         // 2
	b.At(30).OK(1, "read", []any{})      // 3: 1 absent (read invoked at 20)
	b.At(40).Inv(0, "add", 2)            // 4
	b.At(50).Inv(2, "read", nil)         // 5
	b.At(60).OK(2, "read", []any{1, 2})  // 6: 2 known here, before its add is acknowledged
	b.At(70).OK(0, "add", 2)             // 7
	b.At(80).Inv(1, "read", nil)         // 8
	b.At(90).OK(1, "read", []any{2})     // 9: 1 absent again (invoked at 80)
	b.At(100).Inv(2, "read", nil)        // 10
	b.At(110).OK(2, "read", []any{2, 1}) // 11: both present
	b.Nemesis("start-partition")         // 12, 13
	b.At(120).Inv(0, "add", 3)           // 14
	b.At(130).OK(0, "add", 3)            // 15: never read afterwards
	b.At(140).Inv(1, "add", 4)           // 16
	b.At(150).Info(1, "add", 4)          // 17: never known
	// 1: stable; latency = (80 ms + 1 ns) − 10 ms → 70 ms, so stale.
	// 2: stable; no read missed it after tracking began → 0.
	// Latencies sorted (0 70): 0 → 0; ⌊2·0.5⌋ = 1 → 70; and 70 above.
	checkertest.Expect(t, SetFull(b.Ops), "{:worst-stale ({:element 1, :outcome :stable, :stable-latency 70, :lost-latency nil, "+
		":known {:index 1, :time 10000000, :type :ok, :process 0, :f :add, :value 1}, "+
		":last-absent {:index 8, :time 80000000, :type :invoke, :process 1, :f :read, :value nil}}), "+
		":duplicated-count 0, :valid? true, :lost-count 0, :lost (), :stable-count 2, :stale-count 1, :stale (1), "+
		":never-read-count 2, :stable-latencies {0 0, 0.5 70, 0.95 70, 0.99 70, 1 70}, :attempt-count 4, "+
		":never-read (3 4), :duplicated {}}")

	r := SetFullAnalysis(b.Ops)
	if r.Valid != Valid || !slices.Equal(r.StableLatencies, []int64{70, 0}) {
		t.Errorf("typed result: valid %v, stable latencies %v (want element order [70 0])", r.Valid, r.StableLatencies)
	}
	if k := r.Elements[1].Known; k == nil || k.Index != 6 {
		t.Errorf("element 2 should be known from the read at index 6, got %+v", k)
	}
}

func TestSetFullLost(t *testing.T) {
	b := newBuilder()
	b.At(0).Inv(0, "add", 5).At(1).OK(0, "add", 5)            // 0, 1: known at 1 ms
	b.At(2).Inv(1, "read", nil).At(3).OK(1, "read", []any{5}) // 2, 3: present
	b.At(4).Inv(1, "read", nil).At(5).OK(1, "read", []any{})  // 4, 5: absent
	b.At(6).Inv(2, "add", 6).At(7).OK(2, "add", 6)            // 6, 7: known at 7 ms
	b.At(8).Inv(1, "read", nil).At(9).OK(1, "read", []any{})  // 8, 9: both absent
	// 5: last present 2 < last absent 8, known 1 < 8 → lost; latency (2 ms + 1 ns) − 1 ms → 1.
	// 6: never present, known 7 < 8 → lost; latency max(0, 0 − 7 ms) = 0.
	checkertest.Expect(t, SetFull(b.Ops), "{:worst-stale (), :duplicated-count 0, :valid? false, :lost-count 2, :lost (5 6), "+
		":stable-count 0, :stale-count 0, :stale (), :never-read-count 0, :attempt-count 2, "+
		":lost-latencies {0 0, 0.5 1, 0.95 1, 0.99 1, 1 1}, :never-read (), :duplicated {}}")
}

func TestSetFullConcurrentMissIsNeverRead(t *testing.T) {
	// The read that misses 7 began before 7's add completed, so it may have
	// happened first: 7 is never-read, not lost, and with nothing stable
	// the verdict is :unknown.
	b := newBuilder().Inv(0, "add", 7).Inv(1, "read", nil).OK(0, "add", 7).OK(1, "read", []any{})
	r := SetFullAnalysis(b.Ops)
	if r.Valid != Unknown || !slices.Equal(r.NeverRead, []any{7}) || len(r.Lost) != 0 {
		t.Errorf("want :unknown with never-read (7), got %s", checkertest.Show(r.EDN()))
	}
	// Nothing added at all: also :unknown.
	if v := SetFullAnalysis(newBuilder().Inv(0, "read", nil).OK(0, "read", []any{}).Ops).Valid; v != Unknown {
		t.Errorf("empty set: want :unknown, got %v", v)
	}
}

func TestSetFullReAddRestartsTracking(t *testing.T) {
	b := newBuilder().
		Inv(0, "add", 1).OK(0, "add", 1).
		Inv(1, "read", nil).OK(1, "read", []any{}).                // would make 1 stale or lost
		Inv(0, "add", 1).OK(0, "add", 1).                          // tracking restarts
		Inv(1, "read", nil).OK(1, "read", []any{json.Number("1")}) // 1 as a decoded reply carries it
	r := SetFullAnalysis(b.Ops)
	if r.Valid != Valid || len(r.Stale) != 0 || len(r.Elements) != 1 || r.Elements[0].StableLatency != 0 {
		t.Errorf("want one stable element with latency 0, got %s", checkertest.Show(r.EDN()))
	}
}

func TestSetFullWorstStaleOrderAndCap(t *testing.T) {
	b := newBuilder()
	for e := 1; e <= 9; e++ {
		b.At(0).Inv(e, "add", e)
	}
	for e := 1; e <= 9; e++ {
		b.At(int64(min(e, 8))).OK(e, "add", e) // 9 is known at 8 ms, like 8
	}
	all := []any{1, 2, 3, 4, 5, 6, 7, 8, 9}
	b.At(20).Inv(0, "read", nil).At(21).OK(0, "read", []any{})
	b.At(30).Inv(0, "read", nil).At(31).OK(0, "read", all)
	// Latency of e: (20 ms + 1 ns) − known → 19, 18, …, 13, 12, 12.
	r := SetFullAnalysis(b.Ops)
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
	if s := checkertest.Show(Quantiles(r.StableLatencies)); s != "{0 12, 0.5 15, 0.95 19, 0.99 19, 1 19}" {
		t.Errorf("stable latencies %s", s)
	}
}

func TestSetFullMalformedHistoriesAreUnknown(t *testing.T) {
	notList := newBuilder().Inv(0, "add", 1).OK(0, "add", 1).Inv(1, "read", nil).OK(1, "read", "1")
	incomparable := newBuilder().Inv(0, "add", 1).OK(0, "add", 1).Inv(0, "add", "a").OK(0, "add", "a").
		Inv(1, "read", nil).OK(1, "read", []any{1, "a"})
	for name, ops := range map[string][]history.Op{"read not a list": notList.Ops, "incomparable": incomparable.Ops} {
		got := SetFull(ops)
		if ValidityOf(got) != Unknown {
			t.Errorf("%s: want :unknown, got %s", name, checkertest.Show(got))
		}
		checkertest.Get(t, got, "error")
	}
}

func TestRenameF(t *testing.T) {
	b := newBuilder().Inv(0, "broadcast", 1).OK(0, "broadcast", 1).Inv(1, "read", nil)
	got := RenameF(b.Ops, "broadcast", "add")
	if got[0].F != "add" || got[1].F != "add" || got[2].F != "read" {
		t.Errorf("renamed kinds %q %q %q", got[0].F, got[1].F, got[2].F)
	}
	if b.Ops[0].F != "broadcast" {
		t.Error("RenameF must not modify its input")
	}
}
