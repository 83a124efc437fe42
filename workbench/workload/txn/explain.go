package txn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/results"
)

// Explain tells, for each anomaly Elle reported, the story of its
// transactions and of the edges that prove it (Section "workload"), with
// a drawing of the first cycles of each type, and what the visibility
// check found (Section "glomers"). It reads the checker's cases back from
// ev.Workload rather than checking again, and takes the visibility
// analysis ExtraCheck kept, so its cost grows with the examples it
// tells more than with the history.
func (w *txnWorkload) Explain(ev *explain.Evidence) []results.Finding {
	var out []results.Finding
	if ev.Workload != nil && checker.ValidityOf(ev.Workload) != checker.Valid {
		out = append(out, explainAnomalies(ev, w.appends)...)
		if e, ok := ev.Workload.Get(edn.Keyword("error")); ok {
			out = append(out, results.Finding{Section: "workload", Kind: "checker-error", Count: 1, Short: "not checkable",
				Summary: fmt.Sprintf("Elle could not check the history, so its verdict is unknown: %s.", strings.TrimSuffix(val(e), "."))})
		}
	}
	if ev.Extra != nil && checker.ValidityOf(ev.Extra) != checker.Valid {
		a := w.keptVisibility(ev.Ops)
		if a == nil {
			a = newVisAnalysis(ev.Ops, ev.Nodes, ev.Concurrency, w.appends)
			a.measure(w.Visibility)
		}
		out = append(out, explainVisibility(ev, a, w.Visibility)...)
	}
	return out
}

// explainAnomalies turns each anomaly type of ev.Workload into a finding.
func explainAnomalies(ev *explain.Evidence, appends bool) []results.Finding {
	anomalies, _ := ev.Workload.Lookup("anomalies").(edn.Map)
	cases := caseTeller{teller{ev}}
	cycles := cycleTeller{teller: teller{ev}, appends: appends}
	var out []results.Finding
	for _, e := range anomalies {
		kw, ok := e.Key.(edn.Keyword)
		if !ok {
			continue
		}
		t := string(kw)
		cs := casesOf(e.Val)
		if t == "empty-transaction-graph" {
			cs = []edn.Map{nil}
		}
		if len(cs) == 0 {
			continue
		}
		var f results.Finding
		switch {
		case elle.IsCycleType(t):
			f = cycles.finding(t, cs)
		case strings.HasSuffix(t, "-cycle-exists"):
			f = cycleExists(t, cs)
		default:
			f = cases.finding(t, cs)
		}
		f.Section, f.Kind, f.Count = "workload", t, len(cs)
		f.Short = fmt.Sprintf("%s ×%d", t, len(cs))
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return anomalyRank(out[i].Kind) < anomalyRank(out[j].Kind) })
	return out
}

// anomalyRanks order the findings from the plainest wrong to the
// subtlest: a transaction at odds with itself or a read no store could
// return first, then what read-committed forbids, then what only
// serializability does, then Elle's fallbacks.
var anomalyRanks = map[string]int{
	"internal": 0, "duplicate-elements": 1, "incompatible-order": 2, "future-read": 3, "cyclic-versions": 4,
	"G0": 10, "G1a": 11, "G1b": 12, "dirty-update": 13, "G1c": 14,
	"lost-update": 20, "G-single": 21, "G-nonadjacent": 22, "G2": 23,
	"cycle-search-timeout": 31, "empty-transaction-graph": 32,
}

// anomalyRank is a type's rank: its base type's, the -process and
// -realtime variants just after the plain one; cycle-exists cases and
// unknown types last.
func anomalyRank(t string) int {
	base, variant := elle.BaseType(t)
	r, ok := anomalyRanks[strings.TrimSuffix(base, "-item")]
	if !ok {
		r = 30
		if !strings.HasSuffix(t, "-cycle-exists") {
			r = 40
		}
	}
	r *= 4
	switch variant {
	case elle.Process:
		r++
	case elle.Realtime:
		r += 2
	}
	return r
}

// casesOf reads an anomaly type's cases (a list or vector of maps).
func casesOf(v any) []edn.Map {
	items := edn.Items(v)
	out := make([]edn.Map, 0, len(items))
	for _, it := range items {
		if m, ok := it.(edn.Map); ok {
			out = append(out, m)
		}
	}
	return out
}

// forbids ends a summary's first sentence with the weakest consistency
// models an anomaly type rules out: "; read-committed forbids it (and
// every stronger model).", "; cursor-stability and update-atomic forbid
// it (and every stronger model).", just "." when it rules out none.
func forbids(t string) string {
	not, _ := elle.Boundary([]string{t})
	switch len(not) {
	case 0:
		return "."
	case 1:
		return fmt.Sprintf("; %s forbids it (and every stronger model).", not[0])
	}
	return fmt.Sprintf("; %s and %s forbid it (and every stronger model).", strings.Join(not[:len(not)-1], ", "), not[len(not)-1])
}
