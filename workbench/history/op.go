// Package history holds the operations a test records: one invocation and
// one completion per client operation, plus the nemesis's operations, each
// stamped with a dense index and a time relative to the start of the run.
//
// Values inside operations are plain Go values as encoding/json produces
// them with UseNumber (json.Number, string, bool, nil, []any,
// map[string]any) or as generators produce them (int64, string, []any,
// edn.Keyword, ...). Compare them with Equal and Compare, never with ==.
package history

import (
	"fmt"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/edn"
)

// Type is the kind of a history entry.
type Type int

// The four kinds of history entries, as in Jepsen.
const (
	Invoke Type = iota // an operation began
	OK                 // it certainly happened
	Fail               // it certainly did not happen
	Info               // nobody knows
)

// String returns the Jepsen keyword name without the colon ("invoke", "ok", ...).
func (t Type) String() string {
	switch t {
	case Invoke:
		return "invoke"
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Info:
		return "info"
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// NemesisProcess is the Process of every nemesis operation (:nemesis in EDN).
const NemesisProcess = -1

// Op is one history entry.
type Op struct {
	Index   int    // dense position in the history, from 0
	Time    int64  // nanoseconds since relative time began
	Type    Type   // Invoke, OK, Fail or Info
	Process int    // worker process id, or NemesisProcess
	F       string // operation kind without the colon: "echo", "read", "add", ...
	Value   any    // invocation argument or completion result
	// Error is set on failed and indeterminate completions: a
	// []any{edn.Keyword(name), text} for error replies, edn.Keyword("net-timeout")
	// for timeouts, or a string "indeterminate: ..." for exceptions.
	Error any
	// Exception names the unexpected problem (e.g. a malformed reply) behind
	// an Info completion; empty when there was none. Collected by :exceptions.
	Exception string
	// ExceptionMessage is the human-readable text of the exception.
	ExceptionMessage string
	Final            bool // a final-phase operation (:final? true)
	// Extra holds workload-specific keys Jepsen records on the op map
	// after :value (kafka's :seek-to-beginning?, :poll-ms and :unseen,
	// for instance), in order. The runner copies an invocation's Extra
	// to its completion unless the workload set one of its own.
	Extra edn.Map
}

// IsClient reports whether the operation belongs to a client process.
func (o Op) IsClient() bool { return o.Process != NemesisProcess }

// History is an ordered, append-only log of operations, safe for
// concurrent use while a test runs.
type History struct {
	mu    sync.Mutex
	start time.Time
	ops   []Op
}

// New returns an empty history whose relative time begins at start.
func New(start time.Time) *History { return &History{start: start} }

// Start is the instant relative time began.
func (h *History) Start() time.Time { return h.start }

// Append stamps op with the next index and the current relative time,
// stores it and returns the stamped copy.
func (h *History) Append(op Op) Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	op.Index = len(h.ops)
	op.Time = time.Since(h.start).Nanoseconds()
	h.ops = append(h.ops, op)
	return op
}

// Ops returns a copy of the operations recorded so far.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Op(nil), h.ops...)
}

// OpsFrom returns a copy of the operations from index i on (none when i
// is past the end), for readers that follow a growing history.
func (h *History) OpsFrom(i int) []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.ops) {
		return nil
	}
	return append([]Op(nil), h.ops[i:]...)
}

// Pair is an invocation with its completion. Complete is nil while the
// operation is still running when the history ends.
type Pair struct {
	Invoke   Op
	Complete *Op
}

// Pairs matches every invocation in ops with the next completion of the
// same process, in history order. Nemesis operations are skipped.
func Pairs(ops []Op) []Pair {
	var pairs []Pair
	open := map[int]int{} // process -> index into pairs
	for _, op := range ops {
		if !op.IsClient() {
			continue
		}
		if op.Type == Invoke {
			open[op.Process] = len(pairs)
			pairs = append(pairs, Pair{Invoke: op})
			continue
		}
		if i, ok := open[op.Process]; ok {
			c := op
			pairs[i].Complete = &c
			delete(open, op.Process)
		}
	}
	return pairs
}
