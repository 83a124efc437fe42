package elle

import (
	"bytes"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// TestSameHistorySameResult: the result is a function of the history
// alone. A lagging store's history with some reads corrupted (many
// anomaly types, many cases) is checked repeatedly, and every check must
// print byte for byte the same EDN; Go's randomised map iteration would
// show up here as other cycles, or cases in another order, from one check
// to the next. The cycle search runs without its wall-clock limit, which
// makes results depend on the machine's speed by design (Elle's
// :cycle-search-timeout).
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
			ops := corruptReads(genHistory(maelstromRun(1500, 50, c.append)), 13)
			opts := Options{ConsistencyModels: c.models, CycleSearchTimeout: -1}
			res := c.check(ops, opts)
			if n, k := casesCount(res); n < 20 || k < 5 {
				t.Fatalf("history too tame to tell (%d cases of %d types): %s", n, k, types(res))
			}
			first, err := edn.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < repeats; i++ {
				again, err := edn.Marshal(c.check(ops, opts))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, again) {
					d := firstDiff(first, again)
					t.Fatalf("check %d of the same history differs from the first at byte %d:\n%s\nvs\n%s",
						i+1, d, around(first, d), around(again, d))
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

// firstDiff is the position of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// around is the text of b near position i.
func around(b []byte, i int) string {
	lo, hi := max(0, i-150), min(len(b), i+150)
	return string(b[lo:hi])
}

// corruptReads changes one read of every nth :ok transaction, so that
// the history holds, besides a lagging store's stale reads, reads of
// values never written, aborted or intermediate writes, and reads out of
// order: a register read of v becomes v+1 (nil becomes 1), a list read
// loses its last element or, when empty, gains one.
func corruptReads(ops []history.Op, n int) []history.Op {
	seen := 0
	for i := range ops {
		op := &ops[i]
		if op.Type != history.OK {
			continue
		}
		if seen++; seen%n != 0 {
			continue
		}
		mops := append([]any(nil), op.Value.([]any)...)
		for j, m := range mops {
			mop := m.([]any)
			if mop[0] != edn.Keyword("r") {
				continue
			}
			var v any
			switch x := mop[2].(type) {
			case nil:
				v = int64(1)
			case int64:
				v = x + 1
			case []any:
				if len(x) == 0 {
					v = []any{int64(1)}
				} else {
					v = x[:len(x)-1]
				}
			}
			mops[j] = []any{mop[0], mop[1], v}
			break
		}
		op.Value = mops
	}
	return ops
}
