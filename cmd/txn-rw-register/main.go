// Command txn-rw-register is the Gossip Glomers totally-available
// transactions node (challenges 6a, 6b and 6c): every node answers every
// transaction from its own replica at once and replicates committed
// writes to the others in batches. See package
// github.com/glomers/glomers/solutions/txn for the design.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/txn"
)

func main() {
	n := node.New()
	txn.Register(n)
	node.Main(n)
}
