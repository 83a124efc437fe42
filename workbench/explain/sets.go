package explain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/results"
)

// SetWorkload names a set workload's operations for SetFull: the kind of
// operation that adds a value ("broadcast", "add") and what a value is
// called in a sentence ("value", "element").
type SetWorkload struct {
	AddF, Noun string
}

// setEntry is where a tracked value entered: its add and the add's
// completion (nil when it never completed).
type setEntry struct {
	invoke   history.Op
	complete *history.Op
}

// finalRead is a node's final read and which tracked values it held.
type finalRead struct {
	op   history.Op
	node string
	has  map[int64]bool
}

// SetFull explains a set-full result (Jepsen's set-full, which broadcast
// and g-set are checked with) in ev.Workload: for every lost value, where
// it entered, which nodes' final reads lack it and what became of every
// server message that carried it (see Trails); then a few of the worst
// stale values, when room is left among the examples. It returns nothing
// when nothing was lost.
func SetFull(ev *Evidence, w SetWorkload) ([]results.Finding, error) {
	lost := integers(ev.Workload.Lookup("lost"))
	if len(lost) == 0 {
		return nil, nil
	}
	var stale []int64
	if worst, ok := ev.Workload.Lookup("worst-stale").(edn.List); ok {
		for _, e := range worst {
			if m, ok := e.(edn.Map); ok {
				if v, ok := history.Int(m.Lookup("element")); ok && !slices.Contains(lost, v) {
					stale = append(stale, v)
				}
			}
		}
	}
	wanted := append(slices.Clone(lost), stale...)
	entries, finals := setHistory(ev, w.AddF, wanted)
	trails, err := Trails(ev, wanted)
	s := setStory{ev: ev, w: w, entries: entries, finals: finals, trails: trails}
	count := len(lost)
	if n, ok := ev.Workload.Lookup("lost-count").(int); ok {
		count = n
	}
	f := results.Finding{Kind: "lost", Count: count, Short: "lost " + results.Plural(count, w.Noun),
		Summary: s.summary(lost, count)}
	// The values the most nodes lack first.
	lacking := make(map[int64]int, len(lost))
	for _, v := range lost {
		lacking[v] = len(s.missing(v))
	}
	order := slices.Clone(lost)
	slices.SortStableFunc(order, func(a, b int64) int { return lacking[b] - lacking[a] })
	for _, v := range order[:min(len(order), results.MaxExamples)] {
		f.Examples = append(f.Examples, s.lostExample(v))
	}
	for _, v := range stale {
		if len(f.Examples) >= results.MaxExamples {
			break
		}
		f.Examples = append(f.Examples, s.staleExample(v))
	}
	return []results.Finding{f}, err
}

// integers reads the integers of an EDN list.
func integers(v any) []int64 {
	items := edn.Items(v)
	out := make([]int64, 0, len(items))
	for _, it := range items {
		if n, ok := history.Int(it); ok {
			out = append(out, n)
		}
	}
	return out
}

// setHistory reads, in one pass, where each wanted value entered and the
// final reads: those marked :final? when there are any, else each
// process's last :ok read.
func setHistory(ev *Evidence, addF string, wanted []int64) (map[int64]*setEntry, []finalRead) {
	want := make(map[int64]bool, len(wanted))
	for _, v := range wanted {
		want[v] = true
	}
	entries := map[int64]*setEntry{}
	open := map[int]int64{} // process → the value its open add carries
	var flagged []history.Op
	last := map[int]history.Op{}
	for _, op := range ev.Ops {
		if !op.IsClient() {
			continue
		}
		switch {
		case op.F == addF && op.Type == history.Invoke:
			if v, ok := history.Int(op.Value); ok && want[v] {
				if _, seen := entries[v]; !seen {
					entries[v] = &setEntry{invoke: op}
				}
				open[op.Process] = v
			}
		case op.F == addF:
			if v, ok := open[op.Process]; ok {
				if e := entries[v]; e.complete == nil && e.invoke.Process == op.Process {
					c := op
					e.complete = &c
				}
				delete(open, op.Process)
			}
		case op.F == "read" && op.Type == history.OK:
			if op.Final {
				flagged = append(flagged, op)
			}
			last[op.Process] = op
		}
	}
	reads := flagged
	if len(reads) == 0 {
		for _, op := range last {
			reads = append(reads, op)
		}
		slices.SortFunc(reads, func(a, b history.Op) int { return a.Index - b.Index })
	}
	rank := make(map[string]int, len(ev.Nodes))
	for i, n := range ev.Nodes {
		rank[n] = i
	}
	slices.SortStableFunc(reads, func(a, b history.Op) int { return rank[ev.NodeOf(a.Process)] - rank[ev.NodeOf(b.Process)] })
	finals := make([]finalRead, 0, len(reads))
	for _, op := range reads {
		fr := finalRead{op: op, node: ev.NodeOf(op.Process), has: map[int64]bool{}}
		for _, e := range integers(op.Value) {
			if want[e] {
				fr.has[e] = true
			}
		}
		finals = append(finals, fr)
	}
	return entries, finals
}

// setStory tells what became of the values of a set workload.
type setStory struct {
	ev      *Evidence
	w       SetWorkload
	entries map[int64]*setEntry
	finals  []finalRead
	trails  map[int64]*Trail // nil without a journal
}

// missing returns the final reads that lack v, in node order.
func (s setStory) missing(v int64) []finalRead {
	var out []finalRead
	for _, fr := range s.finals {
		if !fr.has[v] {
			out = append(out, fr)
		}
	}
	return out
}

// entryNode is the node a value was added on, "" when unknown.
func (s setStory) entryNode(v int64) string {
	if e := s.entries[v]; e != nil {
		return s.ev.NodeOf(e.invoke.Process)
	}
	return ""
}

// had reports whether node held v at some point: it took v from a client
// or was delivered a message carrying it.
func (s setStory) had(v int64, node string) bool {
	if node != "" && node == s.entryNode(v) {
		return true
	}
	if t := s.trails[v]; t != nil {
		_, ok := t.Reached[node]
		return ok
	}
	return false
}

// summary is the finding's sentence: how many values were lost and, as
// far as the messages tell, why.
func (s setStory) summary(lost []int64, count int) string {
	head := fmt.Sprintf("%s %s missing from the final reads", results.Plural(count, "acknowledged "+s.w.Noun), results.Verb(count, "is", "are"))
	them := results.Verb(len(lost), "it", "them")
	if s.trails == nil {
		return head + " (no network journal was kept to say why)."
	}
	var partition, resent, healed, down, other, inFlight, never, forgot int
	for _, v := range lost {
		t := s.trails[v]
		if t == nil {
			continue
		}
		partition += t.ByFate[netsim.DropPartition]
		resent += t.Resent
		healed += t.Healed
		down += t.ByFate[netsim.DropDown]
		inFlight += t.ByFate[FateInFlight]
		other += t.Sent - t.ByFate[FateDelivered] - t.ByFate[netsim.DropPartition] - t.ByFate[netsim.DropDown] - t.ByFate[FateInFlight]
		if t.Sent == 0 {
			never++
		}
		for _, fr := range s.missing(v) {
			if s.had(v, fr.node) {
				forgot++
			}
		}
	}
	var why []string
	if partition > 0 {
		c := fmt.Sprintf("%s carrying %s %s dropped by partitions", results.Plural(partition, "server message"), them, results.Verb(partition, "was", "were"))
		switch {
		case healed == 0:
			c += ", and no partition that dropped one healed before the end"
		case resent == 0:
			c += ", and none was re-sent after a heal"
		default:
			c += fmt.Sprintf(", and %d of the %d dropped before a heal %s re-sent after it", resent, healed, results.Verb(resent, "was", "were"))
		}
		why = append(why, c)
	}
	if down > 0 {
		why = append(why, fmt.Sprintf("%s carrying %s %s dropped because the receiver was down", results.Plural(down, "server message"), them, results.Verb(down, "was", "were")))
	}
	if other > 0 {
		why = append(why, fmt.Sprintf("%s carrying %s %s lost on the network for other reasons (see the examples)", results.Plural(other, "server message"), them, results.Verb(other, "was", "were")))
	}
	if inFlight > 0 {
		why = append(why, fmt.Sprintf("%s carrying %s %s still in flight when the test ended", results.Plural(inFlight, "server message"), them, results.Verb(inFlight, "was", "were")))
	}
	if never > 0 {
		why = append(why, fmt.Sprintf("no server message ever carried %d of them: the node that took each from a client never passed it on", never))
	}
	if forgot > 0 {
		times := fmt.Sprintf("%d times", forgot)
		if forgot == 1 {
			times = "once"
		}
		why = append(why, times+" a node that had held one (from a client or a message) later read without it")
	}
	if len(why) == 0 {
		return head + "."
	}
	return head + "; " + strings.Join(why, "; ") + "."
}

// entryLines tells where v entered.
func (s setStory) entryLines(v int64) (where string, lines []string) {
	e := s.entries[v]
	if e == nil {
		return "", []string{fmt.Sprintf("no %s of %d is in the history", s.w.AddF, v)}
	}
	line := fmt.Sprintf("%s: %s %d %s", s.ev.Who(e.invoke), s.w.AddF, v, At(e.invoke.Time))
	switch {
	case e.complete == nil:
		line += ", never answered"
	case e.complete.Type == history.OK:
		line += ", acknowledged " + At(e.complete.Time)
	default:
		line += fmt.Sprintf(", completed %s %s (%s)", e.complete.Type, At(e.complete.Time), ErrorName(*e.complete))
	}
	return fmt.Sprintf(" (%s to %s %s)", s.w.AddF, s.ev.NodeOf(e.invoke.Process), At(e.invoke.Time)), []string{line}
}

// lostExample tells one lost value's story.
func (s setStory) lostExample(v int64) results.Example {
	where, lines := s.entryLines(v)
	t := s.trails[v]
	if t != nil {
		for _, c := range t.Messages {
			lines = append(lines, c.String())
		}
		if hidden := t.Sent - len(t.Messages); hidden > 0 {
			lines = append(lines, fmt.Sprintf("… and %s more carrying it", results.Plural(hidden, "message")))
		}
	}
	nodes, missLines := s.missingLines(v)
	lines = append(lines, missLines...)
	if t != nil && t.Healed > 0 {
		if t.Resent == 0 {
			lines = append(lines, fmt.Sprintf("after the partition healed, nothing sent %d again to the nodes it had been dropped on the way to", v))
		} else {
			lines = append(lines, fmt.Sprintf("%d of the %d partition drops were followed by a re-send after the heal", t.Resent, t.Healed))
		}
	}
	text := fmt.Sprintf("%s %d%s is missing from the final reads of %s", s.w.Noun, v, where, strings.Join(compact(nodes), ", "))
	if t != nil {
		text += "; " + trailLine(t)
	}
	return results.Example{Text: text, Lines: lines}
}

// missingLines names the nodes whose final reads lack v, and says for
// each why, as far as the messages tell.
func (s setStory) missingLines(v int64) (nodes, lines []string) {
	for _, fr := range s.missing(v) {
		nodes = append(nodes, fr.node)
		lines = append(lines, fmt.Sprintf("%s's final read, by process %d %s, lacks %d: %s",
			fr.node, fr.op.Process, At(fr.op.Time), v, s.whyMissing(v, fr.node)))
	}
	return nodes, lines
}

// compact drops repeated nodes (several final reads on one node).
func compact(nodes []string) []string {
	var out []string
	for _, n := range nodes {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// whyMissing says, as far as the messages tell, why node's final read
// lacks v.
func (s setStory) whyMissing(v int64, node string) string {
	if node != "" && node == s.entryNode(v) {
		return "it took the value from a client itself"
	}
	t := s.trails[v]
	if t == nil {
		return "no network journal to say why"
	}
	if at, ok := t.Reached[node]; ok {
		return "it was delivered a message carrying it " + At(at)
	}
	switch fate := t.Missed[node]; fate {
	case "":
		return "no server message carried it there"
	case FateInFlight:
		return "the message carrying it there was still in flight at the end"
	case netsim.DropPartition:
		return "no message carrying it got there (the first was dropped by a partition)"
	default:
		return "no message carrying it got there (the first was lost: " + DropReason(fate) + ")"
	}
}

// trailLine sums up a trail: "4 server messages carried it: 2 delivered,
// 2 dropped by a partition, none re-sent after the heal".
func trailLine(t *Trail) string {
	if t.Sent == 0 {
		return "no server message ever carried it"
	}
	parts := []string{}
	if n := t.ByFate[FateDelivered]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d delivered", n))
	}
	for _, fate := range []string{netsim.DropPartition, netsim.DropDown, netsim.DropOverflow, netsim.DropEnded, netsim.DropNoSuchNode, netsim.DropClosed, FateInFlight} {
		n := t.ByFate[fate]
		if n == 0 {
			continue
		}
		switch fate {
		case netsim.DropPartition:
			parts = append(parts, fmt.Sprintf("%d dropped by a partition", n))
		case netsim.DropDown:
			parts = append(parts, fmt.Sprintf("%d dropped as the receiver was down", n))
		case FateInFlight:
			parts = append(parts, fmt.Sprintf("%d in flight at the end", n))
		default:
			parts = append(parts, fmt.Sprintf("%d lost (%s)", n, DropReason(fate)))
		}
	}
	line := fmt.Sprintf("%s carried it: %s", results.Plural(t.Sent, "server message"), strings.Join(parts, ", "))
	switch {
	case t.Healed > 0 && t.Resent == 0:
		line += ", none re-sent after the heal"
	case t.Healed > 0:
		line += fmt.Sprintf(", %d re-sent after the heal", t.Resent)
	}
	return line
}

// staleExample tells one stale value's story: it reached every read only
// late.
func (s setStory) staleExample(v int64) results.Example {
	where, lines := s.entryLines(v)
	t := s.trails[v]
	if t != nil {
		for _, c := range t.Messages {
			lines = append(lines, c.String())
		}
	}
	text := fmt.Sprintf("stale: %s %d%s reached later reads only late", s.w.Noun, v, where)
	if nodes, missLines := s.missingLines(v); len(nodes) > 0 {
		// set-full counts a value stable when a read invoked after
		// every read that missed it saw it, even among final reads.
		text = fmt.Sprintf("stale: %s %d%s is missing from the final reads of %s, which set-full lets through because a final read invoked later saw it",
			s.w.Noun, v, where, strings.Join(compact(nodes), ", "))
		lines = append(lines, missLines...)
	}
	if t != nil {
		text += "; " + trailLine(t)
	}
	return results.Example{Text: text, Lines: lines}
}

// SetExtras explains glomers' extra set check (checker.SetExtras) in
// ev.Extra: reads that list a value twice, and values in reads that no
// client ever added. It returns nothing when that check passed.
func SetExtras(ev *Evidence, w SetWorkload) []results.Finding {
	if ev.Extra == nil || checker.ValidityOf(ev.Extra) == checker.Valid {
		return nil
	}
	proposed := map[string]bool{}
	for _, op := range ev.Ops {
		if op.IsClient() && op.F == w.AddF && op.Type == history.Invoke {
			proposed[history.Key(op.Value)] = true
		}
	}
	var dups, unexpected []results.Example
	dupCount, unexpectedCount := 0, 0
	seenUnexpected := map[string]bool{}
	for _, op := range ev.Ops {
		if !op.IsClient() || op.F != "read" || op.Type != history.OK {
			continue
		}
		elems, _ := op.Value.([]any)
		seen := make(map[string]bool, len(elems))
		var twice []string
		for _, e := range elems {
			k := history.Key(e)
			if seen[k] && !slices.Contains(twice, k) {
				twice = append(twice, k)
			}
			seen[k] = true
			if !proposed[k] && !seenUnexpected[k] {
				seenUnexpected[k] = true
				unexpectedCount++
				if len(unexpected) < results.MaxExamples {
					unexpected = append(unexpected, results.Example{Text: fmt.Sprintf("%s: a read returned %s %s, which no client ever sent in a %s",
						ev.Who(op), w.Noun, k, w.AddF)})
				}
			}
		}
		if len(twice) > 0 {
			dupCount++
			if len(dups) < results.MaxExamples {
				dups = append(dups, results.Example{Text: fmt.Sprintf("%s: the read %s listed %s more than once",
					ev.Who(op), At(op.Time), strings.Join(twice[:min(len(twice), 8)], ", "))})
			}
		}
	}
	var out []results.Finding
	if dupCount > 0 {
		out = append(out, results.Finding{Section: "glomers", Kind: "duplicated-reads", Count: dupCount,
			Short:    results.Plural(dupCount, "read") + " with repeats",
			Summary:  fmt.Sprintf("%s listed the same %s more than once: a set holds each %s once.", results.Plural(dupCount, "read"), w.Noun, w.Noun),
			Examples: dups})
	}
	if unexpectedCount > 0 {
		out = append(out, results.Finding{Section: "glomers", Kind: "unexpected", Count: unexpectedCount,
			Short:    results.Plural(unexpectedCount, "unknown "+w.Noun),
			Summary:  fmt.Sprintf("Reads returned %s that no client ever added.", results.Plural(unexpectedCount, w.Noun)),
			Examples: unexpected})
	}
	return out
}
