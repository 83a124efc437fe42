// Command pn-counter is a node for Maelstrom's pn-counter workload: a
// positive-negative counter CRDT gossiped between nodes. See package
// counter.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/counter"
)

func main() {
	n := node.New()
	counter.RegisterPN(n)
	node.Main(n)
}
