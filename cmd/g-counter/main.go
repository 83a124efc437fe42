// Command g-counter is the Gossip Glomers grow-only counter node
// (challenge 4): its state lives in seq-kv. See package counter.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/counter"
)

func main() {
	n := node.New()
	counter.Register(n)
	node.Main(n)
}
