package checker

import (
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// maxExamples bounds the examples an extra check lists.
const maxExamples = 8

// SetExtras checks what Maelstrom's set-full analysis cannot see in a
// set-like history (adds are ops with F "add"; reads :ok ops with F
// "read" whose value is a list):
//
//   - :duplicated — reads that return one element more than once
//     (Maelstrom's own duplicate detection never fires);
//   - :unexpected — elements a read returned that no add ever proposed.
//
// Both make the result invalid; the runner reports it in the :glomers
// section, where it counts only under --strict.
func SetExtras(ops []history.Op) edn.Map {
	proposed := map[string]bool{}
	for _, op := range ops {
		if op.IsClient() && op.F == "add" && op.Type == history.Invoke {
			proposed[history.Key(op.Value)] = true
		}
	}
	var dupReads, unexpected edn.List
	dupCount, unexpectedCount := 0, 0
	unexpectedSeen := map[string]bool{}
	for _, op := range ops {
		if !op.IsClient() || op.F != "read" || op.Type != history.OK {
			continue
		}
		elems, ok := op.Value.([]any)
		if !ok {
			continue
		}
		seen := make(map[string]bool, len(elems))
		var dups edn.List
		for _, e := range elems {
			k := history.Key(e)
			if seen[k] {
				dups = append(dups, e)
			}
			seen[k] = true
			if !proposed[k] && !unexpectedSeen[k] {
				unexpectedSeen[k] = true
				unexpectedCount++
				if len(unexpected) < maxExamples {
					unexpected = append(unexpected, edn.K("element", e, "read", op.EDN()))
				}
			}
		}
		if len(dups) > 0 {
			dupCount++
			if len(dupReads) < maxExamples {
				dupReads = append(dupReads, edn.K("elements", dups, "read", op.Index))
			}
		}
	}
	v := Valid
	if dupCount > 0 || unexpectedCount > 0 {
		v = Invalid
	}
	return edn.K(
		"valid?", v.EDN(),
		"duplicated-read-count", dupCount,
		"duplicated-reads", dupReads,
		"unexpected-count", unexpectedCount,
		"unexpected", unexpected,
	)
}
