// Package faulty holds deliberately broken nodes. The bench's own tests
// run them to prove that its checkers catch each kind of bug: a bench
// that passes these would mislead its users.
package faulty

import (
	"sort"
	"sync"

	"github.com/glomers/glomers/node"
)

// Nodes maps each fault's name to the function that wires it onto a node.
// Each family of workloads keeps its faults in a file of its own.
func Nodes() map[string]func(*node.Node) {
	all := map[string]func(*node.Node){}
	for _, family := range []map[string]func(*node.Node){
		basicFaults(),
		kafkaFaults(),
		kafkaExplainFaults(),
		txnFaults(),
		txnExplainFaults(),
		linKVFaults(),
		simpleExplainFaults(),
	} {
		for name, f := range family {
			all[name] = f
		}
	}
	return all
}

// basicFaults are the broken echo, unique-ids, broadcast and counter nodes.
func basicFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"mangled-echo":       MangledEcho,
		"colliding-ids":      CollidingIDs,
		"silent-broadcast":   SilentBroadcast,
		"lossy-broadcast":    LossyBroadcast,
		"no-retry-broadcast": NoRetryBroadcast,
		"echoing-broadcast":  EchoingBroadcast,
		"local-counter":      LocalCounter,
		"blind-counter":      BlindCounter,
	}
}

// Names lists the faults, sorted.
func Names() []string {
	var out []string
	for k := range Nodes() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MangledEcho answers every seventh echo with the wrong text.
func MangledEcho(n *node.Node) {
	var mu sync.Mutex
	count := 0
	n.Handle("echo", func(msg node.Message) error {
		var body struct {
			Echo any `json:"echo"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		mu.Lock()
		count++
		mangle := count%7 == 0
		mu.Unlock()
		if mangle {
			body.Echo = "not-right"
		}
		return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": body.Echo})
	})
}

// CollidingIDs numbers ids per node from 0, so two nodes hand out the
// same ids.
func CollidingIDs(n *node.Node) {
	var mu sync.Mutex
	next := 0
	n.Handle("generate", func(msg node.Message) error {
		mu.Lock()
		id := next
		next++
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "generate_ok", "id": id})
	})
}

// broadcastBase stores values locally and answers topology, broadcast and
// read; gossip decides what happens to a new value.
type broadcastBase struct {
	n      *node.Node
	mu     sync.Mutex
	seen   map[int64]bool
	values []int64
	gossip func(v int64, from string)
	// view turns the stored values into what a read returns.
	view func(values []int64) []int64
}

func newBroadcastBase(n *node.Node) *broadcastBase {
	b := &broadcastBase{n: n, seen: map[int64]bool{}, gossip: func(int64, string) {},
		view: func(vs []int64) []int64 { return vs }}
	n.Handle("topology", func(msg node.Message) error {
		return n.Reply(msg, map[string]any{"type": "topology_ok"})
	})
	n.Handle("broadcast", func(msg node.Message) error {
		var body struct {
			Message int64 `json:"message"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		b.add(body.Message, msg.Src)
		return n.Reply(msg, map[string]any{"type": "broadcast_ok"})
	})
	n.Handle("read", func(msg node.Message) error {
		b.mu.Lock()
		out := b.view(append([]int64{}, b.values...))
		b.mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "read_ok", "messages": out})
	})
	n.Handle("gossip", func(msg node.Message) error {
		var body struct {
			Message int64 `json:"message"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		b.add(body.Message, msg.Src)
		return nil
	})
	return b
}

func (b *broadcastBase) add(v int64, from string) {
	b.mu.Lock()
	if b.seen[v] {
		b.mu.Unlock()
		return
	}
	b.seen[v] = true
	b.values = append(b.values, v)
	b.mu.Unlock()
	b.gossip(v, from)
}

// SilentBroadcast never tells other nodes anything.
func SilentBroadcast(n *node.Node) { newBroadcastBase(n) }

// LossyBroadcast floods new values to every peer once, but silently
// forgets every tenth value it is given by a client.
func LossyBroadcast(n *node.Node) {
	b := newFlood(n)
	flood := b.gossip
	b.gossip = func(v int64, from string) {
		if v%10 != 3 {
			flood(v, from)
		}
	}
}

// NoRetryBroadcast floods each new value to every peer exactly once,
// fire and forget: correct without faults, lossy across partitions.
func NoRetryBroadcast(n *node.Node) { newFlood(n) }

// newFlood is a broadcast node that sends each new value to every peer
// once, fire and forget.
func newFlood(n *node.Node) *broadcastBase {
	b := newBroadcastBase(n)
	b.gossip = func(v int64, from string) {
		for _, p := range n.NodeIDs() {
			if p != n.ID() && p != from {
				_ = n.Send(p, map[string]any{"type": "gossip", "message": v})
			}
		}
	}
	return b
}

// EchoingBroadcast is the flood of NoRetryBroadcast whose reads list
// every message twice and add one that was never broadcast: Maelstrom's
// checker lets both through, the bench's --strict checks do not.
func EchoingBroadcast(n *node.Node) {
	b := newFlood(n)
	b.view = func(vs []int64) []int64 { return append(append(vs, vs...), -1) }
}
