package edn

import "testing"

func TestItemsReadsEverySequence(t *testing.T) {
	for _, v := range []any{Vector{1, 2}, List{1, 2}, Set{1, 2}, []any{1, 2}} {
		if got := Items(v); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Errorf("Items(%#v) = %v", v, got)
		}
	}
	for _, v := range []any{nil, K("a", 1), "12", 3} {
		if got := Items(v); got != nil {
			t.Errorf("Items(%#v) = %v, want nil for what is not a sequence", v, got)
		}
	}
}

func TestLookupReadsAKeywordsValue(t *testing.T) {
	m := K("a", 1, "b", nil)
	if m.Lookup("a") != 1 || m.Lookup("b") != nil || m.Lookup("c") != nil || Map(nil).Lookup("a") != nil {
		t.Errorf("Lookup over %v gave a wrong value", m)
	}
	if (Map{{Key: "a", Val: 2}}).Lookup("a") != nil {
		t.Errorf("Lookup found a string key, not the keyword :a")
	}
}
