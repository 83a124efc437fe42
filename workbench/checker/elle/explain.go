package elle

import (
	"strings"

	"github.com/glomers/glomers/workbench/edn"
)

// CycleCase is one cycle anomaly as Graph.Cycles reports it, read back
// from its EDN ({:cycle [T1 T2 ... T1], :steps (...), :type :G1c}) for
// a program that explains it: the transactions of the cycle and the
// relationship that links each to the next.
type CycleCase struct {
	// Type is the anomaly type without the colon: "G1c",
	// "G-single-item-realtime", ...
	Type string
	// Txns are the history indices (history.Op.Index) of the cycle's
	// completions in cycle order, the first not repeated at the end.
	Txns []int
	// Steps[i] is the edge from Txns[i] to Txns[(i+1) mod len(Txns)].
	Steps []Step
}

// Step is one edge of a cycle as its explainer justified it.
type Step struct {
	// Rel is the one relationship that explains the edge.
	Rel Rel
	// Key and Value name the version behind a ww, wr or rw edge: for
	// wr, a read of Key returned Value (list-append: a list ending in
	// Value) that the first transaction wrote; for ww and rw, Value is
	// the version the first transaction wrote or read and Value2 the one
	// the second wrote right after it. HasKey is false when the
	// explainer found no version (the step names only its type).
	Key, Value, Value2 any
	HasKey, HasValue2  bool
	// Process is a process step's process.
	Process int
	// Completed and Invoked are a realtime step's history indices: the
	// first transaction's completion and the second's invocation; -1
	// when absent.
	Completed, Invoked int
}

// ParseCycle reads a cycle case back; ok is false for any other case
// (G1a, lost-update, ... and the cycle-exists cases, which hold no
// cycle).
func ParseCycle(c edn.Map) (cc CycleCase, ok bool) {
	kw, _ := c.Lookup("type").(edn.Keyword)
	ops, _ := c.Lookup("cycle").(edn.Vector)
	steps, _ := c.Lookup("steps").(edn.List)
	if kw == "" || len(ops) < 2 || len(steps) != len(ops)-1 {
		return CycleCase{}, false
	}
	cc.Type = string(kw)
	for _, o := range ops[:len(ops)-1] {
		m, _ := o.(edn.Map)
		i, found := OpIndex(m)
		if !found {
			return CycleCase{}, false
		}
		cc.Txns = append(cc.Txns, i)
	}
	for _, s := range steps {
		m, _ := s.(edn.Map)
		cc.Steps = append(cc.Steps, parseStep(m))
	}
	return cc, true
}

func parseStep(m edn.Map) Step {
	s := Step{Completed: -1, Invoked: -1}
	kw, _ := m.Lookup("type").(edn.Keyword)
	s.Rel = relNamed(string(kw))
	if k, ok := m.Get(edn.Keyword("key")); ok {
		s.Key, s.HasKey = k, true
		s.Value = m.Lookup("value")
		s.Value2, s.HasValue2 = m.Get(edn.Keyword("value'"))
	}
	s.Process, _ = m.Lookup("process").(int)
	a, _ := m.Lookup("a'").(edn.Map)
	if i, ok := OpIndex(a); ok {
		s.Completed = i
	}
	b, _ := m.Lookup("b").(edn.Map)
	if i, ok := OpIndex(b); ok {
		s.Invoked = i
	}
	return s
}

// relNamed is the relationship of Elle's keyword name, 0 for none.
func relNamed(name string) Rel {
	for _, r := range defaultExplainOrder {
		if r.String() == name {
			return r
		}
	}
	return 0
}

// OpIndex returns the :index of an operation as the checkers print it.
func OpIndex(op edn.Map) (int, bool) {
	switch i := op.Lookup("index").(type) {
	case int:
		return i, true
	case int64:
		return int(i), true
	}
	return 0, false
}

// IsCycleType reports whether an anomaly type names a cycle that
// Graph.Cycles reports with its :cycle and :steps ("G0",
// "G-single-item-realtime", ...).
func IsCycleType(name string) bool { return isCycleType[name] }

// BaseType strips an anomaly type's -process or -realtime suffix and
// says which it was (0 when none): "G1c-realtime" is "G1c", Realtime.
func BaseType(name string) (string, Rel) {
	if b, ok := strings.CutSuffix(name, "-realtime"); ok {
		return b, Realtime
	}
	if b, ok := strings.CutSuffix(name, "-process"); ok {
		return b, Process
	}
	return name, 0
}
