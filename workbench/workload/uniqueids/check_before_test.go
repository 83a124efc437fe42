package uniqueids

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"fmt"
	"sort"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// checkBefore is Check as it was before it was split into named parts,
// kept so that a test can prove the split changed no result.
func checkBefore(ops []history.Op) edn.Map {
	type idCount struct {
		id    any
		count int
	}
	attempted := 0
	var acked []any
	counts := map[string]*idCount{}
	var distinct []*idCount
	for _, op := range ops {
		if !op.IsClient() || op.F != "generate" {
			continue
		}
		switch op.Type {
		case history.Invoke:
			attempted++
		case history.OK:
			acked = append(acked, op.Value)
			k := history.Key(op.Value)
			c := counts[k]
			if c == nil {
				c = &idCount{id: op.Value}
				counts[k] = c
				distinct = append(distinct, c)
			}
			c.count++
		}
	}
	fail := func(err error) edn.Map {
		return edn.K(
			"valid?", checker.Unknown.EDN(),
			"error", fmt.Sprintf("unique-ids: %v", err),
			"attempted-count", attempted,
			"acknowledged-count", len(acked),
		)
	}

	var rng any
	if len(acked) > 0 {
		lo, hi := acked[0], acked[0]
		for _, id := range acked[1:] {
			c, err := history.Compare(id, lo)
			if err != nil {
				return fail(err)
			}
			if c < 0 {
				lo = id
			}
			if c, err = history.Compare(id, hi); err != nil {
				return fail(err)
			}
			if c > 0 {
				hi = id
			}
		}
		rng = edn.Vector{lo, hi}
	}

	var dups []*idCount
	for _, c := range distinct {
		if c.count > 1 {
			dups = append(dups, c)
		}
	}
	// Highest counts first; among equal counts Jepsen keeps the larger ids.
	// Every id was compared with lo and hi above, but not necessarily with
	// each other, so ordering can still fail.
	var sortErr error
	cmp := func(a, b any) int {
		c, err := history.Compare(a, b)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c
	}
	sort.SliceStable(dups, func(i, j int) bool {
		if dups[i].count != dups[j].count {
			return dups[i].count > dups[j].count
		}
		return cmp(dups[i].id, dups[j].id) > 0
	})
	shown := dups[:min(len(dups), maxDuplicatesShown)]
	sort.SliceStable(shown, func(i, j int) bool { return cmp(shown[i].id, shown[j].id) < 0 })
	if sortErr != nil {
		return fail(sortErr)
	}
	dupMap := edn.Map{}
	for _, c := range shown {
		dupMap = append(dupMap, edn.Entry{Key: c.id, Val: c.count})
	}

	valid := checker.Valid
	if len(dups) > 0 {
		valid = checker.Invalid
	}
	return edn.K(
		"valid?", valid.EDN(),
		"attempted-count", attempted,
		"acknowledged-count", len(acked),
		"duplicated-count", len(dups),
		"duplicated", dupMap,
		"range", rng,
	)
}

// The split Check returns, byte for byte, what the single function did,
// over histories with few and many duplicates, mixed id kinds that cannot
// be ordered, and indeterminate and failed completions.
func TestCheckSplitChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[checker.Validity]int{}
	for trial := 0; trial < 200; trial++ {
		b := newBuilder()
		n := rng.IntN(300)
		space := 1 + rng.IntN(200)
		for i := 0; i < n; i++ {
			p := rng.IntN(5)
			var id any
			switch k := rng.IntN(100); {
			case k < 45:
				id = json.Number(strconv.Itoa(rng.IntN(space)))
			case k < 90:
				id = fmt.Sprintf("n%d-%d", rng.IntN(3), rng.IntN(space))
			case k < 95 && trial%3 == 0:
				id = map[string]any{"a": 1.0}
			default:
				id = int64(rng.IntN(space))
			}
			if trial%2 == 1 { // one kind of id only: comparable
				id = json.Number(strconv.Itoa(rng.IntN(space)))
			}
			switch rng.IntN(10) {
			case 0:
				b.Inv(p, "generate", nil).Info(p, "generate", nil)
			case 1:
				b.Inv(p, "generate", nil).Fail(p, "generate", nil)
			default:
				b.generate(p, id)
			}
		}
		before, err1 := edn.Marshal(checkBefore(b.Ops))
		after, err2 := edn.Marshal(Check(b.Ops))
		seen[checker.ValidityOf(Check(b.Ops))]++
		if err1 != nil || err2 != nil || !bytes.Equal(before, after) {
			t.Fatalf("trial %d: before %s (%v)\nafter %s (%v)", trial, before, err1, after, err2)
		}
	}
	if seen[checker.Valid] == 0 || seen[checker.Invalid] == 0 || seen[checker.Unknown] == 0 {
		t.Errorf("the trials cover only %v", seen)
	}
}
