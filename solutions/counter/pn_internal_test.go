package counter

import (
	"maps"
	"testing"
)

func TestPNStateMergeIsAJoin(t *testing.T) {
	a := pnState{"n0": {P: 5, N: 1}, "n1": {P: 2}}
	b := pnState{"n1": {P: 1, N: 4}, "n2": {N: 3}}
	want := pnState{"n0": {P: 5, N: 1}, "n1": {P: 2, N: 4}, "n2": {N: 3}}

	ab := maps.Clone(a)
	if !ab.merge(b) {
		t.Error("merging new entries should report a change")
	}
	ba := maps.Clone(b)
	ba.merge(a)
	if !maps.Equal(ab, want) || !maps.Equal(ba, want) {
		t.Fatalf("a⊔b = %v, b⊔a = %v, want %v", ab, ba, want)
	}
	if ab.merge(b) || ab.merge(a) {
		t.Error("merging what is already included should change nothing")
	}
	if v := ab.value(); v != 5-1+2-4-3 {
		t.Errorf("value %d, want -1", v)
	}
}

func TestPNStateMissingFrom(t *testing.T) {
	s := pnState{"n0": {P: 5, N: 1}, "n1": {P: 2, N: 2}}
	if d := s.missingFrom(s); d != nil {
		t.Errorf("nothing is missing from itself, got %v", d)
	}
	known := pnState{"n0": {P: 5, N: 0}, "n1": {P: 3, N: 2}}
	d := s.missingFrom(known)
	if !maps.Equal(d, pnState{"n0": {P: 5, N: 1}}) {
		t.Errorf("missing %v, want only n0 (its N grew)", d)
	}
	if d := s.missingFrom(pnState{}); !maps.Equal(d, s) {
		t.Errorf("everything is missing from an empty state, got %v", d)
	}
}
