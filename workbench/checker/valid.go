// Package checker holds the generic analyses, those any workload may
// use: statistics, performance, availability and exceptions (basic.go),
// network counts (net.go), Jepsen's set-full and our extras over it
// (setfull.go, setextra.go), and the linearizability check of lin-kv's
// registers (linearizable.go, linear.go). Each takes a history (and
// sometimes the network journal) and returns an ordered EDN map shaped
// like Maelstrom's, always with a :valid? entry. Composed puts them
// together as Jepsen's compose checker does, with the verdict computed
// from the sections rather than stored among them; NetStats is the :net
// statistics as a typed value. A workload's own checker lives in its
// package under workbench/workload (kafka, txn's visibility, counter,
// echo, unique-ids); Elle's transactional checkers are in checker/elle,
// and what checker tests share in checker/checkertest.
package checker

import "github.com/glomers/glomers/workbench/edn"

// Validity is a checker verdict. The zero value is Unknown, so a verdict
// nobody set never passes; Worst orders them false, :unknown, true.
type Validity int

// The three verdicts.
const (
	Unknown Validity = iota // :valid? :unknown (also a verdict never set)
	Valid                   // :valid? true
	Invalid                 // :valid? false
)

// rank orders verdicts from best to worst, as Jepsen merges them.
func (v Validity) rank() int {
	switch v {
	case Valid:
		return 0
	case Invalid:
		return 2
	}
	return 1
}

// EDN returns the value printed under :valid?: true, false or :unknown.
func (v Validity) EDN() any {
	switch v {
	case Valid:
		return true
	case Invalid:
		return false
	}
	return edn.Keyword("unknown")
}

// String returns "true", "false" or "unknown".
func (v Validity) String() string {
	switch v {
	case Valid:
		return "true"
	case Invalid:
		return "false"
	}
	return "unknown"
}

// MarshalText writes the verdict as String does, so a Validity in JSON
// reads "true", "false" or "unknown".
func (v Validity) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads what MarshalText writes; any other text is Unknown.
func (v *Validity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "true":
		*v = Valid
	case "false":
		*v = Invalid
	default:
		*v = Unknown
	}
	return nil
}

// Worst merges verdicts: false beats :unknown beats true.
func Worst(vs ...Validity) Validity {
	w := Valid
	for _, v := range vs {
		if v.rank() > w.rank() {
			w = v
		}
	}
	return w
}

// ValidityOf reads the :valid? entry of a checker result; a missing or
// unrecognised entry counts as Unknown.
func ValidityOf(m edn.Map) Validity {
	v, ok := m.Get(edn.Keyword("valid?"))
	if !ok {
		return Unknown
	}
	switch v {
	case true:
		return Valid
	case false:
		return Invalid
	}
	return Unknown
}
