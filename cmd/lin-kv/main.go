// Command lin-kv is a linearizable key-value node for Maelstrom's lin-kv
// workload, replicated with Raft; see package
// github.com/glomers/glomers/solutions/raft for the design and what it
// guarantees when nodes are partitioned, paused or restarted with empty
// memory.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/raft"
)

func main() {
	n := node.New()
	raft.Register(n)
	node.Main(n)
}
