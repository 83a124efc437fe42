// Command txn-list-append is a strict-serializable txn-list-append node:
// a transactor in the style of Maelstrom's "Datomic" tutorial chapter,
// keeping immutable list values in lin-kv behind one compare-and-set
// root. See package github.com/glomers/glomers/solutions/listappend for
// the design.
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/listappend"
)

func main() {
	n := node.New()
	listappend.Register(n)
	node.Main(n)
}
