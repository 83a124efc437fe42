package checker

import (
	"encoding/json"
	"testing"
)

func TestCounterAcceptsFinalReadsInRange(t *testing.T) {
	b := newBuilder().
		inv(0, "add", 3).ok(0, "add", 3).
		inv(1, "add", json.Number("4")).ok(1, "add", json.Number("4")). // definite 7
		inv(2, "add", 2).info(2, "add", 2).                             // {7, 9}
		inv(3, "add", 1).info(3, "add", 1).                             // {7, 8, 9, 10}
		inv(0, "add", 100).fail(0, "add", 100).                         // never happened
		nemesis("start-partition").
		inv(1, "read", nil).ok(1, "read", 1000).          // not final: unchecked
		inv(4, "read", nil).info(4, "read", nil).final(). // not :ok: unchecked
		inv(0, "read", nil).final().ok(0, "read", json.Number("7")).final().
		inv(1, "read", nil).final().ok(1, "read", 10).final()
	expect(t, Counter(b.ops), "{:valid? true, :errors nil, :final-reads (7 10), :acceptable ([7 10])}")
}

func TestCounterRejectsFinalReadOutsideRange(t *testing.T) {
	b := newBuilder().
		inv(0, "add", 3).ok(0, "add", 3).
		inv(0, "read", nil).final().ok(0, "read", 3).final().
		inv(1, "read", nil).final().ok(1, "read", 4).final()
	expect(t, Counter(b.ops), "{:valid? false, "+
		":errors ({:index 5, :time 5000000, :type :ok, :process 1, :f :read, :value 4, :final? true}), "+
		":final-reads (3 4), :acceptable ([3 3])}")
}

func TestCounterInfoAddsWidenTheRange(t *testing.T) {
	// definite 0; info -3 → {-3, 0}; info +5 → {-3, 0, 2, 5}: four ranges.
	b := newBuilder().
		inv(0, "add", -3).info(0, "add", -3).
		inv(1, "add", 5).info(1, "add", 5).
		inv(2, "read", nil).final().ok(2, "read", 2).final().
		inv(3, "read", nil).final().ok(3, "read", 1).final()
	got := Counter(b.ops)
	if s, want := show(get(t, got, "acceptable")), "([-3 -3] [0 0] [2 2] [5 5])"; s != want {
		t.Errorf("acceptable %s, want %s", s, want)
	}
	if ValidityOf(got) != Invalid || show(get(t, got, "final-reads")) != "(2 1)" {
		t.Errorf("read 1 is not reachable, read 2 is: %s", show(got))
	}
	if errs := get(t, got, "errors"); show(errs) != "({:index 7, :time 7000000, :type :ok, :process 3, :f :read, :value 1, :final? true})" {
		t.Errorf("errors %s", show(errs))
	}

	// Adjacent integer ranges merge: {0} ∪ {1} = [0 1].
	adj := newBuilder().inv(0, "add", 1).info(0, "add", 1)
	expect(t, Counter(adj.ops), "{:valid? true, :errors nil, :final-reads (), :acceptable ([0 1])}")
}

func TestCounterNonIntegersAreUnknown(t *testing.T) {
	badRead := newBuilder().inv(0, "read", nil).final().ok(0, "read", json.Number("1.5")).final()
	if got := Counter(badRead.ops); ValidityOf(got) != Unknown {
		t.Errorf("fractional final read: want :unknown, got %s", show(got))
	}
	badAdd := newBuilder().inv(0, "add", "x").ok(0, "add", "x")
	if got := Counter(badAdd.ops); ValidityOf(got) != Unknown {
		t.Errorf("string delta: want :unknown, got %s", show(got))
	}
}

func TestRangeSet(t *testing.T) {
	s := rangeSet{{0, 0}}.union(rangeSet{{5, 9}, {2, 3}, {-4, -2}, {10, 10}})
	if got, want := len(s), 4; got != want {
		t.Fatalf("%v: want 4 ranges ([-4 -2] [0 0] [2 3] [5 10])", s)
	}
	for v, want := range map[int64]bool{-5: false, -4: true, -2: true, -1: false, 0: true, 1: false, 3: true, 4: false, 5: true, 10: true, 11: false} {
		if s.contains(v) != want {
			t.Errorf("%v contains %d = %v, want %v", s, v, !want, want)
		}
	}
}
