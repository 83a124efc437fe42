package txn

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// VisibilityBounds are the limits Visibility holds a run to.
type VisibilityBounds struct {
	// Median and P99 bound the quantiles of the visibility lag of writes
	// outside partitions.
	Median, P99 time.Duration
	// AfterHeal bounds how long after a partition heals a node may still
	// miss a write.
	AfterHeal time.Duration
}

// DefaultVisibilityBounds are the targets of the txn challenges (6b, 6c):
// median ≤ 100 ms, p99 ≤ 500 ms, and every write visible everywhere
// within 1 s of a heal.
func DefaultVisibilityBounds() VisibilityBounds {
	return VisibilityBounds{Median: 100 * time.Millisecond, P99: 500 * time.Millisecond, AfterHeal: time.Second}
}

// Visibility measures how soon acknowledged writes become visible on
// the other nodes, something Maelstrom's checkers never look at: a store
// that never replicates passes read-committed.
//
// Each worker process talks to one node: thread = process mod
// concurrency, node = nodes[thread mod len(nodes)]. A write is the final
// write of a key by an :ok transaction W (in txn-list-append, every
// append), acknowledged at W's completion. For each other node m the
// reads considered are the external reads of that key (the transaction's
// first micro-operation on it is the read) by :ok transactions sent to m
// and invoked after the acknowledgement, in invocation order. Each such
// read
//
//   - sees the write when it returns the written value (list-append: a
//     list containing the element);
//   - supersedes it (rw-register) when it returns a value written by a
//     transaction invoked after the write was acknowledged and sent to
//     another node than m: m got a newer state from elsewhere, and may
//     have held the write before, we cannot tell;
//   - is stale when it returns nil or a value whose writer completed
//     before W was invoked (list-append: any list without the element);
//   - is ignored otherwise: a value written concurrently with W, by an
//     indeterminate or failed transaction, by nobody, or by a later
//     transaction sent to m itself, which m serves whether it has the
//     write or not.
//
// The first read that sees or supersedes the write resolves it on m. The
// lag of the pair (write, m) is the proven part: from the
// acknowledgement to the invocation of the last stale read before the
// resolution, 0 when there was none. Sparse reads can only make it
// smaller, never larger, so it is a lower bound of the true lag; the time
// to the completion of the first read that sees the write, an upper
// bound, is reported too. A pair is unresolved when stale reads follow
// the acknowledgement and no read resolves it (often because m's own
// later writes hide it); its lag counts like any other, and when it
// exceeds the p99 bound (after a heal: the heal bound) the write was
// never seen. Pairs with no read after the
// acknowledgement say nothing and are left out.
//
// Partitions are the spans from a start-partition nemesis operation to
// the completion of the next stop-partition; every partition is assumed
// to separate every pair of nodes. A pair whose span — from W's
// invocation to the completion of its resolving read, or of its last
// stale read when unresolved — overlaps a partition is judged after the
// heal instead: its after-heal lag runs from the later of the
// acknowledgement and the end of the last partition that began before its
// last stale read, to that read (0 when the read fell inside that
// partition, or there was none before it).
//
// Valid when, outside partitions, the median lag is at most b.Median and
// the 99th percentile at most b.P99, every after-heal lag is at most
// b.AfterHeal, and no write was never seen.
func Visibility(ops []history.Op, nodes []string, concurrency int, appends bool, b VisibilityBounds) edn.Map {
	a := newVisAnalysis(ops, nodes, concurrency, appends)
	a.measure(b)
	return a.result(b)
}

// visTxn is one transaction as the visibility analysis needs it.
type visTxn struct {
	inv, ack int64 // invocation and completion times; ack is MaxInt64 unless :ok
	ok       bool
	node     int
	value    []any // micro-operations (the completion's when :ok)
	index    int   // the history index of its completion (of its invocation when none)
}

// visRead is an external read of one key.
type visRead struct {
	inv, comp int64
	value     any
	txn       *visTxn
}

// visWriter identifies who wrote a value of a key (rw-register).
type visWriter struct {
	txn          *visTxn
	intermediate bool
}

// visPair is the outcome for one write on one other node.
type visPair struct {
	write                 int   // index into writes
	healPair              bool  // its span overlaps a partition
	resolved, seen        bool  // a read saw or superseded the write
	lag                   int64 // the proven lag (outside partitions) or after-heal lag
	upper                 int64 // ack → completion of the read that saw it, when seen
	heal                  int   // index of the partition whose heal the after-heal lag counts from, or −1
	unresolved, neverSeen bool
	node                  int      // the other node
	stale, resolver       *visRead // the last stale read, and the read that resolved it; nil when none
}

// visWrite is one acknowledged write: key k (keyText is history.Key(k))
// set to val, or val appended to k.
type visWrite struct {
	txn     *visTxn
	keyText string
	k, val  any
}

type visPeriod struct{ start, end int64 }

type visAnalysis struct {
	appends bool
	nodes   int
	writes  []visWrite
	reads   map[string][][]visRead          // key → node → reads in invocation order
	writers map[string]map[string]visWriter // key → value key → writer (rw-register)
	periods []visPeriod
	pairs   []visPair
}

func newVisAnalysis(ops []history.Op, nodes []string, concurrency int, appends bool) *visAnalysis {
	a := &visAnalysis{appends: appends, nodes: len(nodes), reads: map[string][][]visRead{},
		writers: map[string]map[string]visWriter{}}
	if concurrency < 1 {
		concurrency = 1
	}
	nodeOf := func(p int) int {
		if a.nodes == 0 {
			return 0
		}
		return (p % concurrency) % a.nodes
	}
	for _, op := range ops {
		if op.IsClient() {
			continue
		}
		switch op.F {
		case "start-partition":
			if n := len(a.periods); n == 0 || a.periods[n-1].end != math.MaxInt64 {
				a.periods = append(a.periods, visPeriod{start: op.Time, end: math.MaxInt64})
			}
		case "stop-partition":
			// Both the nemesis's invocation and completion move the end:
			// the heal is done at the later one.
			if n := len(a.periods); n > 0 && (a.periods[n-1].end == math.MaxInt64 || a.periods[n-1].end <= op.Time) {
				a.periods[n-1].end = op.Time
			}
		}
	}
	for _, p := range history.Pairs(ops) {
		if p.Invoke.F != "txn" {
			continue
		}
		t := &visTxn{inv: p.Invoke.Time, ack: math.MaxInt64, node: nodeOf(p.Invoke.Process),
			index: p.Invoke.Index}
		t.value, _ = p.Invoke.Value.([]any)
		if c := p.Complete; c != nil {
			t.index = c.Index
			if c.Type == history.Fail {
				continue // it wrote nothing anyone may see
			}
			if c.Type == history.OK {
				t.ok, t.ack = true, c.Time
				t.value, _ = c.Value.([]any)
			}
		}
		a.addTxn(t)
	}
	for _, byNode := range a.reads {
		for _, rs := range byNode {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].inv < rs[j].inv })
		}
	}
	return a
}

// addTxn indexes a transaction's external reads (when :ok) and its writes.
func (a *visAnalysis) addTxn(t *visTxn) {
	touched := map[string]bool{}
	lastWrite := map[string]int{} // key → position of the txn's last write to it
	for i, m := range t.value {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			continue
		}
		k := history.Key(mop[1])
		if f, _ := mop[0].(edn.Keyword); f == "r" {
			if !touched[k] && t.ok {
				byNode := a.reads[k]
				if byNode == nil {
					byNode = make([][]visRead, max(a.nodes, 1))
					a.reads[k] = byNode
				}
				byNode[t.node] = append(byNode[t.node], visRead{inv: t.inv, comp: t.ack, value: mop[2], txn: t})
			}
		} else {
			lastWrite[k] = i
			if a.appends && t.ok {
				a.writes = append(a.writes, visWrite{txn: t, keyText: k, k: mop[1], val: mop[2]})
			}
		}
		touched[k] = true
	}
	if a.appends {
		return
	}
	for i, m := range t.value {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			continue
		}
		if f, _ := mop[0].(edn.Keyword); f == "r" {
			continue
		}
		k := history.Key(mop[1])
		final := lastWrite[k] == i
		if a.writers[k] == nil {
			a.writers[k] = map[string]visWriter{}
		}
		a.writers[k][history.Key(mop[2])] = visWriter{txn: t, intermediate: !final}
		if final && t.ok {
			a.writes = append(a.writes, visWrite{txn: t, keyText: k, k: mop[1], val: mop[2]})
		}
	}
}

// Read classes.
const (
	visIgnored = iota
	visStale
	visSeen
	visSuperseding
)

// classify says what read r on node m tells of write w.
func (a *visAnalysis) classify(w visWrite, r visRead, m int) int {
	if a.appends {
		l, _ := r.value.([]any)
		for _, e := range l {
			if history.Equal(e, w.val) {
				return visSeen
			}
		}
		return visStale
	}
	if r.value == nil {
		return visStale
	}
	if history.Equal(r.value, w.val) {
		return visSeen
	}
	wr, ok := a.writers[w.keyText][history.Key(r.value)]
	switch {
	case !ok || wr.intermediate:
		return visIgnored
	case wr.txn.ok && wr.txn.ack < w.txn.inv:
		return visStale
	case wr.txn.inv > w.txn.ack && wr.txn.node != m:
		return visSuperseding
	}
	return visIgnored
}

// overlaps reports whether [from, to] meets a partition.
func (a *visAnalysis) overlaps(from, to int64) bool {
	for _, p := range a.periods {
		if from <= p.end && p.start <= to {
			return true
		}
	}
	return false
}

func (a *visAnalysis) measure(b VisibilityBounds) {
	for wi, w := range a.writes {
		byNode := a.reads[w.keyText]
		for m := 0; m < a.nodes; m++ {
			if m == w.txn.node || byNode == nil {
				continue
			}
			rs := byNode[m]
			i := sort.Search(len(rs), func(i int) bool { return rs[i].inv > w.txn.ack })
			if i == len(rs) {
				continue // never read there afterwards: no evidence either way
			}
			p := visPair{write: wi, heal: -1}
			var lastStale, resolver *visRead
			for ; i < len(rs); i++ {
				switch a.classify(w, rs[i], m) {
				case visStale:
					lastStale = &rs[i]
				case visSeen:
					resolver, p.seen = &rs[i], true
				case visSuperseding:
					resolver = &rs[i]
				default:
					continue
				}
				if resolver != nil {
					break
				}
			}
			if resolver == nil && lastStale == nil {
				continue // only ignored reads: no evidence
			}
			p.resolved = resolver != nil
			p.node, p.stale, p.resolver = m, lastStale, resolver
			var end int64 // where the evidence ends
			if resolver == nil {
				end = lastStale.comp
			} else {
				end = resolver.comp
				if p.seen {
					p.upper = resolver.comp - w.txn.ack
				}
			}
			p.healPair = a.overlaps(w.txn.inv, end)
			if lastStale != nil {
				if !p.healPair {
					p.lag = max(0, lastStale.inv-w.txn.ack)
				} else if h := a.periodBefore(lastStale.inv); h >= 0 && lastStale.inv > a.periods[h].end {
					p.heal = h
					p.lag = lastStale.inv - max(a.periods[h].end, w.txn.ack)
				}
			}
			if !p.resolved {
				p.unresolved = true
				bound := b.P99
				if p.healPair {
					bound = b.AfterHeal
				}
				p.neverSeen = time.Duration(p.lag) > bound
			}
			a.pairs = append(a.pairs, p)
		}
	}
}

// periodBefore returns the last partition that began at or before t, or −1.
func (a *visAnalysis) periodBefore(t int64) int {
	return sort.Search(len(a.periods), func(i int) bool { return a.periods[i].start > t }) - 1
}

// visMS renders nanoseconds as milliseconds, to the microsecond.
func visMS(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

// visSeconds renders nanoseconds as seconds, to the millisecond.
func visSeconds(ns int64) float64 { return math.Round(float64(ns)/1e6) / 1e3 }

// visQuantiles summarises lags as {0.5 median, 0.99 p99, 1 max} in ms.
func visQuantiles(sorted []int64) edn.Map {
	if len(sorted) == 0 {
		return nil
	}
	return edn.Map{
		{Key: 0.5, Val: visMS(checker.Quantile(sorted, 0.5))},
		{Key: 0.99, Val: visMS(checker.Quantile(sorted, 0.99))},
		{Key: int64(1), Val: visMS(checker.Quantile(sorted, 1))},
	}
}

// visSummary is what the pairs add up to: the lags outside partitions,
// the worst lag after a heal, and the writes never seen.
type visSummary struct {
	lags, uppers                                    []int64 // sorted
	outside, outsideSeen, outsideSuperseded, healed int     // pair counts
	worstHeal                                       int64
	worstHealAt                                     int   // index of that partition, or −1
	unresolved                                      int   // writes with an unresolved pair
	neverSeen                                       []int // the first never-seen pair of each such write
}

func (a *visAnalysis) summarise() visSummary {
	s := visSummary{worstHealAt: -1}
	unresolved, neverSeen := map[int]bool{}, map[int]bool{}
	for i, p := range a.pairs {
		if p.unresolved {
			unresolved[p.write] = true
		}
		if p.neverSeen && !neverSeen[p.write] {
			neverSeen[p.write] = true
			s.neverSeen = append(s.neverSeen, i)
		}
		if p.healPair {
			s.healed++
			if p.heal >= 0 && (p.lag > s.worstHeal || s.worstHealAt < 0) {
				s.worstHeal, s.worstHealAt = p.lag, p.heal
			}
			continue
		}
		s.outside++
		s.lags = append(s.lags, p.lag)
		switch {
		case p.seen:
			s.outsideSeen++
			s.uppers = append(s.uppers, p.upper)
		case p.resolved:
			s.outsideSuperseded++
		}
	}
	s.unresolved = len(unresolved)
	slices.Sort(s.lags)
	slices.Sort(s.uppers)
	return s
}

func (a *visAnalysis) result(b VisibilityBounds) edn.Map {
	s := a.summarise()
	lags, uppers, worstHeal, worstHealAt := s.lags, s.uppers, s.worstHeal, s.worstHealAt
	var neverSeenExamples edn.List
	for _, i := range s.neverSeen[:min(len(s.neverSeen), 8)] {
		p := a.pairs[i]
		w := a.writes[p.write]
		neverSeenExamples = append(neverSeenExamples, edn.K("key", w.k, "value", w.val,
			"acked-at", visMS(w.txn.ack), "lag-ms", visMS(p.lag)))
	}

	var problems edn.List
	if len(lags) > 0 {
		if med := checker.Quantile(lags, 0.5); time.Duration(med) > b.Median {
			problems = append(problems, fmt.Sprintf("median visibility lag %v ms exceeds %v", visMS(med), b.Median))
		}
		if p99 := checker.Quantile(lags, 0.99); time.Duration(p99) > b.P99 {
			problems = append(problems, fmt.Sprintf("p99 visibility lag %v ms exceeds %v", visMS(p99), b.P99))
		}
	}
	if time.Duration(worstHeal) > b.AfterHeal {
		problems = append(problems, fmt.Sprintf("a write was still invisible %v ms after the heal at %v s (bound %v)",
			visMS(worstHeal), visSeconds(a.periods[worstHealAt].end), b.AfterHeal))
	}
	if len(s.neverSeen) > 0 {
		problems = append(problems, fmt.Sprintf("%d writes were never seen on some node although reads there kept missing them for longer than allowed", len(s.neverSeen)))
	}
	valid := checker.Valid
	if len(problems) > 0 {
		valid = checker.Invalid
	}
	heals := 0
	for _, p := range a.periods {
		if p.end != math.MaxInt64 {
			heals++
		}
	}
	after := edn.K("heals", heals, "pairs", s.healed)
	switch {
	case worstHealAt >= 0:
		after = append(after, edn.K("max-ms", visMS(worstHeal), "worst-heal-at-s", visSeconds(a.periods[worstHealAt].end))...)
	case heals > 0 && s.healed > 0:
		// Writes met a partition that healed, and no read after a heal
		// missed one of them: none stayed invisible past its heal.
		after = append(after, edn.K("max-ms", visMS(0))...)
	}
	res := edn.K(
		"valid?", valid.EDN(),
		"writes", len(a.writes),
		"pairs", s.outside,
		"seen", s.outsideSeen,
		"superseded", s.outsideSuperseded,
		"lag-ms", visQuantiles(lags),
		"first-seen-ms", visQuantiles(uppers),
		"unresolved-writes", s.unresolved,
		"never-seen-writes", len(s.neverSeen),
	)
	if len(neverSeenExamples) > 0 {
		res = append(res, edn.Entry{Key: edn.Keyword("never-seen"), Val: neverSeenExamples})
	}
	res = append(res, edn.K(
		"after-heal", after,
		"bounds", edn.K("median-ms", visMS(int64(b.Median)), "p99-ms", visMS(int64(b.P99)), "after-heal-ms", visMS(int64(b.AfterHeal))),
	)...)
	if len(problems) > 0 {
		res = append(res, edn.Entry{Key: edn.Keyword("problems"), Val: problems})
	}
	return res
}
