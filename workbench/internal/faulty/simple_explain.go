package faulty

import (
	"time"

	"github.com/glomers/glomers/node"
)

// simpleFaults are the broken nodes added to test the explanations of
// the simple workloads (echo, unique-ids, broadcast, counters).
func simpleFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"clock-ids": ClockIDs,
	}
}

// ClockIDs answers each generate with the wall clock in milliseconds, a
// learner's first idea of a unique id: two requests in the same
// millisecond, on one node or on two, get the same id.
func ClockIDs(n *node.Node) {
	n.Handle("generate", func(msg node.Message) error {
		return n.Reply(msg, map[string]any{"type": "generate_ok", "id": time.Now().UnixMilli()})
	})
}
