// Command echo is a Maelstrom node for the echo workload (challenge 1).
package main

import (
	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/echo"
)

func main() {
	n := node.New()
	echo.Register(n)
	node.Main(n)
}
