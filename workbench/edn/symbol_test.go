package edn

import "testing"

// Elle's unknown-prefix marker prints as the bare symbol ..., as
// Maelstrom's results show it (:expected [... 6]), and as the string
// "..." in JSON.
func TestSymbol(t *testing.T) {
	v := K("expected", Vector{Symbol("..."), 6}, "txns", List{K("index", 1), Symbol("..."), K("index", 4)})
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{:expected [... 6], :txns ({:index 1} ... {:index 4})}`; string(got) != want {
		t.Errorf("Marshal = %s\nwant      %s", got, want)
	}
	js, err := MarshalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"expected":["...",6],"txns":[{"index":1},"...",{"index":4}]}`; string(js) != want {
		t.Errorf("MarshalJSON = %s\nwant          %s", js, want)
	}
	// As a map key too.
	if got, _ := MarshalJSON(Map{{Key: Symbol("x"), Val: 1}}); string(got) != `{"x":1}` {
		t.Errorf("symbol key in JSON: %s", got)
	}
	for _, s := range []string{"x", "...", "foo/bar", "+", "-", "elle.list-append/init", "a.b", "!?*<>="} {
		if _, err := Marshal(Symbol(s)); err != nil {
			t.Errorf("Symbol(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "a b", "1x", ":k", "#tag", "-1", "+2", ".5", "a,b", "(x)", `"q"`, "x\ny"} {
		if _, err := Marshal(Symbol(s)); err == nil {
			t.Errorf("Symbol(%q) printed, but EDN would not read it back as one symbol", s)
		}
	}
}
