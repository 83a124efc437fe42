package counter

import (
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

// value is the counter's value in state s.
func (s pnState) value() int64 {
	var v int64
	for _, e := range s {
		v += e.P - e.N
	}
	return v
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
	c.repl.Update(func(s pnState) {
		e := s[self]
		if d >= 0 {
			e.P += d
		} else {
			e.N -= d
		}
		s[self] = e
	})
	return c.n.Reply(msg, node.Body{Type: "add_ok"})
}

func (c *pnCounter) read(msg node.Message) error {
	var v int64
	c.repl.View(func(s pnState) { v = s.value() })
	return c.n.Reply(msg, struct {
		node.Body
		Value int64 `json:"value"`
	}{node.Body{Type: "read_ok"}, v})
}
