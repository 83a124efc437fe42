package counter

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// intRange is a closed range of integers [lo, hi].
type intRange struct{ lo, hi int64 }

// rangeSet is a set of integers kept as sorted, disjoint, non-adjacent
// closed ranges.
type rangeSet []intRange

// union returns the set with the ranges of other added, merging ranges
// that overlap or touch ([1 2] and [3 4] become [1 4]).
func (s rangeSet) union(other rangeSet) rangeSet {
	all := append(append(rangeSet{}, s...), other...)
	sort.Slice(all, func(i, j int) bool { return all[i].lo < all[j].lo })
	var out rangeSet
	for _, r := range all {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// shift returns every range moved by d.
func (s rangeSet) shift(d int64) rangeSet {
	out := make(rangeSet, len(s))
	for i, r := range s {
		out[i] = intRange{r.lo + d, r.hi + d}
	}
	return out
}

// contains reports whether v lies in one of the ranges.
func (s rangeSet) contains(v int64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i].hi >= v })
	return i < len(s) && s[i].lo <= v
}

// Check checks the g-counter and pn-counter workloads. The adds known
// to have happened (:ok) sum to a definite value; each indeterminate
// (:info) add, in history order, may or may not have happened, so the set
// of acceptable values A becomes A ∪ (A + delta). Failed adds did not
// happen. Every :ok final read (Final set) must return a value in A;
// other reads are not checked, and no final read at all is still valid.
//
//	{:valid? true, :errors nil, :final-reads (956 956 956), :acceptable ([956 956])}
//
// :errors lists the offending final reads (nil when there are none);
// :acceptable lists A as closed ranges. A delta or final read that is not
// an integer makes the result {:valid? :unknown, :error ...}.
func Check(ops []history.Op) edn.Map {
	var definite int64
	var infos []int64
	var finals []history.Op
	for _, op := range ops {
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		if op.F == "add" && (op.Type == history.OK || op.Type == history.Info) {
			d, ok := history.Int(op.Value)
			if !ok {
				return checker.UnknownResult(fmt.Errorf("counter: add %d has delta %s, not an integer", op.Index, history.Key(op.Value)))
			}
			if op.Type == history.OK {
				definite += d
			} else {
				infos = append(infos, d)
			}
		}
		if op.Final && op.Type == history.OK {
			finals = append(finals, op)
		}
	}
	acceptable := rangeSet{{definite, definite}}
	for _, d := range infos {
		acceptable = acceptable.union(acceptable.shift(d))
	}

	var errs []history.Op
	reads := edn.List{}
	for _, op := range finals {
		v, ok := history.Int(op.Value)
		if !ok {
			return checker.UnknownResult(fmt.Errorf("counter: final read %d returned %s, not an integer", op.Index, history.Key(op.Value)))
		}
		reads = append(reads, op.Value)
		if !acceptable.contains(v) {
			errs = append(errs, op)
		}
	}
	var errList any // nil when there are no errors, as Clojure's (seq ())
	if len(errs) > 0 {
		errList = checker.OpsEDN(errs)
	}
	ranges := make(edn.List, len(acceptable))
	for i, r := range acceptable {
		ranges[i] = edn.Vector{r.lo, r.hi}
	}
	return edn.K(
		"valid?", len(errs) == 0,
		"errors", errList,
		"final-reads", reads,
		"acceptable", ranges,
	)
}
