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

// explainVisibility tells what the visibility check (Visibility) found
// wrong: slow visibility outside partitions, writes still missing long
// after a heal, and writes never seen, each with the write, the node
// that missed it and the reads that show it, from the pairs of a, the
// measured analysis of ev.Ops.
func explainVisibility(ev *explain.Evidence, a *visAnalysis, b VisibilityBounds) []results.Finding {
	s := a.summarise()
	x := teller{ev: ev, appends: a.appends}
	var out []results.Finding

	if len(s.lags) > 0 {
		med, p99 := checker.Quantile(s.lags, 0.5), checker.Quantile(s.lags, 0.99)
		if time.Duration(med) > b.Median || time.Duration(p99) > b.P99 {
			var slow []int
			for i, p := range a.pairs {
				if !p.healPair && time.Duration(p.lag) > b.Median {
					slow = append(slow, i)
				}
			}
			short := fmt.Sprintf("p99 lag %v ms", visMS(p99))
			if time.Duration(med) > b.Median {
				short = fmt.Sprintf("median lag %v ms", visMS(med))
			}
			out = append(out, results.Finding{Section: "glomers", Kind: "visibility-lag", Count: len(slow), Short: short,
				Summary: fmt.Sprintf("Writes reached the other nodes slowly: over %s outside partitions, reads on the other node kept missing the write for a median of %v ms (bound %v ms) and a p99 of %v ms (bound %v ms); %s longer than %v ms.",
					results.Plural(s.outside, "(write, node) pair"), visMS(med), visMS(int64(b.Median)), visMS(p99), visMS(int64(b.P99)),
					results.Plural(len(slow), "pair was"), visMS(int64(b.Median))),
				Examples: x.visExamples(a, worst(a, slow))})
		}
	}

	if time.Duration(s.worstHeal) > b.AfterHeal {
		var late []int
		for i, p := range a.pairs {
			if p.healPair && p.heal >= 0 && time.Duration(p.lag) > b.AfterHeal {
				late = append(late, i)
			}
		}
		heal := a.periods[s.worstHealAt]
		what := fmt.Sprintf("the heal %s", explain.At(heal.end))
		if f, ok := partitionEnding(ev, heal.end); ok {
			what = f.String()
		}
		out = append(out, results.Finding{Section: "glomers", Kind: "after-heal", Count: len(late),
			Short: fmt.Sprintf("unseen %v ms after heal", visMS(s.worstHeal)),
			Summary: fmt.Sprintf("%s still missing on another node more than %v ms after a partition healed; the worst, %v ms after %s.",
				results.Plural(len(late), "write was"), visMS(int64(b.AfterHeal)), visMS(s.worstHeal), what),
			Examples: x.visExamples(a, worst(a, late))})
	}

	if len(s.neverSeen) > 0 {
		// Blame a partition only for the writes one cut off: a partition
		// in force while the write and the reads that missed it ran,
		// between the writer's node and the reader's.
		cut := 0
		for _, i := range s.neverSeen {
			if _, ok := x.cutBy(a, a.pairs[i]); ok {
				cut++
			}
		}
		n := len(s.neverSeen)
		cause := "no partition separated the two nodes meanwhile"
		switch {
		case cut == n && n == 1:
			cause = "a partition separated the two nodes meanwhile, and no read after the heal saw it"
		case cut == n:
			cause = "a partition separated the two nodes meanwhile for every one, and no read after the heal saw them"
		case cut > 0:
			cause = fmt.Sprintf("a partition separated the two nodes meanwhile for %d of them; for the other %d none did", cut, n-cut)
		}
		out = append(out, results.Finding{Section: "glomers", Kind: "never-seen", Count: n,
			Short: results.Plural(n, "write") + " never seen",
			Summary: fmt.Sprintf("%s acknowledged on one node %s never seen on another: reads there kept missing %s for longer than allowed (%v ms, %v ms after a heal) and no later read saw %s; %s.",
				results.Plural(n, "write"), map[bool]string{true: "was", false: "were"}[n == 1], map[bool]string{true: "it", false: "them"}[n == 1],
				visMS(int64(b.P99)), visMS(int64(b.AfterHeal)), map[bool]string{true: "it", false: "them"}[n == 1], cause),
			Examples: x.visExamples(a, s.neverSeen)})
	}
	return out
}

// worst orders pair indices by lag, largest first.
func worst(a *visAnalysis, idx []int) []int {
	sort.SliceStable(idx, func(i, j int) bool { return a.pairs[idx[i]].lag > a.pairs[idx[j]].lag })
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
func (x teller) cutBy(a *visAnalysis, p visPair) (explain.Fault, bool) {
	w := a.writes[p.write]
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

// visExamples tells the first pairs of idx: the write, the last read on
// the other node that missed it, and the read that first saw it.
func (x teller) visExamples(a *visAnalysis, idx []int) []results.Example {
	var out []results.Example
	for _, i := range idx[:min(len(idx), results.MaxExamples)] {
		p := a.pairs[i]
		w := a.writes[p.write]
		node := fmt.Sprintf("node %d", p.node)
		if p.node < len(x.ev.Nodes) {
			node = x.ev.Nodes[p.node]
		}
		verb := "written"
		if a.appends {
			verb = "appended"
		}
		ex := results.Example{
			Text: fmt.Sprintf("key %s = %s, %s by op %d and acknowledged %s, was still missing on %s %.0f ms later",
				val(w.k), val(w.val), verb, w.txn.index, explain.At(w.txn.ack), node, float64(p.lag)/1e6),
			Lines: []string{"write: " + x.txn(w.txn.index)},
		}
		if a.appends {
			ex.Text = fmt.Sprintf("%s, appended to key %s by op %d and acknowledged %s, was still missing on %s %.0f ms later",
				val(w.val), val(w.k), w.txn.index, explain.At(w.txn.ack), node, float64(p.lag)/1e6)
		}
		if r := p.stale; r != nil {
			ex.Lines = append(ex.Lines, fmt.Sprintf("last read on %s that missed it (key %s = %s): %s", node, val(w.k), val(r.value), x.txn(r.txn.index)))
		}
		if f, ok := x.cutBy(a, p); ok {
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
