package txn

import (
	"fmt"
	"sort"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/results"
)

// visTeller tells the pairs of a visibility analysis: a write, a node
// that missed it, and the reads that show it.
type visTeller struct {
	teller
	a *visAnalysis
}

// explainVisibility tells what the visibility check (Visibility) found
// wrong: slow visibility outside partitions, writes still missing long
// after a heal, and writes never seen, each with the write, the node
// that missed it and the reads that show it, from the pairs of a, the
// measured analysis of ev.Ops.
func explainVisibility(ev *explain.Evidence, a *visAnalysis, b VisibilityBounds) []results.Finding {
	s := a.summarise()
	x := visTeller{teller: teller{ev}, a: a}
	var out []results.Finding
	if f, ok := x.lagFinding(s, b); ok {
		out = append(out, f)
	}
	if f, ok := x.afterHealFinding(s, b); ok {
		out = append(out, f)
	}
	if f, ok := x.neverSeenFinding(s, b); ok {
		out = append(out, f)
	}
	return out
}

// lagFinding tells of writes that reached the other nodes slowly outside
// partitions, when the median or p99 lag passed its bound.
func (x visTeller) lagFinding(s visSummary, b VisibilityBounds) (results.Finding, bool) {
	if len(s.lags) == 0 {
		return results.Finding{}, false
	}
	med, p99 := checker.Quantile(s.lags, 0.5), checker.Quantile(s.lags, 0.99)
	if time.Duration(med) <= b.Median && time.Duration(p99) <= b.P99 {
		return results.Finding{}, false
	}
	var slow []int
	for i, p := range x.a.pairs {
		if !p.healPair && time.Duration(p.lag) > b.Median {
			slow = append(slow, i)
		}
	}
	short := fmt.Sprintf("p99 lag %v ms", visMS(p99))
	if time.Duration(med) > b.Median {
		short = fmt.Sprintf("median lag %v ms", visMS(med))
	}
	return results.Finding{Section: "glomers", Kind: "visibility-lag", Count: len(slow), Short: short,
		Summary: fmt.Sprintf("Writes reached the other nodes slowly: over %s outside partitions, reads on the other node kept missing the write for a median of %v ms (bound %v ms) and a p99 of %v ms (bound %v ms); %s %s longer than %v ms.",
			results.Plural(s.outside, "(write, node) pair"), visMS(med), visMS(int64(b.Median)), visMS(p99), visMS(int64(b.P99)),
			results.Plural(len(slow), "pair"), results.Verb(len(slow), "was", "were"), visMS(int64(b.Median))),
		Examples: x.examples(x.worst(slow))}, true
}

// afterHealFinding tells of writes still missing on another node longer
// than the bound after a partition healed.
func (x visTeller) afterHealFinding(s visSummary, b VisibilityBounds) (results.Finding, bool) {
	if time.Duration(s.worstHeal) <= b.AfterHeal {
		return results.Finding{}, false
	}
	var late []int
	for i, p := range x.a.pairs {
		if p.healPair && p.heal >= 0 && time.Duration(p.lag) > b.AfterHeal {
			late = append(late, i)
		}
	}
	heal := x.a.periods[s.worstHealAt]
	what := fmt.Sprintf("the heal %s", explain.At(heal.end))
	if f, ok := partitionEnding(x.ev, heal.end); ok {
		what = f.String()
	}
	return results.Finding{Section: "glomers", Kind: "after-heal", Count: len(late),
		Short: fmt.Sprintf("unseen %v ms after heal", visMS(s.worstHeal)),
		Summary: fmt.Sprintf("%s still missing on another node more than %v ms after a partition healed; the worst, %v ms after %s.",
			results.Plural(len(late), "write was"), visMS(int64(b.AfterHeal)), visMS(s.worstHeal), what),
		Examples: x.examples(x.worst(late))}, true
}

// neverSeenFinding tells of acknowledged writes another node never saw,
// and whether a partition cut it off meanwhile.
func (x visTeller) neverSeenFinding(s visSummary, b VisibilityBounds) (results.Finding, bool) {
	n := len(s.neverSeen)
	if n == 0 {
		return results.Finding{}, false
	}
	// Blame a partition only for the writes one cut off: a partition
	// in force while the write and the reads that missed it ran,
	// between the writer's node and the reader's.
	cut := 0
	for _, i := range s.neverSeen {
		if _, ok := x.cutBy(x.a.pairs[i]); ok {
			cut++
		}
	}
	cause := "no partition separated the two nodes meanwhile"
	switch {
	case cut == n && n == 1:
		cause = "a partition separated the two nodes meanwhile, and no read after the heal saw it"
	case cut == n:
		cause = "a partition separated the two nodes meanwhile for every one, and no read after the heal saw them"
	case cut > 0:
		cause = fmt.Sprintf("a partition separated the two nodes meanwhile for %d of them; for the other %d none did", cut, n-cut)
	}
	return results.Finding{Section: "glomers", Kind: "never-seen", Count: n,
		Short: results.Plural(n, "write") + " never seen",
		Summary: fmt.Sprintf("%s acknowledged on one node %s never seen on another: reads there kept missing %s for longer than allowed (%v ms, %v ms after a heal) and no later read saw %s; %s.",
			results.Plural(n, "write"), results.Verb(n, "was", "were"), results.Verb(n, "it", "them"),
			visMS(int64(b.P99)), visMS(int64(b.AfterHeal)), results.Verb(n, "it", "them"), cause),
		Examples: x.examples(s.neverSeen)}, true
}

// worst orders pair indices by lag, largest first.
func (x visTeller) worst(idx []int) []int {
	sort.SliceStable(idx, func(i, j int) bool { return x.a.pairs[idx[i]].lag > x.a.pairs[idx[j]].lag })
	return idx
}

// partitionEnding finds the partition fault that healed at t.
func partitionEnding(ev *explain.Evidence, t int64) (explain.Fault, bool) {
	for _, f := range ev.Faults() {
		if f.Kind == nemesis.FaultPartition && f.End == t {
			return f, true
		}
	}
	return explain.Fault{}, false
}

// cutBy returns the partition that cut the writer's node off from the
// node of the pair while the evidence ran (from the write's invocation to
// the last read that missed it, or the one that resolved it), false when
// none did.
func (x visTeller) cutBy(p visPair) (explain.Fault, bool) {
	w := x.a.writes[p.write]
	if w.txn.node >= len(x.ev.Nodes) || p.node >= len(x.ev.Nodes) {
		return explain.Fault{}, false
	}
	from, to := x.ev.Nodes[w.txn.node], x.ev.Nodes[p.node]
	start, end := w.txn.inv, w.txn.ack
	if p.stale != nil {
		end = max(end, p.stale.comp)
	}
	if p.resolver != nil {
		end = max(end, p.resolver.comp)
	}
	for _, f := range x.ev.Faults() {
		if f.Kind != nemesis.FaultPartition || f.Start > end || (f.End >= 0 && f.End < start) {
			continue
		}
		if f.Cuts(from, to) || f.Cuts(to, from) {
			return f, true
		}
	}
	return explain.Fault{}, false
}

// examples tells the first pairs of idx: the write, the last read on
// the other node that missed it, and the read that first saw it.
func (x visTeller) examples(idx []int) []results.Example {
	var out []results.Example
	for _, i := range idx[:min(len(idx), results.MaxExamples)] {
		p := x.a.pairs[i]
		w := x.a.writes[p.write]
		node := fmt.Sprintf("node %d", p.node)
		if p.node < len(x.ev.Nodes) {
			node = x.ev.Nodes[p.node]
		}
		ex := results.Example{
			Text: fmt.Sprintf("key %s = %s, written by op %d and acknowledged %s, was still missing on %s %.0f ms later",
				val(w.k), val(w.val), w.txn.index, explain.At(w.txn.ack), node, float64(p.lag)/1e6),
			Lines: []string{"write: " + x.txn(w.txn.index)},
		}
		if x.a.appends {
			ex.Text = fmt.Sprintf("%s, appended to key %s by op %d and acknowledged %s, was still missing on %s %.0f ms later",
				val(w.val), val(w.k), w.txn.index, explain.At(w.txn.ack), node, float64(p.lag)/1e6)
		}
		if r := p.stale; r != nil {
			ex.Lines = append(ex.Lines, fmt.Sprintf("last read on %s that missed it (key %s = %s): %s", node, val(w.k), val(r.value), x.txn(r.txn.index)))
		}
		if f, ok := x.cutBy(p); ok {
			ex.Lines = append(ex.Lines, fmt.Sprintf("meanwhile %s cut %s off from %s", f, x.ev.Nodes[w.txn.node], node))
		}
		switch {
		case p.seen:
			ex.Lines = append(ex.Lines, fmt.Sprintf("first read on %s that saw it: %s", node, x.txn(p.resolver.txn.index)))
		case p.resolved:
			ex.Lines = append(ex.Lines, fmt.Sprintf("first read on %s that saw a newer write instead: %s", node, x.txn(p.resolver.txn.index)))
		default:
			ex.Lines = append(ex.Lines, fmt.Sprintf("no later read on %s saw it.", node))
		}
		out = append(out, ex)
	}
	return out
}
