// Command broadcast is challenges 3a–3c as learners often write them: a
// new message is stored, acknowledged, and passed on to every neighbour
// but the sender, each in a goroutine that retries SyncRPC with a
// timeout until the neighbour acknowledges it, so partitions only delay
// it.
package main

import (
	"context"
	"encoding/json"
	"log"
	"sync"
	"time"

	maelstrom "github.com/glomers/glomers/maelstrom"
)

func main() {
	n := maelstrom.NewNode()
	setup(n)
	if err := n.Run(); err != nil {
		log.Fatal(err)
	}
}

type server struct {
	n *maelstrom.Node

	mu        sync.Mutex
	seen      map[int]bool
	messages  []int
	neighbors []string
}

// setup registers the node's handlers.
func setup(n *maelstrom.Node) {
	s := &server{n: n, seen: map[int]bool{}}
	n.Handle("broadcast", s.broadcast)
	n.Handle("read", s.read)
	n.Handle("topology", s.topology)
}

func (s *server) broadcast(msg maelstrom.Message) error {
	var body map[string]any
	if err := json.Unmarshal(msg.Body, &body); err != nil {
		return err
	}
	m := int(body["message"].(float64))

	s.mu.Lock()
	isNew := !s.seen[m]
	if isNew {
		s.seen[m] = true
		s.messages = append(s.messages, m)
	}
	neighbors := s.neighbors
	s.mu.Unlock()

	if isNew {
		for _, dest := range neighbors {
			if dest == msg.Src {
				continue
			}
			go s.gossip(dest, m)
		}
	}
	return s.n.Reply(msg, map[string]any{"type": "broadcast_ok"})
}

// gossip tells dest about m until dest acknowledges it.
func (s *server) gossip(dest string, m int) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.n.SyncRPC(ctx, dest, map[string]any{"type": "broadcast", "message": m})
		cancel()
		if err == nil {
			return
		}
	}
}

func (s *server) read(msg maelstrom.Message) error {
	s.mu.Lock()
	messages := append([]int{}, s.messages...)
	s.mu.Unlock()
	return s.n.Reply(msg, map[string]any{"type": "read_ok", "messages": messages})
}

func (s *server) topology(msg maelstrom.Message) error {
	var body struct {
		Topology map[string][]string `json:"topology"`
	}
	if err := json.Unmarshal(msg.Body, &body); err != nil {
		return err
	}
	s.mu.Lock()
	s.neighbors = body.Topology[s.n.ID()]
	s.mu.Unlock()
	return s.n.Reply(msg, map[string]any{"type": "topology_ok"})
}
