package checker

import (
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
)

// builder is checkertest's history builder, here with the key-value
// operations of the linearizable tests.
type builder struct{ *checkertest.Steps[*builder] }

func newBuilder() *builder {
	return checkertest.Build(func(s *checkertest.Steps[*builder]) *builder { return &builder{s} })
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
		if got := checkertest.Show(Quantiles(c.values)); got != c.want {
			t.Errorf("Quantiles(%v) = %s, want %s", c.values, got, c.want)
		}
	}
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(100 - i) // 100..1
	}
	// sorted 1..100: index 50 → 51, index 95 → 96, index 99 → 100.
	if got, want := checkertest.Show(Quantiles(hundred)), "{0 1, 0.5 51, 0.95 96, 0.99 100, 1 100}"; got != want {
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
