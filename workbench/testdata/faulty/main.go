// Command faulty runs one of the deliberately broken nodes of package
// faulty as a real process: `faulty mangled-echo`. The bench's
// real-process tests build it to check that each fault is caught.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/internal/faulty"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: faulty NAME (one of %s)\n", strings.Join(faulty.Names(), ", "))
		os.Exit(2)
	}
	register, ok := faulty.Nodes()[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "faulty: unknown fault %q (one of %s)\n", os.Args[1], strings.Join(faulty.Names(), ", "))
		os.Exit(2)
	}
	n := node.New()
	register(n)
	node.Main(n)
}
