// Package broadcast solves Gossip Glomers challenges 3a–3e: every value
// sent to any node with "broadcast" must eventually be returned by "read"
// on every node, despite partitions.
//
// This first version is the simplest correct design: a node that learns a
// new value forwards it to every other node and keeps re-sending it to
// each peer, once a second, until that peer acknowledges it. Nothing is
// lost across partitions because unacknowledged values are retried until
// the partition heals.
package broadcast

import (
	"context"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// retryInterval is how long a node waits for an acknowledgement before
// re-sending a value to a peer.
const retryInterval = time.Second

// Server is one broadcast node's state.
type Server struct {
	n *node.Node

	mu       sync.Mutex
	seen     map[int64]bool
	messages []int64
	// unacked[peer] holds the values sent to peer and not yet acknowledged.
	unacked map[string]map[int64]bool
}

// Register wires a broadcast server onto n and returns it.
func Register(n *node.Node) *Server {
	s := &Server{n: n, seen: map[int64]bool{}, unacked: map[string]map[int64]bool{}}
	n.Handle("topology", s.topology)
	n.Handle("broadcast", s.broadcast)
	n.Handle("read", s.read)
	n.Handle("gossip", s.gossip)
	n.Handle("gossip_ok", func(node.Message) error { return nil })
	n.Handle("init", func(node.Message) error {
		n.Go(s.retryLoop)
		return nil
	})
	return s
}

func (s *Server) topology(msg node.Message) error {
	return s.n.Reply(msg, map[string]any{"type": "topology_ok"})
}

func (s *Server) broadcast(msg node.Message) error {
	var body struct {
		Message int64 `json:"message"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	s.learn(body.Message, msg.Src)
	return s.n.Reply(msg, map[string]any{"type": "broadcast_ok"})
}

func (s *Server) read(msg node.Message) error {
	s.mu.Lock()
	out := append([]int64{}, s.messages...)
	s.mu.Unlock()
	return s.n.Reply(msg, map[string]any{"type": "read_ok", "messages": out})
}

// gossip receives values from a peer and acknowledges them all.
func (s *Server) gossip(msg node.Message) error {
	var body struct {
		Messages []int64 `json:"messages"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	for _, v := range body.Messages {
		s.learn(v, msg.Src)
	}
	return s.n.Reply(msg, map[string]any{"type": "gossip_ok"})
}

// learn records v and, if it is new, queues it for every peer but from.
func (s *Server) learn(v int64, from string) {
	s.mu.Lock()
	if s.seen[v] {
		s.mu.Unlock()
		return
	}
	s.seen[v] = true
	s.messages = append(s.messages, v)
	var peers []string
	for _, p := range s.n.NodeIDs() {
		if p == s.n.ID() || p == from {
			continue
		}
		if s.unacked[p] == nil {
			s.unacked[p] = map[int64]bool{}
		}
		s.unacked[p][v] = true
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		s.send(p, []int64{v})
	}
}

// send gossips values to peer and forgets them once acknowledged.
func (s *Server) send(peer string, values []int64) {
	_ = s.n.RPC(peer, map[string]any{"type": "gossip", "messages": values}, func(reply node.Message) error {
		if reply.Type() != "gossip_ok" {
			return nil
		}
		s.mu.Lock()
		for _, v := range values {
			delete(s.unacked[peer], v)
		}
		s.mu.Unlock()
		return nil
	})
}

// retryLoop re-sends every unacknowledged value once per interval.
func (s *Server) retryLoop(ctx context.Context) {
	t := time.NewTicker(retryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		pending := map[string][]int64{}
		for p, vs := range s.unacked {
			for v := range vs {
				pending[p] = append(pending[p], v)
			}
		}
		s.mu.Unlock()
		for p, vs := range pending {
			s.send(p, vs)
		}
	}
}
