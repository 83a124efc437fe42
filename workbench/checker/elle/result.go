package elle

import (
	"regexp"

	"github.com/glomers/glomers/workbench/edn"
)

// unknownAnomalyTypes make Elle's verdict :unknown rather than false
// (txn/unknown-anomaly-types).
var unknownAnomalyTypes = map[string]bool{"empty-transaction-graph": true, "cycle-search-timeout": true}

// modelsOrDefault returns models, or Elle's and Maelstrom's default
// --consistency-models, strict-serializable.
func modelsOrDefault(models []string) []string {
	if len(models) == 0 {
		return []string{"strict-serializable"}
	}
	return models
}

// Reportable returns the anomaly types worth reporting under the models:
// those they prohibit plus :empty-transaction-graph and
// :cycle-search-timeout (txn/reportable-anomaly-types).
func Reportable(models []string) map[string]bool {
	r := ProhibitedAnomalies(modelsOrDefault(models))
	for t := range unknownAnomalyTypes {
		r[t] = true
	}
	return r
}

var realtimeType = regexp.MustCompile(`-realtime`)
var processType = regexp.MustCompile(`-process`)

// NeedsRealtime and NeedsProcess say which extra order Elle adds to the
// dependency graph for the models (txn/additional-graphs): the realtime
// order when some realtime cycle type is reportable, else the process
// order when some process cycle type is; never both.
func NeedsRealtime(models []string) bool {
	for t := range Reportable(models) {
		if isCycleType[t] && realtimeType.MatchString(t) {
			return true
		}
	}
	return false
}

// NeedsProcess: see NeedsRealtime.
func NeedsProcess(models []string) bool {
	if NeedsRealtime(models) {
		return false
	}
	for t := range Reportable(models) {
		if isCycleType[t] && processType.MatchString(t) {
			return true
		}
	}
	return false
}

// Result is Elle's txn/result-map: {:valid? true} when no reportable
// anomaly was found, else :valid? (false if a prohibited anomaly is
// present, :unknown otherwise), :anomaly-types (sorted), :anomalies (the
// reportable ones, with cycle-exists cases dropped when another anomaly
// already rules their model out), and :not / :also-not computed from every
// anomaly found, reportable or not.
func Result(a Anomalies, models []string) edn.Map {
	models = modelsOrDefault(models)
	prohibited := ProhibitedAnomalies(models)
	reportable := Reportable(models)
	bad := false
	rep := Anomalies{}
	for _, t := range a.Types() {
		if prohibited[t] {
			bad = true
		}
		if reportable[t] {
			rep[t] = a[t]
		}
	}
	removeRedundantCycleExists(rep)
	if len(rep) == 0 {
		return edn.K("valid?", true)
	}
	var valid any = edn.Keyword("unknown")
	if bad {
		valid = false
	}
	types := rep.Types()
	tl := make(edn.List, len(types))
	am := make(edn.Map, 0, len(types))
	for i, t := range types {
		tl[i] = edn.Keyword(t)
		am = append(am, edn.Entry{Key: edn.Keyword(t), Val: casesEDN(t, rep[t])})
	}
	not, alsoNot := Boundary(a.Types())
	return edn.K("valid?", valid, "anomaly-types", tl, "anomalies", am,
		"not", kwSet(not), "also-not", kwSet(alsoNot))
}

// listTypes are the anomaly types whose cases Elle collects as a seq
// (printed as a list); the others are vectors.
var listTypes = map[string]bool{"G1a": true, "G1b": true, "internal": true,
	"duplicate-elements": true, "future-read": true, "dirty-update": true, "incompatible-order": true}

// casesEDN prints one anomaly type's cases; :empty-transaction-graph is
// Elle's bare true.
func casesEDN(t string, cases []edn.Map) any {
	if t == "empty-transaction-graph" {
		return true
	}
	if listTypes[t] {
		l := make(edn.List, len(cases))
		for i, c := range cases {
			l[i] = c
		}
		return l
	}
	v := make(edn.Vector, len(cases))
	for i, c := range cases {
		v[i] = c
	}
	return v
}

func kwSet(names []string) edn.Set {
	s := make(edn.Set, len(names))
	for i, n := range names {
		s[i] = edn.Keyword(n)
	}
	return s
}

var cycleExistsType = regexp.MustCompile(`-cycle-exists$`)

// removeRedundantCycleExists is Elle's txn/remove-redundant-cycle-exists.
func removeRedundantCycleExists(a Anomalies) {
	var others []string
	for t := range a {
		if !cycleExistsType.MatchString(t) {
			others = append(others, t)
		}
	}
	impossible := ImpossibleModels(others)
	for _, spec := range cycleExistsSpecs {
		if impossible[spec.model] {
			delete(a, spec.model+"-cycle-exists")
		}
	}
	for _, m := range []string{"PL-SI", "strong-session-snapshot-isolation", "strong-snapshot-isolation"} {
		if impossible[m] {
			delete(a, m+"-cycle-exists")
		}
	}
}
