package counter

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// maxSubsetNodes bounds the nodes over whose subsets a wrong read is
// matched (2^n sums).
const maxSubsetNodes = 12

// Explain says, for every final read outside the acceptable range, which
// node read what, how far off it is, and, where the sums tell, whose
// adds the reader is missing: a read equal to exactly the acknowledged
// adds sent to some of the nodes.
func (w *counterWorkload) Explain(ev *explain.Evidence) []results.Finding {
	if f, ok := explainCounter(ev); ok {
		return []results.Finding{f}
	}
	return nil
}

// nodeAdds sums the adds sent to one node.
type nodeAdds struct {
	ok      int64 // acknowledged
	okCount int
	unknown int // adds of unknown outcome (:info)
}

// counterStory is what the history says about a counter run.
type counterStory struct {
	ev         *explain.Evidence
	acceptable rangeSet
	adds       map[string]*nodeAdds
	finals     []history.Op
	wrong      []history.Op
}

// explainCounter builds the finding; false when every final read is in
// range (or the result is not one it can read).
func explainCounter(ev *explain.Evidence) (results.Finding, bool) {
	s := counterStory{ev: ev, adds: map[string]*nodeAdds{}}
	l, ok := ev.Workload.Lookup("acceptable").(edn.List)
	if !ok {
		return results.Finding{}, false
	}
	for _, r := range l {
		vec, _ := r.(edn.Vector)
		if len(vec) != 2 {
			return results.Finding{}, false
		}
		lo, ok1 := history.Int(vec[0])
		hi, ok2 := history.Int(vec[1])
		if !ok1 || !ok2 {
			return results.Finding{}, false
		}
		s.acceptable = append(s.acceptable, intRange{lo, hi})
	}
	for _, n := range ev.Nodes {
		s.adds[n] = &nodeAdds{}
	}
	byProcess := map[int]*nodeAdds{} // saves naming the node of every add
	for i := range ev.Ops {
		op := &ev.Ops[i]
		if op.Type == history.Invoke || !op.IsClient() {
			continue
		}
		if op.F == "add" {
			a, ok := byProcess[op.Process]
			if !ok {
				a = s.adds[ev.NodeOf(op.Process)]
				byProcess[op.Process] = a
			}
			d, ok := history.Int(op.Value)
			if a == nil || !ok {
				continue
			}
			switch op.Type {
			case history.OK:
				a.ok += d
				a.okCount++
			case history.Info:
				a.unknown++
			}
		}
		if op.Final && op.Type == history.OK {
			s.finals = append(s.finals, *op)
			if v, ok := history.Int(op.Value); ok && !s.acceptable.contains(v) {
				s.wrong = append(s.wrong, *op)
			}
		}
	}
	if len(s.wrong) == 0 || len(s.acceptable) == 0 {
		return results.Finding{}, false
	}
	// The furthest off first.
	slices.SortStableFunc(s.wrong, func(a, b history.Op) int { return cmp.Compare(s.distance(b), s.distance(a)) })
	f := results.Finding{Kind: "errors", Count: len(s.wrong), Short: s.short(s.wrong[0]), Summary: s.summary()}
	for _, op := range s.wrong[:min(len(s.wrong), results.MaxExamples)] {
		f.Examples = append(f.Examples, s.example(op))
	}
	return f, true
}

// nearest is the acceptable value closest to v.
func (s counterStory) nearest(v int64) int64 {
	best := s.acceptable[0].lo
	for _, r := range s.acceptable {
		for _, b := range []int64{r.lo, r.hi} {
			if abs(b-v) < abs(best-v) {
				best = b
			}
		}
	}
	return best
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// distance is how far a wrong read lies from the acceptable set.
func (s counterStory) distance(op history.Op) int64 {
	v, _ := history.Int(op.Value)
	return abs(s.nearest(v) - v)
}

// short is the scoreboard's few words: "final read 408 < 1467".
func (s counterStory) short(op history.Op) string {
	v, _ := history.Int(op.Value)
	n := s.nearest(v)
	if v < n {
		return fmt.Sprintf("final read %d < %d", v, n)
	}
	return fmt.Sprintf("final read %d > %d", v, n)
}

// acceptableText renders the acceptable values: "1467", "1460..1470",
// or "1460..1462 or 1465..1470".
func (s counterStory) acceptableText() string {
	parts := make([]string, 0, min(len(s.acceptable), 4))
	for i, r := range s.acceptable {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more ranges", len(s.acceptable)-3))
			break
		}
		if r.lo == r.hi {
			parts = append(parts, fmt.Sprint(r.lo))
		} else {
			parts = append(parts, fmt.Sprintf("%d..%d", r.lo, r.hi))
		}
	}
	return strings.Join(parts, " or ")
}

// summary is the finding's sentence.
func (s counterStory) summary() string {
	what := "the sum of the acknowledged adds"
	if len(s.acceptable) > 1 || s.acceptable[0].lo != s.acceptable[0].hi {
		what = "the acknowledged adds plus any of those whose outcome is unknown"
	}
	var reads []string
	for _, op := range s.wrong[:min(len(s.wrong), 5)] {
		v, _ := history.Int(op.Value)
		reads = append(reads, fmt.Sprintf("%s read %d (%s)", s.ev.NodeOf(op.Process), v, s.off(v)))
	}
	if len(s.wrong) > 5 {
		reads = append(reads, "…")
	}
	sum := fmt.Sprintf("%d of %s %s outside the acceptable %s (%s): %s",
		len(s.wrong), results.Plural(len(s.finals), "final read"), results.Verb(len(s.wrong), "is", "are"), s.acceptableText(), what, strings.Join(reads, ", "))
	own := 0
	for _, op := range s.wrong {
		if subset, ok := s.match(op); ok && len(subset) == 1 && subset[0] == s.ev.NodeOf(op.Process) {
			own++
		}
	}
	switch {
	case own == len(s.wrong):
		sum += "; each equals exactly the acknowledged adds sent to the reader's own node, as if the nodes never learned of each other's adds"
	case own > 0:
		sum += fmt.Sprintf("; %d of them equal exactly the acknowledged adds sent to the reader's own node", own)
	}
	if v, same := s.agree(); same && len(s.finals) > 1 {
		sum += fmt.Sprintf("; every final read returned %d, so the nodes agree on a total that is %s: adds went missing from what they share, not just from one node's view", v, s.off(v))
	}
	return sum + "."
}

// agree reports whether every final read returned the same value.
func (s counterStory) agree() (int64, bool) {
	var first int64
	for i, op := range s.finals {
		v, _ := history.Int(op.Value)
		if i == 0 {
			first = v
		} else if v != first {
			return 0, false
		}
	}
	return first, len(s.finals) > 0
}

// off says how far v is from the acceptable set: "1059 short", "3 too
// many".
func (s counterStory) off(v int64) string {
	n := s.nearest(v)
	if v < n {
		return fmt.Sprintf("%d short", n-v)
	}
	return fmt.Sprintf("%d too many", v-n)
}

// match finds whose adds a read holds: the one set of nodes whose
// acknowledged adds sum to exactly the value read, preferring the
// reader's own node alone; false when no set, or several, match (or
// there are too many nodes to try them all).
func (s counterStory) match(op history.Op) ([]string, bool) {
	v, _ := history.Int(op.Value)
	nodes := s.ev.Nodes
	if reader := s.adds[s.ev.NodeOf(op.Process)]; reader != nil && reader.ok == v && reader.unknown == 0 {
		return []string{s.ev.NodeOf(op.Process)}, true
	}
	if len(nodes) > maxSubsetNodes {
		return nil, false
	}
	var found []string
	matches := 0
	for mask := 0; mask < 1<<len(nodes); mask++ {
		var sum int64
		var subset []string
		for i, n := range nodes {
			if mask&(1<<i) != 0 {
				sum += s.adds[n].ok
				subset = append(subset, n)
			}
		}
		if sum == v {
			matches++
			found = subset
		}
	}
	if matches != 1 {
		return nil, false
	}
	return found, true
}

// example tells one wrong read's story.
func (s counterStory) example(op history.Op) results.Example {
	v, _ := history.Int(op.Value)
	node := s.ev.NodeOf(op.Process)
	text := fmt.Sprintf("%s's final read, by process %d %s, returned %d: %s of %s", node, op.Process, explain.At(op.Time), v, s.off(v), s.acceptableText())
	var lines []string
	for _, n := range s.ev.Nodes {
		a := s.adds[n]
		line := fmt.Sprintf("adds sent to %s: %s acknowledged, summing to %d", n, results.Plural(a.okCount, "add"), a.ok)
		if a.unknown > 0 {
			line += fmt.Sprintf(", and %d of unknown outcome", a.unknown)
		}
		lines = append(lines, line)
	}
	if subset, ok := s.match(op); ok {
		var rest []string
		var restSum int64
		for _, n := range s.ev.Nodes {
			if !slices.Contains(subset, n) {
				rest = append(rest, n)
				restSum += s.adds[n].ok
			}
		}
		holds := "the acknowledged adds sent to " + strings.Join(subset, ", ")
		if len(subset) == 0 {
			holds = "no add at all"
		}
		why := fmt.Sprintf("%d equals exactly %s", v, holds)
		if len(rest) > 0 {
			why += fmt.Sprintf(": as if %s missed every add sent to %s (%d)", node, strings.Join(rest, ", "), restSum)
		}
		lines = append(lines, why)
		text += "; " + why
	}
	return results.Example{Text: text, Lines: lines}
}
