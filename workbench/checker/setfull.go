package checker

import (
	"fmt"
	"sort"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Outcome classifies an element in the set-full analysis.
type Outcome string

// The three outcomes, named as Maelstrom prints them (:stable, ...).
const (
	Stable    Outcome = "stable"     // eventually seen by every read
	Lost      Outcome = "lost"       // known to exist, later missing from every read
	NeverRead Outcome = "never-read" // no read told either way
)

// maxWorstStale bounds :worst-stale, as Jepsen does.
const maxWorstStale = 8

// SetFullElement is the set-full verdict on one added element.
type SetFullElement struct {
	Element any
	Outcome Outcome
	// StableLatency is, for stable elements, the milliseconds from when
	// the element was known (add acknowledged or first seen) to the start
	// of the last read that missed it; 0 when no read missed it.
	StableLatency int64
	// LostLatency is, for lost elements, the milliseconds from when the
	// element was known to just after the start of the last read that
	// saw it (0 if none did).
	LostLatency int64
	// Known is the :ok add or the :ok read that first showed the element
	// existed; nil if neither happened.
	Known *history.Op
	// LastPresent and LastAbsent are the invocations, with the highest
	// index, of the :ok reads that did and did not contain the element.
	LastPresent, LastAbsent *history.Op
}

// edn renders the element record printed under :worst-stale.
func (e SetFullElement) edn() edn.Map {
	opOrNil := func(op *history.Op) any {
		if op == nil {
			return nil
		}
		return op.EDN()
	}
	var stable, lost any
	switch e.Outcome {
	case Stable:
		stable = e.StableLatency
	case Lost:
		lost = e.LostLatency
	}
	return edn.K(
		"element", e.Element,
		"outcome", edn.Keyword(e.Outcome),
		"stable-latency", stable,
		"lost-latency", lost,
		"known", opOrNil(e.Known),
		"last-absent", opOrNil(e.LastAbsent),
	)
}

// SetFullResult is the typed summary of the set-full analysis. Element
// lists are sorted with history.Compare.
type SetFullResult struct {
	// Valid is Invalid if any element was lost, else Unknown if no element
	// became stable (or the analysis failed, see Err), else Valid.
	Valid Validity
	// Err is set when the history could not be analysed: a read value that
	// is not a list, or elements that cannot be ordered. Everything else is
	// then zero.
	Err error
	// Elements holds every tracked element in sorted order.
	Elements        []SetFullElement
	Stable, Lost    []any
	NeverRead       []any
	Stale           []any            // stable elements with a positive stable latency
	WorstStale      []SetFullElement // up to 8 stale elements, largest latency first
	StableLatencies []int64          // ms, per stable element, in element order
	LostLatencies   []int64          // ms, per lost element, in element order
}

// setFullTrack is the running state of one element.
type setFullTrack struct {
	element                 any
	key                     string // history.Key(element)
	known                   *history.Op
	lastPresent, lastAbsent *history.Op
}

// SetFullAnalysis runs Jepsen's set-full analysis (jepsen/checker.clj, set-full, as Maelstrom's broadcast workload runs it) over
// the client operations: :add ops with the element as value and :read ops
// whose :ok completions return a list of elements. Each add invocation
// (re)starts tracking its element; every :ok read then updates every
// tracked element as present or absent. Elements are compared with
// history.Equal.
func SetFullAnalysis(ops []history.Op) SetFullResult {
	var tracked []*setFullTrack
	index := map[string]int{} // element key -> position in tracked
	pending := map[int]history.Op{}
	for _, op := range ops {
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			pending[op.Process] = op
		}
		switch op.F {
		case "add":
			k := history.Key(op.Value)
			if op.Type == history.Invoke {
				t := &setFullTrack{element: op.Value, key: k}
				if i, ok := index[k]; ok {
					tracked[i] = t
				} else {
					index[k] = len(tracked)
					tracked = append(tracked, t)
				}
				continue
			}
			if i, ok := index[k]; ok && op.Type == history.OK && tracked[i].known == nil {
				c := op
				tracked[i].known = &c
			}
		case "read":
			if op.Type != history.OK {
				continue
			}
			inv, ok := pending[op.Process]
			if !ok {
				return SetFullResult{Valid: Unknown, Err: fmt.Errorf("set-full: read completion %d has no invocation", op.Index)}
			}
			elems, ok := op.Value.([]any)
			if !ok && op.Value != nil {
				return SetFullResult{Valid: Unknown, Err: fmt.Errorf("set-full: read %d returned %s, not a list", op.Index, history.Key(op.Value))}
			}
			seen := make(map[string]struct{}, len(elems))
			for _, e := range elems {
				seen[history.Key(e)] = struct{}{}
			}
			c, i := op, inv
			for _, t := range tracked {
				if _, present := seen[t.key]; present {
					if t.known == nil {
						t.known = &c
					}
					if t.lastPresent == nil || t.lastPresent.Index < i.Index {
						t.lastPresent = &i
					}
				} else if t.lastAbsent == nil || t.lastAbsent.Index < i.Index {
					t.lastAbsent = &i
				}
			}
		}
		if op.Type != history.Invoke {
			delete(pending, op.Process)
		}
	}
	return setFullResults(tracked)
}

// setFullResults classifies each tracked element and aggregates.
func setFullResults(tracked []*setFullTrack) SetFullResult {
	var sortErr error
	sort.SliceStable(tracked, func(i, j int) bool {
		c, err := history.Compare(tracked[i].element, tracked[j].element)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c < 0
	})
	if sortErr != nil {
		return SetFullResult{Valid: Unknown, Err: fmt.Errorf("set-full: ordering elements: %w", sortErr)}
	}
	idx := func(op *history.Op) int {
		if op == nil {
			return -1
		}
		return op.Index
	}
	r := SetFullResult{Elements: make([]SetFullElement, 0, len(tracked))}
	var stale []SetFullElement
	for _, t := range tracked {
		e := SetFullElement{Element: t.element, Known: t.known, LastPresent: t.lastPresent, LastAbsent: t.lastAbsent}
		switch {
		case t.lastPresent != nil && idx(t.lastAbsent) < idx(t.lastPresent):
			e.Outcome = Stable
			var since int64 // when the element became stable, ns
			if t.lastAbsent != nil {
				since = t.lastAbsent.Time + 1
			}
			e.StableLatency = max(0, since-t.known.Time) / 1e6
			r.Stable = append(r.Stable, e.Element)
			r.StableLatencies = append(r.StableLatencies, e.StableLatency)
			if e.StableLatency > 0 {
				r.Stale = append(r.Stale, e.Element)
				stale = append(stale, e)
			}
		case t.known != nil && t.lastAbsent != nil && idx(t.lastPresent) < idx(t.lastAbsent) && t.known.Index < t.lastAbsent.Index:
			e.Outcome = Lost
			var since int64
			if t.lastPresent != nil {
				since = t.lastPresent.Time + 1
			}
			e.LostLatency = max(0, since-t.known.Time) / 1e6
			r.Lost = append(r.Lost, e.Element)
			r.LostLatencies = append(r.LostLatencies, e.LostLatency)
		default:
			e.Outcome = NeverRead
			r.NeverRead = append(r.NeverRead, e.Element)
		}
		r.Elements = append(r.Elements, e)
	}
	// Jepsen sorts by latency ascending (stably, in element order) and
	// reverses, so among equal latencies the larger element comes first.
	sort.SliceStable(stale, func(i, j int) bool { return stale[i].StableLatency < stale[j].StableLatency })
	for i := len(stale) - 1; i >= 0 && len(r.WorstStale) < maxWorstStale; i-- {
		r.WorstStale = append(r.WorstStale, stale[i])
	}
	switch {
	case len(r.Lost) > 0:
		r.Valid = Invalid
	case len(r.Stable) == 0:
		r.Valid = Unknown
	default:
		r.Valid = Valid
	}
	return r
}

// EDN renders the result as Maelstrom prints set-full results. The key
// order is that of Clojure's hash map for these keys (worst-stale first,
// duplicated last); :stable-latencies and :lost-latencies appear only when
// there are such latencies. :duplicated-count and :duplicated are always 0
// and {}: Maelstrom's duplicate detection never fires.
func (r SetFullResult) EDN() edn.Map {
	if r.Err != nil {
		return UnknownResult(r.Err)
	}
	worst := make(edn.List, len(r.WorstStale))
	for i, e := range r.WorstStale {
		worst[i] = e.edn()
	}
	list := func(vs []any) edn.List { return append(edn.List{}, vs...) }
	m := edn.K(
		"worst-stale", worst,
		"duplicated-count", 0,
		"valid?", r.Valid.EDN(),
		"lost-count", len(r.Lost),
		"lost", list(r.Lost),
		"stable-count", len(r.Stable),
		"stale-count", len(r.Stale),
		"stale", list(r.Stale),
		"never-read-count", len(r.NeverRead),
	)
	if q := Quantiles(r.StableLatencies); q != nil {
		m = append(m, edn.Entry{Key: edn.Keyword("stable-latencies"), Val: q})
	}
	m = append(m, edn.Entry{Key: edn.Keyword("attempt-count"), Val: len(r.Elements)})
	if q := Quantiles(r.LostLatencies); q != nil {
		m = append(m, edn.Entry{Key: edn.Keyword("lost-latencies"), Val: q})
	}
	return append(m,
		edn.Entry{Key: edn.Keyword("never-read"), Val: list(r.NeverRead)},
		edn.Entry{Key: edn.Keyword("duplicated"), Val: edn.Map{}},
	)
}

// SetFull checks a set workload (broadcast after RenameF, g-set) with the
// set-full analysis and returns Maelstrom's result map; see
// SetFullAnalysis and SetFullResult.EDN.
func SetFull(ops []history.Op) edn.Map { return SetFullAnalysis(ops).EDN() }

// RenameF returns a copy of ops in which every operation with kind from
// has kind to; the broadcast workload checks its "broadcast" ops as
// set-full "add"s this way.
func RenameF(ops []history.Op, from, to string) []history.Op {
	out := make([]history.Op, len(ops))
	for i, op := range ops {
		if op.F == from {
			op.F = to
		}
		out[i] = op
	}
	return out
}
