package faulty

import (
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// simpleFaults are the broken nodes added to test the explanations of
// the simple workloads (echo, unique-ids, broadcast, counters).
func simpleExplainFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"clock-ids":     ClockIDs,
		"no-retry-gset": NoRetryGSet,
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

// NoRetryGSet is a g-set node that tells every peer of each new element
// once, fire and forget: correct without faults, lossy across partitions.
func NoRetryGSet(n *node.Node) {
	var mu sync.Mutex
	seen := map[int64]bool{}
	var elements []int64
	add := func(e int64, from string) {
		mu.Lock()
		fresh := !seen[e]
		if fresh {
			seen[e] = true
			elements = append(elements, e)
		}
		mu.Unlock()
		if !fresh {
			return
		}
		for _, p := range n.NodeIDs() {
			if p != n.ID() && p != from {
				_ = n.Send(p, map[string]any{"type": "tell", "element": e})
			}
		}
	}
	element := func(msg node.Message) (int64, error) {
		var body struct {
			Element int64 `json:"element"`
		}
		err := msg.Unmarshal(&body)
		return body.Element, err
	}
	n.Handle("add", func(msg node.Message) error {
		e, err := element(msg)
		if err != nil {
			return err
		}
		add(e, msg.Src)
		return n.Reply(msg, map[string]any{"type": "add_ok"})
	})
	n.Handle("tell", func(msg node.Message) error {
		e, err := element(msg)
		if err != nil {
			return err
		}
		add(e, msg.Src)
		return nil
	})
	n.Handle("read", func(msg node.Message) error {
		mu.Lock()
		defer mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "read_ok", "value": append([]int64{}, elements...)})
	})
}
