// Package uniqueids solves challenge 2 (unique-ids): generate requests
// are answered with ids that are unique across all nodes, without any
// coordination, so it stays available under network partitions.
//
// Node i of N (its position in the init message's node_ids, which every
// node receives in the same order) hands out i, i+N, i+2N, …: the integers
// congruent to i modulo N. The ids are JSON integers, all of one type, so
// the bench can order them to report their range.
package uniqueids

import (
	"fmt"
	"slices"
	"sync"

	"github.com/glomers/glomers/node"
)

// reply is the body of generate_ok: only type, id and in_reply_to are
// allowed.
type reply struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// generator hands out the ids i, i+N, i+2N, … for node i of N.
type generator struct {
	mu     sync.Mutex
	stride int64 // N, or 0 until the node's place is known
	next   int64
}

// id returns a fresh id for node self among ids.
func (g *generator) id(self string, ids []string) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stride == 0 {
		i := slices.Index(ids, self)
		if i < 0 {
			return 0, fmt.Errorf("node %q is not among node_ids %v", self, ids)
		}
		g.stride, g.next = int64(len(ids)), int64(i)
	}
	id := g.next
	g.next += g.stride
	return id, nil
}

// Register makes n answer generate requests.
func Register(n *node.Node) {
	var g generator
	n.Handle("generate", func(msg node.Message) error {
		id, err := g.id(n.ID(), n.NodeIDs())
		if err != nil {
			// Definite: no id was handed out, and none ever will be.
			return node.NewRPCError(node.Abort, err.Error())
		}
		return n.Reply(msg, reply{Type: "generate_ok", ID: id})
	})
}
