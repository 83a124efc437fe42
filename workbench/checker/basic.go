package checker

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// statsIgnoredF lists the operation kinds whose :by-f entry does not count
// towards the :stats verdict: kafka's :crash ops never succeed by design,
// and :debug-topic-partitions is a diagnostic.
var statsIgnoredF = map[string]bool{"crash": true, "debug-topic-partitions": true}

// statCounts accumulates completions of one kind (or of all kinds).
type statCounts struct{ ok, fail, info int }

// edn renders the counts as Jepsen's stats fold does; valid is the verdict
// to print under :valid?.
func (c statCounts) edn(valid Validity) edn.Map {
	return edn.K(
		"valid?", valid.EDN(),
		"count", c.ok+c.fail+c.info,
		"ok-count", c.ok,
		"fail-count", c.fail,
		"info-count", c.info,
	)
}

// validity is Jepsen's per-kind rule: at least one :ok.
func (c statCounts) validity() Validity {
	if c.ok > 0 {
		return Valid
	}
	return Invalid
}

// Stats counts client completions (invocations and nemesis operations are
// left out), overall and per :f:
//
//	{:valid? true, :count 3, :ok-count 2, :fail-count 0, :info-count 1,
//	 :by-f {:read {:valid? true, :count 3, ...}}}
//
// A kind is valid when at least one of its operations completed :ok; the
// whole is valid when every kind is, except :crash and
// :debug-topic-partitions, which are reported but never count. :by-f is
// sorted by kind name.
func Stats(ops []history.Op) edn.Map {
	var all statCounts
	byF := map[string]*statCounts{}
	for _, op := range ops {
		if !op.IsClient() || op.Type == history.Invoke {
			continue
		}
		c := byF[op.F]
		if c == nil {
			c = &statCounts{}
			byF[op.F] = c
		}
		for _, s := range []*statCounts{&all, c} {
			switch op.Type {
			case history.OK:
				s.ok++
			case history.Fail:
				s.fail++
			case history.Info:
				s.info++
			}
		}
	}
	fs := make([]string, 0, len(byF))
	for f := range byF {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	valid := Valid
	perF := make(edn.Map, 0, len(fs))
	for _, f := range fs {
		v := byF[f].validity()
		if !statsIgnoredF[f] {
			valid = Worst(valid, v)
		}
		perF = append(perF, edn.Entry{Key: edn.Keyword(f), Val: byF[f].edn(v)})
	}
	return append(all.edn(valid), edn.Entry{Key: edn.Keyword("by-f"), Val: perF})
}

// ParseAvailability checks an --availability value: "" (no requirement),
// "total" (every operation must succeed) or a decimal fraction in [0, 1]
// (the least acceptable share of :ok operations).
func ParseAvailability(s string) error {
	_, err := parseAvailability(s)
	return err
}

// parseAvailability returns the required ok-fraction: -1 for none, 1 for
// "total", else the given fraction.
func parseAvailability(s string) (float64, error) {
	switch s {
	case "":
		return -1, nil
	case "total":
		return 1, nil
	}
	a, err := strconv.ParseFloat(s, 64)
	if err != nil || a < 0 || a > 1 || a != a {
		return 0, fmt.Errorf("availability %q: want \"total\" or a fraction between 0 and 1", s)
	}
	return a, nil
}

// Availability reports the fraction of client operations that completed
// :ok and checks it against expected (see ParseAvailability):
//
//	{:valid? true, :ok-fraction 0.9995328}
//
// The fraction is ok completions over client invocations, a float32 as in
// Maelstrom (which uses Clojure's float), or the integer 1 when nothing
// was invoked. With expected "total" the run is valid only if every
// invocation completed :ok; with a fraction a, if the ok-fraction is at
// least a; with "" it is always valid. An unparsable expected value gives
// {:valid? :unknown, :error ...}.
func Availability(ops []history.Op, expected string) edn.Map {
	want, err := parseAvailability(expected)
	if err != nil {
		return UnknownResult(err)
	}
	var oks, invokes int
	for _, op := range ops {
		if !op.IsClient() {
			continue
		}
		switch op.Type {
		case history.Invoke:
			invokes++
		case history.OK:
			oks++
		}
	}
	var fraction any = int64(1) // printed as 1 when nothing was invoked
	f32 := OKFraction(oks, invokes)
	if invokes > 0 {
		fraction = f32
	}
	f := float64(f32)
	valid := Valid
	switch {
	case expected == "total":
		// Exact counting rather than Maelstrom's float comparison, which
		// rounds a miss in 10⁸ up to 1.0.
		if oks != invokes {
			valid = Invalid
		}
	case want >= 0 && f < want:
		valid = Invalid
	}
	return edn.K("valid?", valid.EDN(), "ok-fraction", fraction)
}

// OKFraction is :availability :ok-fraction: the share of invocations
// that ended :ok, as the float32 Maelstrom prints, or 1 when nothing was
// invoked.
func OKFraction(oks, invokes int) float32 {
	if invokes <= 0 {
		return 1
	}
	return float32(float64(oks) / float64(invokes))
}

// Exceptions groups the client :info completions that carry an exception
// (malformed replies, client crashes) by exception class, most frequent
// first (ties in order of first appearance):
//
//	{:valid? true, :exceptions ({:count 2, :class "malformed-reply", :example {...}})}
//
// or just {:valid? true} when there were none. It is informational and
// always valid. The example is the first operation of its class.
func Exceptions(ops []history.Op) edn.Map {
	type group struct {
		class   string
		count   int
		example history.Op
	}
	var groups []*group
	byClass := map[string]*group{}
	for _, op := range ops {
		if !op.IsClient() || op.Type != history.Info || op.Exception == "" {
			continue
		}
		g := byClass[op.Exception]
		if g == nil {
			g = &group{class: op.Exception, example: op}
			byClass[op.Exception] = g
			groups = append(groups, g)
		}
		g.count++
	}
	if len(groups) == 0 {
		return edn.K("valid?", true)
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].count > groups[j].count })
	l := make(edn.List, len(groups))
	for i, g := range groups {
		l[i] = edn.K("count", g.count, "class", g.class, "example", g.example.EDN())
	}
	return edn.K("valid?", true, "exceptions", l)
}

// Perf is the result of the performance checker, which only draws plots
// (the report package renders them) and is always valid.
func Perf() edn.Map {
	return edn.K(
		"latency-graph", edn.K("valid?", true),
		"rate-graph", edn.K("valid?", true),
		"valid?", true,
	)
}

// Timeline is the result of the timeline checker, which only renders
// timeline.html and is always valid.
func Timeline() edn.Map { return edn.K("valid?", true) }

// Section is one entry of a composed result: a checker's result under
// its name.
type Section struct {
	Name string // the checker's name, printed as a keyword (:workload)
	// Result is what the checker returned: an edn.Map with a :valid?
	// entry. Anything else counts as :unknown.
	Result any
	// Advisory marks a section that is printed but left out of the
	// composed verdict, such as glomers' own checks without --strict.
	Advisory bool
}

// Validity is the section's own verdict, read from its :valid?.
func (s Section) Validity() Validity {
	if m, ok := s.Result.(edn.Map); ok {
		return ValidityOf(m)
	}
	return Unknown
}

// Composed is the result of Jepsen's compose checker: each checker's
// result under its name, in the order to print, and a :valid? that is
// the worst verdict among the sections that count (false beats :unknown
// beats true). The verdict is computed from the sections, never stored,
// and Map places it last, so no code depends on where it sits.
type Composed []Section

// Validity is the composed verdict: the worst of the sections that are
// not advisory (Valid when there are none).
func (c Composed) Validity() Validity {
	v := Valid
	for _, s := range c {
		if !s.Advisory {
			v = Worst(v, s.Validity())
		}
	}
	return v
}

// Failing names the sections that count toward the verdict and are not
// valid (said false or :unknown), in printing order; nil when none.
func (c Composed) Failing() []string {
	var out []string
	for _, s := range c {
		if !s.Advisory && s.Validity() != Valid {
			out = append(out, s.Name)
		}
	}
	return out
}

// Map returns the composed result as the EDN map Jepsen prints: every
// section under its keyword, in order, then :valid?.
func (c Composed) Map() edn.Map {
	out := make(edn.Map, 0, len(c)+1)
	for _, s := range c {
		out = append(out, edn.Entry{Key: edn.Keyword(s.Name), Val: s.Result})
	}
	return append(out, edn.Entry{Key: edn.Keyword("valid?"), Val: c.Validity().EDN()})
}

// EDN returns Map, so edn.Marshal and edn.MarshalJSON take a Composed
// as they take the map.
func (c Composed) EDN() any { return c.Map() }

// Compose returns a copy of entries (checker name → checker result, in the
// order to print, names as keywords) followed by a :valid? that is the
// worst verdict among them: false beats :unknown beats true. An existing
// :valid? entry is replaced; a result that is not an edn.Map counts as
// :unknown. It is Composed for a result already held as a map.
func Compose(entries edn.Map) edn.Map {
	c := make(Composed, 0, len(entries))
	for _, e := range entries {
		name, _ := e.Key.(edn.Keyword)
		if name == "valid?" {
			continue
		}
		c = append(c, Section{Name: string(name), Result: e.Val})
	}
	return c.Map()
}
