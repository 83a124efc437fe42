// Package gset implements Maelstrom's g-set workload: a grow-only set,
// replicated between nodes as a state-based CRDT.
//
// A node answers {"type":"add","element":e} by adding e to its local set
// and {"type":"read"} with the whole local set. Sets merge by union, which
// is commutative, associative and idempotent, so replicas that have heard
// the same adds, in any order and any number of times, hold the same set.
//
// Replication is push-based, one goroutine per peer: every gossipInterval
// a node sends the peer the elements it does not know the peer to have,
// and counts them as known once the peer acknowledges the push. Elements a
// peer pushed to us are known to it as well. A push lost to a partition is
// retried with everything still missing, so after the network heals every
// node gets every element within a few intervals. Once the nodes agree,
// they send nothing at all.
//
// Elements may be any JSON values. They are compared by their compact
// JSON text, which is exact for the integers the workload adds (objects
// with the same fields in a different order would count as different
// elements).
package gset

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// Timing of the gossip.
const (
	// gossipInterval is how often a node pushes what a peer may lack.
	gossipInterval = 250 * time.Millisecond
	// gossipTimeout bounds one push; what it carried stays missing and is
	// pushed again.
	gossipTimeout = time.Second
)

// set holds elements keyed by their compact JSON text.
type set map[string]json.RawMessage

// server is one g-set node.
type server struct {
	n *node.Node

	mu       sync.Mutex
	elements set
	order    []json.RawMessage // elements in arrival order, for reads
	known    map[string]set    // per peer: elements it certainly has
}

// Register wires a g-set node onto n: handlers for add, read and the
// peers' pushes, and, at init, one gossip loop per peer.
func Register(n *node.Node) {
	s := &server{n: n, elements: set{}, known: map[string]set{}}
	n.Handle("add", s.add)
	n.Handle("read", s.read)
	n.Handle("gset_replicate", s.replicate)
	n.Handle("init", func(node.Message) error {
		s.mu.Lock()
		for _, p := range n.NodeIDs() {
			if p != n.ID() {
				s.known[p] = set{}
			}
		}
		s.mu.Unlock()
		for _, p := range n.NodeIDs() {
			if p != n.ID() {
				n.Go(func(ctx context.Context) { s.gossip(ctx, p) })
			}
		}
		return nil
	})
}

// keyOf is the identity of an element: its compact JSON text.
func keyOf(e json.RawMessage) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, e); err != nil {
		return "", err
	}
	return b.String(), nil
}

// learn adds elements to the local set (and to the set known to peer
// from, when from is a peer).
func (s *server) learn(elems []json.RawMessage, from string) error {
	keys := make([]string, len(elems))
	for i, e := range elems {
		k, err := keyOf(e)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if _, ok := s.elements[k]; !ok {
			e := json.RawMessage(k)
			s.elements[k] = e
			s.order = append(s.order, e)
		}
		if known, ok := s.known[from]; ok {
			known[k] = s.elements[k]
		}
	}
	return nil
}

func (s *server) add(msg node.Message) error {
	var body struct {
		Element json.RawMessage `json:"element"`
	}
	if err := msg.Unmarshal(&body); err != nil || body.Element == nil {
		return node.NewRPCError(node.MalformedRequest, `add needs an "element"`)
	}
	if err := s.learn([]json.RawMessage{body.Element}, msg.Src); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	return s.n.Reply(msg, node.Body{Type: "add_ok"})
}

func (s *server) read(msg node.Message) error {
	s.mu.Lock()
	out := append([]json.RawMessage{}, s.order...)
	s.mu.Unlock()
	return s.n.Reply(msg, struct {
		node.Body
		Value []json.RawMessage `json:"value"`
	}{node.Body{Type: "read_ok"}, out})
}

// replicateBody is a push between g-set nodes.
type replicateBody struct {
	node.Body
	Elements []json.RawMessage `json:"elements"`
}

// replicate merges a peer's push and acknowledges it.
func (s *server) replicate(msg node.Message) error {
	var body replicateBody
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	if err := s.learn(body.Elements, msg.Src); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	return s.n.Reply(msg, node.Body{Type: "gset_replicate_ok"})
}

// missing returns the elements peer is not known to have.
func (s *server) missing(peer string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := s.known[peer]
	var out []json.RawMessage
	for _, e := range s.order {
		if _, ok := known[string(e)]; !ok {
			out = append(out, e)
		}
	}
	return out
}

// gossip pushes to peer, every gossipInterval, the elements it is not
// known to have, one push at a time, until the node stops.
func (s *server) gossip(ctx context.Context, peer string) {
	tick := time.NewTicker(gossipInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		elems := s.missing(peer)
		if len(elems) == 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, gossipTimeout)
		_, err := s.n.Call(cctx, peer, replicateBody{Body: node.Body{Type: "gset_replicate"}, Elements: elems})
		cancel()
		if err != nil {
			continue // partitioned or slow: push again at the next tick
		}
		s.mu.Lock()
		for _, e := range elems {
			s.known[peer][string(e)] = e
		}
		s.mu.Unlock()
	}
}
