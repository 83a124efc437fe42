package counter

import (
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/checkertest"
)

func TestCounterAcceptsFinalReadsInRange(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "add", 3).OK(0, "add", 3).
		Inv(1, "add", json.Number("4")).OK(1, "add", json.Number("4")). // definite 7
		Inv(2, "add", 2).Info(2, "add", 2).                             // {7, 9}
		Inv(3, "add", 1).Info(3, "add", 1).                             // {7, 8, 9, 10}
		Inv(0, "add", 100).Fail(0, "add", 100).                         // never happened
		Nemesis("start-partition").
		Inv(1, "read", nil).OK(1, "read", 1000).          // not final: unchecked
		Inv(4, "read", nil).Info(4, "read", nil).Final(). // not :ok: unchecked
		Inv(0, "read", nil).Final().OK(0, "read", json.Number("7")).Final().
		Inv(1, "read", nil).Final().OK(1, "read", 10).Final()
	checkertest.Expect(t, Check(b.Ops), "{:valid? true, :errors nil, :final-reads (7 10), :acceptable ([7 10])}")
}

func TestCounterRejectsFinalReadOutsideRange(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "add", 3).OK(0, "add", 3).
		Inv(0, "read", nil).Final().OK(0, "read", 3).Final().
		Inv(1, "read", nil).Final().OK(1, "read", 4).Final()
	checkertest.Expect(t, Check(b.Ops), "{:valid? false, "+
		":errors ({:index 5, :time 5000000, :type :ok, :process 1, :f :read, :value 4, :final? true}), "+
		":final-reads (3 4), :acceptable ([3 3])}")
}

func TestCounterInfoAddsWidenTheRange(t *testing.T) {
	// definite 0; info -3 → {-3, 0}; info +5 → {-3, 0, 2, 5}: four ranges.
	b := checkertest.NewHistory().
		Inv(0, "add", -3).Info(0, "add", -3).
		Inv(1, "add", 5).Info(1, "add", 5).
		Inv(2, "read", nil).Final().OK(2, "read", 2).Final().
		Inv(3, "read", nil).Final().OK(3, "read", 1).Final()
	got := Check(b.Ops)
	if s, want := checkertest.Show(checkertest.Get(t, got, "acceptable")), "([-3 -3] [0 0] [2 2] [5 5])"; s != want {
		t.Errorf("acceptable %s, want %s", s, want)
	}
	if checker.ValidityOf(got) != checker.Invalid || checkertest.Show(checkertest.Get(t, got, "final-reads")) != "(2 1)" {
		t.Errorf("read 1 is not reachable, read 2 is: %s", checkertest.Show(got))
	}
	if errs := checkertest.Get(t, got, "errors"); checkertest.Show(errs) != "({:index 7, :time 7000000, :type :ok, :process 3, :f :read, :value 1, :final? true})" {
		t.Errorf("errors %s", checkertest.Show(errs))
	}

	// Adjacent integer ranges merge: {0} ∪ {1} = [0 1].
	adj := checkertest.NewHistory().Inv(0, "add", 1).Info(0, "add", 1)
	checkertest.Expect(t, Check(adj.Ops), "{:valid? true, :errors nil, :final-reads (), :acceptable ([0 1])}")
}

func TestCounterNonIntegersAreUnknown(t *testing.T) {
	badRead := checkertest.NewHistory().Inv(0, "read", nil).Final().OK(0, "read", json.Number("1.5")).Final()
	if got := Check(badRead.Ops); checker.ValidityOf(got) != checker.Unknown {
		t.Errorf("fractional final read: want :unknown, got %s", checkertest.Show(got))
	}
	badAdd := checkertest.NewHistory().Inv(0, "add", "x").OK(0, "add", "x")
	if got := Check(badAdd.Ops); checker.ValidityOf(got) != checker.Unknown {
		t.Errorf("string delta: want :unknown, got %s", checkertest.Show(got))
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
