package uniqueids

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// maxDuplicatesShown bounds the :duplicated map, as Jepsen does.
const maxDuplicatesShown = 48

// Check checks the unique-ids workload over the :generate operations:
// the ids returned by :ok completions must all differ.
//
//	{:valid? true, :attempted-count 3, :acknowledged-count 2,
//	 :duplicated-count 0, :duplicated {}, :range ["n1-0" "n2-0"]}
//
// :duplicated maps up to 48 duplicated ids (those with the most
// occurrences) to their counts, sorted by id; :range is [lowest highest]
// under history.Compare (nil without acknowledged ids). Ids that cannot be
// ordered against each other (mixed kinds, JSON objects) make the result
// {:valid? :unknown, :error ...} with the two counts, because Maelstrom's
// checker throws on them.
func Check(ops []history.Op) edn.Map {
	t := tallyIDs(ops)
	fail := func(err error) edn.Map {
		return edn.K(
			"valid?", checker.Unknown.EDN(),
			"error", fmt.Sprintf("unique-ids: %v", err),
			"attempted-count", t.attempted,
			"acknowledged-count", len(t.acked),
		)
	}
	rng, err := idRange(t.acked)
	if err != nil {
		return fail(err)
	}
	dups, shown, err := duplicates(t.distinct)
	if err != nil {
		return fail(err)
	}
	dupMap := edn.Map{}
	for _, c := range shown {
		dupMap = append(dupMap, edn.Entry{Key: c.id, Val: c.count})
	}
	valid := checker.Valid
	if dups > 0 {
		valid = checker.Invalid
	}
	return edn.K(
		"valid?", valid.EDN(),
		"attempted-count", t.attempted,
		"acknowledged-count", len(t.acked),
		"duplicated-count", dups,
		"duplicated", dupMap,
		"range", rng,
	)
}

// idCount is an acknowledged id and how many :ok completions returned it.
type idCount struct {
	id    any
	count int
}

// idTally is what Check counts over the :generate operations.
type idTally struct {
	attempted int
	acked     []any      // every acknowledged id, in history order
	distinct  []*idCount // each id once, in order of first acknowledgement
}

// tallyIDs counts the :generate invocations and the ids their :ok
// completions returned.
func tallyIDs(ops []history.Op) idTally {
	var t idTally
	counts := map[string]*idCount{}
	for _, op := range ops {
		if !op.IsClient() || op.F != "generate" {
			continue
		}
		switch op.Type {
		case history.Invoke:
			t.attempted++
		case history.OK:
			t.acked = append(t.acked, op.Value)
			k := history.Key(op.Value)
			c := counts[k]
			if c == nil {
				c = &idCount{id: op.Value}
				counts[k] = c
				t.distinct = append(t.distinct, c)
			}
			c.count++
		}
	}
	return t
}

// idRange is [lowest highest] of the acknowledged ids under
// history.Compare, nil when there are none; an error when two cannot be
// ordered.
func idRange(acked []any) (any, error) {
	if len(acked) == 0 {
		return nil, nil
	}
	lo, hi := acked[0], acked[0]
	for _, id := range acked[1:] {
		c, err := history.Compare(id, lo)
		if err != nil {
			return nil, err
		}
		if c < 0 {
			lo = id
		}
		if c, err = history.Compare(id, hi); err != nil {
			return nil, err
		}
		if c > 0 {
			hi = id
		}
	}
	return edn.Vector{lo, hi}, nil
}

// duplicates counts the ids acknowledged more than once and picks those
// :duplicated shows: the (at most 48) with the most occurrences, sorted
// by id.
func duplicates(distinct []*idCount) (count int, shown []*idCount, err error) {
	var dups []*idCount
	for _, c := range distinct {
		if c.count > 1 {
			dups = append(dups, c)
		}
	}
	// Highest counts first; among equal counts Jepsen keeps the larger ids.
	// Every id was compared with lo and hi by idRange, but not
	// necessarily with each other, so ordering can still fail.
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
	shown = dups[:min(len(dups), maxDuplicatesShown)]
	sort.SliceStable(shown, func(i, j int) bool { return cmp(shown[i].id, shown[j].id) < 0 })
	if sortErr != nil {
		return 0, nil, sortErr
	}
	return len(dups), shown, nil
}
