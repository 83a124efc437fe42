package elle

import "sort"

// This file holds Elle's consistency-model lattice (Elle 0.2.2,
// src/elle/consistency_model.clj): which anomalies imply which, which
// models imply which, what each model directly prohibits, and the
// functions built on them (anomalies-prohibited-by, boundary).

// impliedAnomalies is Elle's implied-anomalies DAG: seeing the key means
// the values are present too.
var impliedAnomalies = map[string][]string{
	"G0":          {"G1c", "G0-process"},
	"G0-process":  {"G1c-process", "G0-realtime"},
	"G0-realtime": {"G1c-realtime"},

	"G1a":          {"G1"},
	"G1b":          {"G1"},
	"G1c":          {"G1", "G1c-process"},
	"G1c-process":  {"G1c-realtime", "G1-process"},
	"G1c-realtime": {"G1-realtime"},
	"G1":           {"G1-process"},
	"G1-process":   {"G1-realtime"},

	"G-single-item":          {"G-single", "G-single-item-process", "G-nonadjacent-item"},
	"G-single-item-process":  {"G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"},
	"G-single-item-realtime": {"G-single-realtime", "G-nonadjacent-item-realtime"},

	"G-single":          {"G-nonadjacent", "GSIb", "G-single-process"},
	"G-single-process":  {"G-nonadjacent-process", "G-single-realtime"},
	"G-single-realtime": {"G-nonadjacent-realtime"},

	"G-nonadjacent-item":          {"G-nonadjacent", "G2-item", "G-nonadjacent-item-process"},
	"G-nonadjacent-item-process":  {"G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"},
	"G-nonadjacent-item-realtime": {"G2-item-realtime", "G-nonadjacent-realtime"},

	"G-nonadjacent":          {"G2", "G-nonadjacent-process"},
	"G-nonadjacent-process":  {"G2-process", "G-nonadjacent-realtime"},
	"G-nonadjacent-realtime": {"G2-realtime"},

	"G2":               {"G2-process"},
	"G2-item":          {"G2", "G2-item-process"},
	"G2-item-process":  {"G2-process", "G2-item-realtime"},
	"G2-item-realtime": {"G2-realtime"},
	"G2-process":       {"G2-realtime"},

	"GSIa": {"GSI"},
	"GSIb": {"GSI"},

	"incompatible-order": {"G1a"},
	"future-read":        {"G1c"},
	"dirty-update":       {"G1a"},
	"lost-update":        {"write-skew", "G2-item"},
	"write-skew":         {"G2"},
}

// canonicalModelNames maps Elle's friendly model names to canonical ones
// (consistency_model.clj, canonical-model-names).
var canonicalModelNames = map[string]string{
	"consistent-view":                 "PL-2+",
	"conflict-serializable":           "PL-3",
	"cursor-stability":                "PL-CS",
	"forward-consistent-view":         "PL-FCV",
	"monotonic-snapshot-read":         "PL-MSR",
	"monotonic-view":                  "PL-2L",
	"read-committed":                  "PL-2",
	"read-uncommitted":                "PL-1",
	"repeatable-read":                 "PL-2.99",
	"serializable":                    "PL-3",
	"snapshot-isolation":              "PL-SI",
	"strict-serializable":             "PL-SS",
	"strong-serializable":             "PL-SS",
	"update-serializable":             "PL-3U",
	"strong-session-read-uncommitted": "strong-session-PL-1",
	"strong-session-read-committed":   "strong-session-PL-2",
	"strong-read-uncommitted":         "strong-PL-1",
	"strong-read-committed":           "strong-PL-2",
}

// friendlyModelNames inverts canonicalModelNames. Where two friendly names
// share a canonical one, Elle 0.2.2 prints :serializable for PL-3 (set
// explicitly) and, through Clojure's hash-map iteration order,
// :strong-serializable for PL-SS.
var friendlyModelNames = map[string]string{
	"PL-2+": "consistent-view", "PL-3": "serializable", "PL-CS": "cursor-stability",
	"PL-FCV": "forward-consistent-view", "PL-MSR": "monotonic-snapshot-read",
	"PL-2L": "monotonic-view", "PL-2": "read-committed", "PL-1": "read-uncommitted",
	"PL-2.99": "repeatable-read", "PL-SI": "snapshot-isolation", "PL-SS": "strong-serializable",
	"PL-3U":               "update-serializable",
	"strong-session-PL-1": "strong-session-read-uncommitted",
	"strong-session-PL-2": "strong-session-read-committed",
	"strong-PL-1":         "strong-read-uncommitted",
	"strong-PL-2":         "strong-read-committed",
}

func canonicalModel(m string) string {
	if c, ok := canonicalModelNames[m]; ok {
		return c
	}
	return m
}

func friendlyModel(m string) string {
	if f, ok := friendlyModelNames[m]; ok {
		return f
	}
	return m
}

// modelsRaw is Elle's models DAG before canonicalisation: a history
// satisfying the key satisfies every value.
var modelsRaw = map[string][]string{
	"causal-cerone":               {"read-atomic"},
	"consistent-view":             {"cursor-stability", "monotonic-view"},
	"conflict-serializable":       {"view-serializable"},
	"cursor-stability":            {"read-committed", "PL-2"},
	"forward-consistent-view":     {"consistent-view"},
	"PL-2":                        {"PL-1"},
	"PL-3":                        {"repeatable-read", "update-serializable"},
	"update-serializable":         {"forward-consistent-view"},
	"monotonic-atomic-view":       {"read-committed"},
	"monotonic-view":              {"PL-2"},
	"monotonic-snapshot-read":     {"PL-2"},
	"parallel-snapshot-isolation": {"causal-cerone", "update-atomic"},
	"prefix":                      {"causal-cerone"},
	"read-atomic":                 {"monotonic-atomic-view"},
	"read-committed":              {"read-uncommitted"},
	"repeatable-read":             {"cursor-stability", "monotonic-atomic-view"},
	"update-atomic":               {"read-atomic"},
	"serializable":                {"repeatable-read", "snapshot-isolation", "view-serializable"},
	"session-serializable":        {"1SR"},
	"snapshot-isolation": {"forward-consistent-view", "monotonic-atomic-view",
		"monotonic-snapshot-read", "parallel-snapshot-isolation", "prefix"},
	"strict-serializable": {"PL-3", "serializable", "linearizable", "snapshot-isolation",
		"strong-snapshot-isolation", "strong-session-serializable"},
	"strong-session-PL-1":               {"PL-1"},
	"strong-session-PL-2":               {"PL-2", "strong-session-PL-1"},
	"strong-PL-1":                       {"strong-session-PL-1"},
	"strong-PL-2":                       {"strong-session-PL-2", "strong-PL-1"},
	"strong-session-serializable":       {"serializable", "strong-session-snapshot-isolation"},
	"strong-session-snapshot-isolation": {"snapshot-isolation", "strong-session-PL-2"},
	"strong-serializable":               {"session-serializable"},
	"strong-snapshot-isolation":         {"strong-session-snapshot-isolation", "strong-PL-2"},
	"linearizable":                      {"sequential"},
	"sequential":                        {"causal"},
	"causal":                            {"writes-follow-reads", "PRAM"},
	"PRAM":                              {"monotonic-reads", "monotonic-writes", "read-your-writes"},
}

// directProscribedRaw is Elle's direct-proscribed-anomalies, keyed by
// model names that are canonicalised (and merged) when the lattice is built.
var directProscribedRaw = []struct {
	model     string
	anomalies []string
}{
	{"causal-cerone", []string{"internal", "G1a"}},
	{"cursor-stability", []string{"G1", "G-cursor", "lost-update"}},
	{"monotonic-view", []string{"G1", "G-monotonic"}},
	{"monotonic-snapshot-read", []string{"G1", "G-MSR"}},
	{"consistent-view", []string{"G1", "G-single"}},
	{"forward-consistent-view", []string{"G1", "G-SIb"}},
	{"parallel-snapshot-isolation", []string{"internal", "G1a"}},
	{"PL-3", []string{"G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"}},
	{"PL-2", []string{"G1", "PL-2-cycle-exists"}},
	{"PL-1", []string{"G0", "duplicate-elements", "cyclic-versions", "PL-1-cycle-exists"}},
	{"prefix", []string{"internal", "G1a"}},
	{"serializable", []string{"internal"}},
	{"snapshot-isolation", []string{"internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"}},
	{"read-atomic", []string{"internal", "G1a", "future-read"}},
	{"repeatable-read", []string{"G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"}},
	{"update-atomic", []string{"lost-update"}},
	{"strict-serializable", []string{"G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"}},
	{"strong-session-PL-1", []string{"strong-session-PL-1-cycle-exists", "G0-process"}},
	{"strong-session-PL-2", []string{"strong-session-PL-2-cycle-exists", "G1c-process"}},
	{"strong-PL-1", []string{"strong-PL-1-cycle-exists", "G0-realtime"}},
	{"strong-PL-2", []string{"strong-PL-2-cycle-exists", "G1c-realtime"}},
	{"strong-session-snapshot-isolation", []string{"internal", "G1-process", "G-nonadjacent-process",
		"strong-session-snapshot-isolation-cycle-exists"}},
	{"strong-snapshot-isolation", []string{"internal", "G1-realtime", "G-nonadjacent-realtime",
		"strong-snapshot-isolation-cycle-exists"}},
	{"strong-session-serializable", []string{"G1-process", "G2-process",
		"strong-session-serializable-cycle-exists"}},
	{"update-serializable", []string{"G1", "G-update"}},
}

// lattice is the canonicalised form of the tables above, with reverse edges.
type lattice struct {
	weaker, stronger     map[string][]string // models: a implies (is stronger than) b
	implies, impliedBy   map[string][]string // anomalies
	prohibits, forbidden map[string][]string // model -> anomalies; anomaly -> models
	known                map[string]bool     // every model name Elle knows
}

func newLattice() *lattice {
	l := &lattice{
		weaker: map[string][]string{}, stronger: map[string][]string{},
		implies: impliedAnomalies, impliedBy: map[string][]string{},
		prohibits: map[string][]string{}, forbidden: map[string][]string{},
		known: map[string]bool{},
	}
	for a, bs := range impliedAnomalies {
		for _, b := range bs {
			l.impliedBy[b] = append(l.impliedBy[b], a)
		}
	}
	for a, bs := range modelsRaw {
		ca := canonicalModel(a)
		l.known[ca] = true
		for _, b := range bs {
			cb := canonicalModel(b)
			l.known[cb] = true
			l.weaker[ca] = append(l.weaker[ca], cb)
			l.stronger[cb] = append(l.stronger[cb], ca)
		}
	}
	for f, c := range canonicalModelNames {
		l.known[f], l.known[c] = true, true
	}
	for _, d := range directProscribedRaw {
		m := canonicalModel(d.model)
		for _, a := range d.anomalies {
			l.prohibits[m] = append(l.prohibits[m], a)
			l.forbidden[a] = append(l.forbidden[a], m)
		}
	}
	return l
}

// closure returns the starts and everything reachable from them through
// next, as Elle's g/bfs does (starting vertices included).
func closure(starts []string, next map[string][]string) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string(nil), starts...)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		stack = append(stack, next[x]...)
	}
	return seen
}

// KnownModel reports whether Elle knows the consistency model name
// (friendly or canonical), as elle.consistency-model/validate-models checks.
func KnownModel(m string) bool { return defaultLattice.known[m] }

// defaultLattice is immutable after package initialisation.
var defaultLattice = newLattice()

// ProhibitedAnomalies returns the anomaly types that must not appear if
// all the given models hold: Elle's anomalies-prohibited-by (every model
// the given ones imply, their direct prohibitions, and every anomaly that
// implies one of those).
func ProhibitedAnomalies(models []string) map[string]bool {
	l := defaultLattice
	var cs []string
	for _, m := range models {
		cs = append(cs, canonicalModel(m))
	}
	var direct []string
	for m := range closure(cs, l.weaker) {
		direct = append(direct, l.prohibits[m]...)
	}
	return closure(direct, l.impliedBy)
}

// ImpossibleModels returns the canonical models that cannot hold given the
// anomaly types: Elle's anomalies->impossible-models.
func ImpossibleModels(anomalies []string) map[string]bool {
	l := defaultLattice
	var direct []string
	for a := range closure(anomalies, l.implies) {
		direct = append(direct, l.forbidden[a]...)
	}
	return closure(direct, l.stronger)
}

// Boundary computes Elle's friendly-boundary: :not, the weakest models the
// anomaly types rule out, and :also-not, every other ruled-out model, both
// as sorted friendly names.
func Boundary(anomalies []string) (not, alsoNot []string) {
	l := defaultLattice
	impossible := ImpossibleModels(anomalies)
	isNot := map[string]bool{}
	for m := range impossible {
		weakest := true
		for w := range closure([]string{m}, l.weaker) {
			if w != m && impossible[w] {
				weakest = false
				break
			}
		}
		if weakest {
			isNot[m] = true
		}
	}
	seenNot, seenAlso := map[string]bool{}, map[string]bool{}
	for m := range impossible {
		f := friendlyModel(m)
		if isNot[m] {
			if !seenNot[f] {
				seenNot[f] = true
				not = append(not, f)
			}
		} else if !seenAlso[f] {
			seenAlso[f] = true
			alsoNot = append(alsoNot, f)
		}
	}
	sort.Strings(not)
	sort.Strings(alsoNot)
	return not, alsoNot
}
