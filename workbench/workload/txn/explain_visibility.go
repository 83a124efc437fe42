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
		around := 0
		for _, i := range s.neverSeen {
			if a.pairs[i].healPair {
				around++
			}
		}
		cause := "none of them was written or read across a partition"
		switch {
		case around == len(s.neverSeen):
			cause = "every one was written or read across a partition, and no read after the heal saw it"
		case around > 0:
			cause = fmt.Sprintf("%d of them were written or read across a partition", around)
		}
		n := len(s.neverSeen)
		out = append(out, results.Finding{Section: "glomers", Kind: "never-seen", Count: n,
			Short: results.Plural(n, "write") + " never seen",
			Summary: fmt.Sprintf("%s acknowledged on one node %s never seen on some other node: reads there kept missing it for longer than allowed (%v ms, %v ms after a heal) and no later read saw it; %s.",
				results.Plural(n, "write"), map[bool]string{true: "was", false: "were"}[n == 1], visMS(int64(b.P99)), visMS(int64(b.AfterHeal)), cause),
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
			Text: fmt.Sprintf("key %s = %s, %s by op %d and acknowledged %s, was still missing on %s %v ms later",
				val(w.k), val(w.val), verb, w.txn.index, explain.At(w.txn.ack), node, visMS(p.lag)),
			Lines: []string{"write: " + x.txn(w.txn.index)},
		}
		if a.appends {
			ex.Text = fmt.Sprintf("%s appended to key %s by op %d and acknowledged %s was still missing on %s %v ms later",
				val(w.val), val(w.k), w.txn.index, explain.At(w.txn.ack), node, visMS(p.lag))
		}
		if r := p.stale; r != nil {
			ex.Lines = append(ex.Lines, fmt.Sprintf("last read on %s that missed it (key %s = %s): %s", node, val(w.k), val(r.value), x.txn(r.txn.index)))
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
