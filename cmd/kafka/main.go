// Command kafka is the Gossip Glomers kafka-style log node (challenges
// 5a, 5b and 5c): one binary for all three. Each node answers sends and
// polls from its own memory and exchanges batched sync messages with the
// other nodes; see package github.com/glomers/glomers/solutions/kafka for
// the design, its cost per operation and why it is correct.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/kafka"
)

func main() {
	n := node.New()
	kafka.Register(n)
	node.Main(n)
}
