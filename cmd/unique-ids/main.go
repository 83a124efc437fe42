// Command unique-ids is a Maelstrom node for the unique-ids workload
// (challenge 2).
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/uniqueids"
)

func main() {
	n := node.New()
	uniqueids.Register(n)
	node.Main(n)
}
