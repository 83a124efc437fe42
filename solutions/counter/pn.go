package counter

import (
	"math"
	"math/bits"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/internal/crdt"
)

// pnEntry is one node's contribution: the sum of its positive deltas and
// the sum of its negative deltas negated. Both only grow.
type pnEntry struct {
	P int64 `json:"p"`
	N int64 `json:"n"`
}

// pnState maps node ids to their contributions. It is a join semilattice
// under Merge (per node, the maximum of each sum); on the wire it is the
// "state" of a pn_replicate push.
type pnState map[string]pnEntry

// Merge raises s to include o and reports whether s changed.
func (s pnState) Merge(o pnState) bool {
	changed := false
	for id, e := range o {
		cur, ok := s[id]
		m := pnEntry{P: max(cur.P, e.P), N: max(cur.N, e.N)}
		if !ok || m != cur {
			s[id] = m
			changed = true
		}
	}
	return changed
}

// Missing returns the entries of s that known lacks or holds smaller,
// and false when known already covers s.
func (s pnState) Missing(known pnState) (pnState, bool) {
	var out pnState
	for id, e := range s {
		k, ok := known[id]
		if ok && k.P >= e.P && k.N >= e.N {
			continue
		}
		if out == nil {
			out = pnState{}
		}
		out[id] = e
	}
	return out, out != nil
}

// value is the counter's value in state s, and false when it does not
// fit an int64. Each P − N fits, since both are in 0…2⁶³−1; the sum over
// nodes is taken in 128 bits, so whether it fits does not depend on the
// order in which the map yields its entries.
func (s pnState) value() (int64, bool) {
	var hi, lo uint64 // the sum, two's complement in 128 bits
	for _, e := range s {
		d := e.P - e.N
		var carry uint64
		lo, carry = bits.Add64(lo, uint64(d), 0)
		hi, _ = bits.Add64(hi, uint64(d>>63), carry) // d sign-extended
	}
	v := int64(lo)
	return v, hi == uint64(v>>63)
}

// addInt64 returns a+b, and false when the sum overflows an int64.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// errOverflow refuses an add that would take the counter out of int64
// range. Abort is definite: the add did not happen and never will.
func errOverflow(d int64) error {
	return node.Errorf(node.Abort, "adding %d would take the counter beyond the 64-bit range (±%d); nothing was added", d, int64(math.MaxInt64))
}

// pnCounter is one node of the gossiped pn-counter.
type pnCounter struct {
	n    *node.Node
	repl *crdt.Replicator[pnState]
}

// RegisterPN wires a positive-negative counter CRDT onto n: handlers for
// add (any integer delta) and read, and a [crdt.Replicator] that, from
// init on, pushes to every peer the entries it is not known to have until
// it acknowledges them. Nodes converge once the network lets a push and
// its acknowledgement through; no service is involved.
func RegisterPN(n *node.Node) {
	c := &pnCounter{n: n, repl: crdt.New(n, crdt.Config[pnState]{
		Type: "pn_replicate", Field: "state",
		Empty: func() pnState { return pnState{} },
	})}
	n.Handle("add", c.add)
	n.Handle("read", c.read)
}

func (c *pnCounter) add(msg node.Message) error {
	var body struct {
		Delta *int64 `json:"delta"`
	}
	if err := msg.Unmarshal(&body); err != nil || body.Delta == nil {
		return node.NewRPCError(node.MalformedRequest, "add needs an integer delta")
	}
	d, self := *body.Delta, c.n.ID()
	var refused error
	c.repl.Update(func(s pnState) {
		old, had := s[self]
		e, ok := old, false
		if d >= 0 {
			e.P, ok = addInt64(e.P, d)
		} else if d != math.MinInt64 {
			e.N, ok = addInt64(e.N, -d)
		}
		if ok {
			// The node's own sums fit; the value over all nodes must too,
			// as far as this node knows.
			s[self] = e
			if _, ok = s.value(); !ok && had {
				s[self] = old
			} else if !ok {
				delete(s, self)
			}
		}
		if !ok {
			refused = errOverflow(d)
		}
	})
	if refused != nil {
		return refused
	}
	return c.n.Reply(msg, node.Body{Type: "add_ok"})
}

func (c *pnCounter) read(msg node.Message) error {
	var v int64
	ok := true
	c.repl.View(func(s pnState) { v, ok = s.value() })
	if !ok {
		// Adds on other nodes, each within range where it was made, can
		// sum beyond it. The read is refused rather than wrapped.
		return node.NewRPCError(node.Abort, "the counter's value is beyond the 64-bit range")
	}
	return c.n.Reply(msg, struct {
		node.Body
		Value int64 `json:"value"`
	}{node.Body{Type: "read_ok"}, v})
}
