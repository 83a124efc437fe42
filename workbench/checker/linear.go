package checker

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// This file holds one of the two register linearizability searches that
// checkRegister races: Lowe's just-in-time linearization (Knossos's
// "linear" algorithm), specialised to the CAS register. The other is
// porcupine, which confirms linearizable histories fast but refutes
// slowly when indeterminate operations abound.
//
// Porcupine's search keys its memo on the exact set of operations
// linearized so far. Indeterminate operations never return, so every
// subset of them that might already have taken effect is a distinct
// state, and proving a history NOT linearizable costs 2^k for k
// indeterminate writes/cas (measured: 9 of them in 360 ops took 7.5 s, a
// few more ran past 20 s). Here the search keeps, per configuration:
//
//   - the register state;
//   - the definite operations invoked but not yet linearized;
//   - the indeterminate operations invoked and not yet applied, as a
//     multiset of kinds: once invoked, two indeterminate "write 3"s are
//     interchangeable, as neither will ever return.
//
// Configurations with the same state and pending definite operations are
// compared by their multisets: one that still holds a superset of
// optional operations can do everything the other can, so the other is
// dropped. Calls extend every configuration; the return of a definite
// operation forces it to be linearized, possibly after other pending
// operations, and everything else is deferred.

// linOp is one operation prepared for the search.
type linOp struct {
	pop      *porcupine.Operation // its porcupine form, with *RegisterOp metadata
	definite bool
	id       int32 // definite ops: 0, 1, 2, ... in call order
	kind     int32 // indeterminate ops: index of their kind
}

// linEvent is a call or a return in time order.
type linEvent struct {
	time int64
	ret  bool
	op   *linOp
}

// kindCount is one entry of a multiset of indeterminate operation kinds.
type kindCount struct{ kind, n int32 }

// linConfig is one configuration of the search.
type linConfig struct {
	state   string
	pending []int32     // definite op ids, sorted
	pool    []kindCount // sorted by kind, n > 0
}

// group is the part of the configuration that dominance does not cover.
func (c *linConfig) group() string {
	var sb strings.Builder
	sb.WriteString(c.state)
	for _, p := range c.pending {
		sb.WriteByte(',')
		sb.WriteString(strconv.Itoa(int(p)))
	}
	return sb.String()
}

// covers reports whether multiset a contains multiset b.
func covers(a, b []kindCount) bool {
	i := 0
	for _, kb := range b {
		for i < len(a) && a[i].kind < kb.kind {
			i++
		}
		if i == len(a) || a[i].kind != kb.kind || a[i].n < kb.n {
			return false
		}
	}
	return true
}

// configSet holds configurations without dominated ones.
type configSet struct {
	groups map[string][]*linConfig
	size   int
}

func newConfigSet() *configSet { return &configSet{groups: map[string][]*linConfig{}} }

// add inserts c unless a configuration in the set dominates it, and
// removes those c dominates. It reports whether c was inserted.
func (s *configSet) add(c *linConfig) bool {
	g := c.group()
	old := s.groups[g]
	for _, o := range old {
		if covers(o.pool, c.pool) {
			return false
		}
	}
	kept := old[:0]
	for _, o := range old {
		if !covers(c.pool, o.pool) {
			kept = append(kept, o)
		}
	}
	s.size += len(kept) + 1 - len(old)
	s.groups[g] = append(kept, c)
	return true
}

// list returns the configurations in a deterministic order.
func (s *configSet) list() []*linConfig {
	keys := make([]string, 0, len(s.groups))
	for k := range s.groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*linConfig
	for _, k := range keys {
		out = append(out, s.groups[k]...)
	}
	return out
}

// maxConfigs bounds the configurations explored at one return, so a
// pathological history ends in :unknown rather than exhausting memory.
const maxConfigs = 1 << 20

// Reasons for the search to give up.
var (
	errSearchTooLarge = errors.New("linearizability search exceeded its size limit")
	errTimeout        = errors.New("linearizability search timed out")
	errStopped        = errors.New("linearizability search stopped")
)

// linFailure describes why a history is not linearizable: the definite
// operation whose return could not be honoured, the configurations the
// search held just before it, and the last operation returned before.
type linFailure struct {
	op         *linOp
	configs    []*linConfig
	previousOK *linOp
	definite   []*linOp // by id, to name pending operations
}

// linearSearch decides whether pops (from RegisterOperations) are
// linearizable for the CAS register. It returns a nil failure when they
// are, or an error if it gave up: deadline passed (a zero deadline means
// none), search too large, or stop set by the caller.
//
// It walks the calls and returns in time order, carrying the set of
// configurations the history so far allows (see linConfig): a call adds
// an obligation to each, a return keeps only the configurations that can
// linearize the returning operation by then (see linSearch.complete).
func linearSearch(pops []porcupine.Operation, deadline time.Time, stop *atomic.Bool) (*linFailure, error) {
	return linearSearchFrom(pops, []string{registerInit}, deadline, stop)
}

// linearSearchFrom is linearSearch for a register that starts in any one
// of the states inits (canonical text).
func linearSearchFrom(pops []porcupine.Operation, inits []string, deadline time.Time, stop *atomic.Bool) (*linFailure, error) {
	s := newLinSearch(pops, deadline, stop)
	start := newConfigSet()
	for _, st := range inits {
		start.add(&linConfig{state: st})
	}
	configs := start.list()
	var previousOK *linOp
	for _, e := range s.events {
		if !e.ret {
			s.call(configs, e.op)
			continue
		}
		next, err := s.complete(configs, e.op)
		if err != nil {
			return nil, err
		}
		if next.size == 0 {
			return &linFailure{op: e.op, configs: configs, previousOK: previousOK, definite: s.definite}, nil
		}
		configs = next.list()
		previousOK = e.op
	}
	return nil, nil
}

// linSearch is one linearizability search: the history's events and
// operations, and the limits it runs under.
type linSearch struct {
	events   []linEvent
	definite []*linOp        // operations with a known outcome, by id
	kindIn   []RegisterInput // indeterminate operations' inputs, by kind
	// readKey[id] is the state a definite read saw ("" for other ops).
	readKey  []string
	deadline time.Time
	stop     *atomic.Bool
	steps    int
}

// newLinSearch orders pops' calls and returns as porcupine does (closed
// intervals: at equal times calls come first), numbers the definite
// operations in call order, and groups the indeterminate ones into kinds
// (same function and arguments), which the search treats as a pool.
// Definite reads of nil are left out: they fit every state at every
// moment.
func newLinSearch(pops []porcupine.Operation, deadline time.Time, stop *atomic.Bool) *linSearch {
	s := &linSearch{deadline: deadline, stop: stop}
	kinds := map[string]int32{}
	for i := range pops {
		p := &pops[i]
		in, out := p.Input.(RegisterInput), p.Output.(RegisterOutput)
		o := &linOp{pop: p, definite: !out.Unknown}
		if o.definite {
			if in.F == "read" && out.Value == nil {
				continue
			}
			s.events = append(s.events, linEvent{p.Call, false, o}, linEvent{p.Return, true, o})
			continue
		}
		k := in.F + " " + registerKey(in.Value) + " " + registerKey(in.From) + " " + registerKey(in.To)
		if _, ok := kinds[k]; !ok {
			kinds[k] = int32(len(s.kindIn))
			s.kindIn = append(s.kindIn, in)
		}
		o.kind = kinds[k]
		s.events = append(s.events, linEvent{p.Call, false, o})
	}
	sort.SliceStable(s.events, func(i, j int) bool {
		if s.events[i].time != s.events[j].time {
			return s.events[i].time < s.events[j].time
		}
		return !s.events[i].ret && s.events[j].ret
	})
	for _, e := range s.events {
		if e.op.definite && !e.ret {
			e.op.id = int32(len(s.definite))
			s.definite = append(s.definite, e.op)
		}
	}
	s.readKey = make([]string, len(s.definite))
	for i, o := range s.definite {
		if in := o.pop.Input.(RegisterInput); in.F == "read" {
			s.readKey[i] = registerKey(o.pop.Output.(RegisterOutput).Value)
		}
	}
	return s
}

// settle linearizes at once every pending read that matches state: it
// changes nothing and leaves one obligation fewer, so the configuration
// without it dominates the one with it.
func (s *linSearch) settle(state string, pending []int32) []int32 {
	var out []int32
	for i, id := range pending {
		if s.readKey[id] != state {
			if out != nil {
				out = append(out, id)
			}
			continue
		}
		if out == nil {
			out = append(make([]int32, 0, len(pending)-1), pending[:i]...)
		}
	}
	if out == nil {
		return pending
	}
	return out
}

// call adds op's obligation to every configuration: a definite op joins
// the pending ones (unless it is a read the state already matches), an
// indeterminate one the pool of its kind.
func (s *linSearch) call(configs []*linConfig, op *linOp) {
	for i, c := range configs {
		n := *c
		if !op.definite {
			n.pool = addKind(c.pool, op.kind, 1)
		} else if s.readKey[op.id] != c.state {
			n.pending = insertID(c.pending, op.id)
		}
		configs[i] = &n
	}
}

// complete returns the configurations that have linearized op by its
// return: those that already had, and those reached by linearizing
// pending or pooled operations, depth first, until op is among them.
func (s *linSearch) complete(configs []*linConfig, op *linOp) (*configSet, error) {
	next := newConfigSet()
	seen := newConfigSet()
	var stack []*linConfig
	for _, c := range configs {
		if !hasID(c.pending, op.id) {
			next.add(c) // linearized earlier
			continue
		}
		if seen.add(c) {
			stack = append(stack, c)
		}
	}
	// reached files a configuration one step on: done with op, or to
	// explore further.
	reached := func(n *linConfig) {
		if !hasID(n.pending, op.id) {
			next.add(n)
		} else if seen.add(n) {
			stack = append(stack, n)
		}
	}
	for len(stack) > 0 {
		if err := s.checkLimits(seen.size + next.size); err != nil {
			return nil, err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, id := range c.pending {
			o := s.definite[id]
			ok, st := registerStep(c.state, o.pop.Input, o.pop.Output)
			if !ok {
				continue
			}
			n := &linConfig{state: st.(string), pool: c.pool}
			n.pending = s.settle(n.state, removeID(c.pending, id))
			reached(n)
		}
		for _, kc := range c.pool {
			st, changed := applyKind(c.state, s.kindIn[kc.kind])
			if !changed {
				continue // applying it now would change nothing
			}
			reached(&linConfig{state: st, pending: s.settle(st, c.pending), pool: addKind(c.pool, kc.kind, -1)})
		}
	}
	return next, nil
}

// checkLimits counts a step and says whether the search must give up:
// stopped by the caller or out of time (both checked every 1024 steps),
// or holding too many configurations.
func (s *linSearch) checkLimits(configs int) error {
	if s.steps++; s.steps%1024 == 0 {
		if s.stop.Load() {
			return errStopped
		}
		if !s.deadline.IsZero() && time.Now().After(s.deadline) {
			return errTimeout
		}
	}
	if configs > maxConfigs {
		return errSearchTooLarge
	}
	return nil
}

// applyKind applies an indeterminate write or cas to state and reports
// whether that changed it; a cas whose From does not match is a no-op.
func applyKind(state string, in RegisterInput) (string, bool) {
	switch in.F {
	case "write":
		s := registerKey(in.Value)
		return s, s != state
	case "cas":
		if registerKey(in.From) == state {
			s := registerKey(in.To)
			return s, s != state
		}
	}
	return state, false
}

func hasID(ids []int32, id int32) bool {
	i := sort.Search(len(ids), func(i int) bool { return ids[i] >= id })
	return i < len(ids) && ids[i] == id
}

func insertID(ids []int32, id int32) []int32 {
	i := sort.Search(len(ids), func(i int) bool { return ids[i] >= id })
	out := make([]int32, 0, len(ids)+1)
	out = append(out, ids[:i]...)
	out = append(out, id)
	return append(out, ids[i:]...)
}

func removeID(ids []int32, id int32) []int32 {
	out := make([]int32, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// addKind returns pool with delta (±1) operations of kind added.
func addKind(pool []kindCount, kind, delta int32) []kindCount {
	out := make([]kindCount, 0, len(pool)+1)
	done := false
	for _, kc := range pool {
		if !done && kc.kind >= kind {
			done = true
			if kc.kind == kind {
				if kc.n+delta > 0 {
					out = append(out, kindCount{kind, kc.n + delta})
				}
				continue
			}
			out = append(out, kindCount{kind, delta})
		}
		out = append(out, kc)
	}
	if !done {
		out = append(out, kindCount{kind, delta})
	}
	return out
}
