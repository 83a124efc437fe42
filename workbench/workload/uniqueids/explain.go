package uniqueids

import (
	"fmt"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// Explain names every id returned more than once and the operations
// (process, node, time) that got it, the most-repeated first.
func (uniqueIDs) Explain(ev *explain.Evidence) []results.Finding {
	if f, ok := explainDuplicates(ev); ok {
		return []results.Finding{f}
	}
	return nil
}

// idHolders is an id and the :ok completions that returned it.
type idHolders struct {
	id  any
	ops []history.Op
}

// explainDuplicates builds the finding; false when no id was returned
// twice.
func explainDuplicates(ev *explain.Evidence) (results.Finding, bool) {
	dups := findDuplicates(ev.Ops)
	if len(dups) == 0 {
		return results.Finding{}, false
	}
	// Most copies first, then in the order they were first repeated.
	slices.SortStableFunc(dups, func(a, b *idHolders) int { return len(b.ops) - len(a.ops) })
	ops, acrossNodes, sameMs := 0, 0, 0
	for _, h := range dups {
		ops += len(h.ops)
		if len(ev.Nodes) > 0 && !sameNode(ev, h.ops) {
			acrossNodes++
		}
		if h.ops[len(h.ops)-1].Time-h.ops[0].Time < 1e6 {
			sameMs++
		}
	}
	sum := fmt.Sprintf("%s %s handed out more than once, to %s in all", results.Plural(len(dups), "id"), results.Verb(len(dups), "was", "were"), results.Plural(ops, "operation"))
	var how []string
	if len(ev.Nodes) > 0 {
		switch acrossNodes {
		case len(dups):
			how = append(how, "every one by two or more different nodes")
		case 0:
			how = append(how, "every one by a single node, twice or more")
		default:
			how = append(how, fmt.Sprintf("%d by two or more different nodes, %d by one node twice or more", acrossNodes, len(dups)-acrossNodes))
		}
	}
	if sameMs*2 > len(dups) {
		how = append(how, fmt.Sprintf("%d of them returned each time within one millisecond, as ids read from a millisecond clock would be", sameMs))
	}
	if len(how) > 0 {
		sum += ": " + strings.Join(how, "; ")
	}
	f := results.Finding{Kind: "duplicated", Count: len(dups), Short: results.Plural(len(dups), "duplicate id"), Summary: sum + "."}
	for _, h := range dups[:min(len(dups), results.MaxExamples)] {
		f.Examples = append(f.Examples, holdersExample(ev, h))
	}
	return f, true
}

// sameNode reports whether every operation went to one node.
func sameNode(ev *explain.Evidence, ops []history.Op) bool {
	for _, op := range ops[1:] {
		if ev.NodeOf(op.Process) != ev.NodeOf(ops[0].Process) {
			return false
		}
	}
	return true
}

// maxHoldersNamed bounds the operations an example's text names.
const maxHoldersNamed = 3

// holdersExample tells who got one duplicated id.
func holdersExample(ev *explain.Evidence, h *idHolders) results.Example {
	var named, lines []string
	for i, op := range h.ops {
		who := ev.Who(op) + " " + explain.At(op.Time)
		if i < maxHoldersNamed {
			named = append(named, who)
		}
		lines = append(lines, fmt.Sprintf("%s got id %s", who, history.Key(h.id)))
	}
	if len(h.ops) > maxHoldersNamed {
		named = append(named, fmt.Sprintf("%d more", len(h.ops)-maxHoldersNamed))
	}
	return results.Example{
		Text:  fmt.Sprintf("id %s was returned %d times: to %s", history.Key(h.id), len(h.ops), strings.Join(named, ", ")),
		Lines: lines,
	}
}

// findDuplicates returns the ids that :ok generates returned more than
// once, in the order they were first repeated. It remembers only where
// each id was first seen, and integer ids without making keys, so that
// it costs a fraction of the checker's pass.
func findDuplicates(ops []history.Op) []*idHolders {
	ints := idSeen[int64]{first: map[int64]int{}, dup: map[int64]*idHolders{}}
	keys := idSeen[string]{first: map[string]int{}, dup: map[string]*idHolders{}}
	var dups []*idHolders
	for i, op := range ops {
		if op.Type != history.OK || op.F != "generate" || !op.IsClient() {
			continue
		}
		// An integer id has the key of its int64 (see history.Key).
		if n, ok := history.Int(op.Value); ok {
			dups = ints.note(n, i, ops, dups)
		} else {
			dups = keys.note(history.Key(op.Value), i, ops, dups)
		}
	}
	return dups
}

// idSeen remembers, for ids of one kind of key, where each was first
// returned and, once repeated, who holds it.
type idSeen[K comparable] struct {
	first map[K]int
	dup   map[K]*idHolders
}

// note records that ops[i] returned the id keyed k, and returns dups
// with the id's holders added when this is its first repeat.
func (s idSeen[K]) note(k K, i int, ops []history.Op, dups []*idHolders) []*idHolders {
	h := s.dup[k]
	if h == nil {
		j, seen := s.first[k]
		if !seen {
			s.first[k] = i
			return dups
		}
		h = &idHolders{id: ops[i].Value, ops: []history.Op{ops[j]}}
		s.dup[k] = h
		dups = append(dups, h)
	}
	h.ops = append(h.ops, ops[i])
	return dups
}
