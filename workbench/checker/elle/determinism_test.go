package elle

import (
	"bytes"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// TestSameHistorySameResult: the result is a function of the history
// alone. A lagging store's history (many anomaly types, many cases each)
// is checked repeatedly, and every check must print byte for byte the
// same EDN; Go's randomised map iteration would show up here as cases or
// cycles in a different order from one check to the next.
func TestSameHistorySameResult(t *testing.T) {
	const repeats = 20
	for _, c := range []struct {
		name   string
		append bool
		models []string
		check  func([]history.Op, Options) edn.Map
	}{
		{"rw-register/strict", false, nil, CheckRWRegister},
		{"rw-register/strong-session", false, []string{"strong-session-serializable"}, CheckRWRegister},
		{"list-append/strict", true, nil, CheckListAppend},
		{"list-append/strong-session", true, []string{"strong-session-serializable"}, CheckListAppend},
	} {
		t.Run(c.name, func(t *testing.T) {
			ops := genHistory(maelstromRun(1500, 50, c.append))
			opts := Options{ConsistencyModels: c.models, CycleSearchTimeout: -1}
			first, err := edn.Marshal(c.check(ops, opts))
			if err != nil {
				t.Fatal(err)
			}
			res := c.check(ops, opts)
			n, k := casesCount(res)
			t.Logf("%d cases of %d types", n, k)
			if n < 5 || k < 3 {
				t.Fatalf("history too tame to tell (%d cases of %d types): %s", n, k, types(res))
			}
			for i := 1; i < repeats; i++ {
				again, err := edn.Marshal(c.check(ops, opts))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, again) {
					t.Fatalf("check %d of the same history differs from the first at byte %d:\n%s\nvs\n%s",
						i+1, firstDiff(first, again), around(first, firstDiff(first, again)), around(again, firstDiff(first, again)))
				}
			}
		})
	}
}

// casesCount is the number of cases over every anomaly type of a result,
// and the number of types.
func casesCount(res edn.Map) (int, int) {
	am, _ := res.Get(edn.Keyword("anomalies"))
	m, _ := am.(edn.Map)
	n := 0
	for _, e := range m {
		switch cs := e.Val.(type) {
		case edn.Vector:
			n += len(cs)
		case edn.List:
			n += len(cs)
		}
	}
	return n, len(m)
}

func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func around(b []byte, i int) string {
	lo, hi := max(0, i-150), min(len(b), i+150)
	return string(b[lo:hi])
}
