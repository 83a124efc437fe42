// Command broadcast is the Gossip Glomers broadcast node (challenges 3a–3e).
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
)

func main() {
	n := node.New()
	broadcast.Register(n)
	node.Main(n)
}
