// Command g-set is a node for Maelstrom's g-set workload: a grow-only set
// CRDT gossiped between nodes. See package gset.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/gset"
)

func main() {
	n := node.New()
	gset.Register(n)
	node.Main(n)
}
