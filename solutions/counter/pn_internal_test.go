package counter

import (
	"maps"
	"math"
	"testing"
)

func TestPNStateMergeIsAJoin(t *testing.T) {
	a := pnState{"n0": {P: 5, N: 1}, "n1": {P: 2}}
	b := pnState{"n1": {P: 1, N: 4}, "n2": {N: 3}}
	want := pnState{"n0": {P: 5, N: 1}, "n1": {P: 2, N: 4}, "n2": {N: 3}}

	ab := maps.Clone(a)
	if !ab.Merge(b) {
		t.Error("merging new entries should report a change")
	}
	ba := maps.Clone(b)
	ba.Merge(a)
	if !maps.Equal(ab, want) || !maps.Equal(ba, want) {
		t.Fatalf("a⊔b = %v, b⊔a = %v, want %v", ab, ba, want)
	}
	if ab.Merge(b) || ab.Merge(a) {
		t.Error("merging what is already included should change nothing")
	}
	if v, ok := ab.value(); !ok || v != 5-1+2-4-3 {
		t.Errorf("value %d, want -1", v)
	}
}

func TestPNStateMissingFrom(t *testing.T) {
	s := pnState{"n0": {P: 5, N: 1}, "n1": {P: 2, N: 2}}
	if d, ok := s.Missing(s); ok || d != nil {
		t.Errorf("nothing is missing from itself, got %v", d)
	}
	known := pnState{"n0": {P: 5, N: 0}, "n1": {P: 3, N: 2}}
	d, ok := s.Missing(known)
	if !ok || !maps.Equal(d, pnState{"n0": {P: 5, N: 1}}) {
		t.Errorf("missing %v, want only n0 (its N grew)", d)
	}
	if d, ok := s.Missing(pnState{}); !ok || !maps.Equal(d, s) {
		t.Errorf("everything is missing from an empty state, got %v", d)
	}
}

// Entries that fit one by one can sum beyond int64: value says so
// rather than wrapping.
func TestPNStateValueOverflow(t *testing.T) {
	for _, tc := range []struct {
		s  pnState
		ok bool
	}{
		{pnState{"n0": {P: math.MaxInt64}, "n1": {P: 1}}, false},
		{pnState{"n0": {N: math.MaxInt64}, "n1": {N: 2}}, false},
		{pnState{"n0": {P: math.MaxInt64}, "n1": {N: math.MaxInt64}}, true},
		{pnState{"n0": {P: math.MaxInt64, N: 1}, "n1": {P: 1}}, true},
		// Fits in the end, whatever order the entries are summed in.
		{pnState{"n0": {P: math.MaxInt64}, "n1": {P: math.MaxInt64}, "n2": {N: math.MaxInt64}}, true},
		{pnState{"n0": {N: math.MaxInt64}, "n1": {N: math.MaxInt64}, "n2": {P: math.MaxInt64}, "n3": {N: 1}}, true},
	} {
		v, ok := tc.s.value()
		if ok != tc.ok {
			t.Errorf("%v: value ok = %v, want %v", tc.s, ok, tc.ok)
		}
		var want int64
		for _, e := range tc.s {
			want += e.P - e.N // wraps, but equals the true sum when it fits
		}
		if ok && v != want {
			t.Errorf("%v: value %d, want %d", tc.s, v, want)
		}
	}
}
