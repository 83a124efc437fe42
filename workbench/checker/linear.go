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
func linearSearch(pops []porcupine.Operation, deadline time.Time, stop *atomic.Bool) (*linFailure, error) {
	var events []linEvent
	var definite []*linOp
	kinds := map[string]int32{}
	var kindIn []RegisterInput // by kind
	for i := range pops {
		p := &pops[i]
		in, out := p.Input.(RegisterInput), p.Output.(RegisterOutput)
		o := &linOp{pop: p, definite: !out.Unknown}
		if o.definite {
			if in.F == "read" && out.Value == nil {
				continue // consistent with every state at every moment
			}
			events = append(events, linEvent{p.Call, false, o}, linEvent{p.Return, true, o})
		} else {
			k := in.F + " " + registerKey(in.Value) + " " + registerKey(in.From) + " " + registerKey(in.To)
			if _, ok := kinds[k]; !ok {
				kinds[k] = int32(len(kindIn))
				kindIn = append(kindIn, in)
			}
			o.kind = kinds[k]
			events = append(events, linEvent{p.Call, false, o})
		}
	}
	// Closed intervals, as porcupine: at equal times calls come first.
	sort.SliceStable(events, func(i, j int) bool {
		if events[i].time != events[j].time {
			return events[i].time < events[j].time
		}
		return !events[i].ret && events[j].ret
	})
	for _, e := range events {
		if e.op.definite && !e.ret {
			e.op.id = int32(len(definite))
			definite = append(definite, e.op)
		}
	}

	// A pending read that matches the current state is linearized at once:
	// it changes nothing and leaves one obligation fewer, so the
	// configuration without it dominates the one with it.
	readKey := make([]string, len(definite))
	for i, o := range definite {
		if in := o.pop.Input.(RegisterInput); in.F == "read" {
			readKey[i] = registerKey(o.pop.Output.(RegisterOutput).Value)
		}
	}
	settle := func(state string, pending []int32) []int32 {
		var out []int32
		for i, id := range pending {
			if readKey[id] != state {
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

	configs := []*linConfig{{state: registerInit}}
	var previousOK *linOp
	steps := 0
	for _, e := range events {
		if !e.ret {
			for i, c := range configs {
				n := *c
				if !e.op.definite {
					n.pool = addKind(c.pool, e.op.kind, 1)
				} else if readKey[e.op.id] != c.state {
					n.pending = insertID(c.pending, e.op.id)
				}
				configs[i] = &n
			}
			continue
		}
		next := newConfigSet()
		seen := newConfigSet()
		var stack []*linConfig
		for _, c := range configs {
			if !hasID(c.pending, e.op.id) {
				next.add(c) // linearized earlier
				continue
			}
			if seen.add(c) {
				stack = append(stack, c)
			}
		}
		for len(stack) > 0 {
			if steps++; steps%1024 == 0 {
				if stop.Load() {
					return nil, errStopped
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					return nil, errTimeout
				}
			}
			if seen.size+next.size > maxConfigs {
				return nil, errSearchTooLarge
			}
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, id := range c.pending {
				o := definite[id]
				ok, s := registerStep(c.state, o.pop.Input, o.pop.Output)
				if !ok {
					continue
				}
				n := &linConfig{state: s.(string), pool: c.pool}
				n.pending = settle(n.state, removeID(c.pending, id))
				if !hasID(n.pending, e.op.id) {
					next.add(n)
				} else if seen.add(n) {
					stack = append(stack, n)
				}
			}
			for _, kc := range c.pool {
				s, changed := applyKind(c.state, kindIn[kc.kind])
				if !changed {
					continue // applying it now would change nothing
				}
				n := &linConfig{state: s, pending: settle(s, c.pending), pool: addKind(c.pool, kc.kind, -1)}
				if !hasID(n.pending, e.op.id) {
					next.add(n)
				} else if seen.add(n) {
					stack = append(stack, n)
				}
			}
		}
		if next.size == 0 {
			return &linFailure{op: e.op, configs: configs, previousOK: previousOK, definite: definite}, nil
		}
		configs = next.list()
		previousOK = e.op
	}
	return nil, nil
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
