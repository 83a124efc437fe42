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
	if v := ab.value(); v != 5-1+2-4-3 {
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
