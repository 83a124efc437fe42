package counter

import (
	"context"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// Timing of the pn-counter's gossip.
const (
	// gossipInterval is how often a node pushes what a peer may lack.
	gossipInterval = 250 * time.Millisecond
	// gossipTimeout bounds one push; a push that times out is repeated at
	// a later tick with whatever is then missing.
	gossipTimeout = time.Second
)

// pnEntry is one node's contribution: the sum of its positive deltas and
// the sum of its negative deltas negated. Both only grow.
type pnEntry struct {
	P int64 `json:"p"`
	N int64 `json:"n"`
}

// pnState maps node ids to their contributions. It is a join semilattice
// under merge (per node, the maximum of each sum).
type pnState map[string]pnEntry

// merge raises s to include o and reports whether s changed.
func (s pnState) merge(o pnState) bool {
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

// missingFrom returns the entries of s that known lacks or holds smaller,
// nil when known already covers s.
func (s pnState) missingFrom(known pnState) pnState {
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
	return out
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
	n *node.Node

	mu    sync.Mutex
	state pnState
	known map[string]pnState // per peer: what it certainly has
}

// replicate is the push message between pn-counter nodes.
type replicate struct {
	node.Body
	State pnState `json:"state"`
}

// RegisterPN wires a positive-negative counter CRDT onto n: handlers for
// add (any integer delta) and read, and, at init, one gossip loop per peer
// that pushes the entries the peer is not known to have until it
// acknowledges them. Nodes converge once the network lets a push and its
// acknowledgement through; no service is involved.
func RegisterPN(n *node.Node) {
	c := &pnCounter{n: n, state: pnState{}, known: map[string]pnState{}}
	n.Handle("add", c.add)
	n.Handle("read", c.read)
	n.Handle("pn_replicate", c.replicate)
	n.Handle("init", func(node.Message) error {
		c.mu.Lock()
		for _, p := range n.NodeIDs() {
			if p != n.ID() {
				c.known[p] = pnState{}
			}
		}
		c.mu.Unlock()
		for _, p := range n.NodeIDs() {
			if p != n.ID() {
				n.Go(func(ctx context.Context) { c.gossip(ctx, p) })
			}
		}
		return nil
	})
}

func (c *pnCounter) add(msg node.Message) error {
	var body struct {
		Delta *int64 `json:"delta"`
	}
	if err := msg.Unmarshal(&body); err != nil || body.Delta == nil {
		return node.NewRPCError(node.MalformedRequest, "add needs an integer delta")
	}
	d := *body.Delta
	self := c.n.ID()
	c.mu.Lock()
	e := c.state[self]
	if d >= 0 {
		e.P += d
	} else {
		e.N -= d
	}
	c.state[self] = e
	c.mu.Unlock()
	return c.n.Reply(msg, node.Body{Type: "add_ok"})
}

func (c *pnCounter) read(msg node.Message) error {
	c.mu.Lock()
	v := c.state.value()
	c.mu.Unlock()
	return c.n.Reply(msg, struct {
		node.Body
		Value int64 `json:"value"`
	}{node.Body{Type: "read_ok"}, v})
}

// replicate merges a peer's push and acknowledges it. The peer evidently
// has what it sent, so we need not send that back.
func (c *pnCounter) replicate(msg node.Message) error {
	var body replicate
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	c.mu.Lock()
	c.state.merge(body.State)
	if k, ok := c.known[msg.Src]; ok {
		k.merge(body.State)
	}
	c.mu.Unlock()
	return c.n.Reply(msg, node.Body{Type: "pn_replicate_ok"})
}

// gossip pushes to peer, every gossipInterval, whatever peer is not known
// to have, one push at a time, until the node stops.
func (c *pnCounter) gossip(ctx context.Context, peer string) {
	tick := time.NewTicker(gossipInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.mu.Lock()
		delta := c.state.missingFrom(c.known[peer])
		c.mu.Unlock()
		if delta == nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, gossipTimeout)
		_, err := c.n.Call(cctx, peer, replicate{Body: node.Body{Type: "pn_replicate"}, State: delta})
		cancel()
		if err != nil {
			continue // partitioned or slow: try again with the then-missing entries
		}
		c.mu.Lock()
		c.known[peer].merge(delta)
		c.mu.Unlock()
	}
}
