package workbench

import (
	"io"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/process"
)

// InProcess turns a function that wires handlers onto a node into an
// in-process node for Config.Node: each node of the test gets a fresh
// *node.Node, configured by register, running on pipes instead of a
// process's stdin and stdout. Inside a testing/synctest bubble the whole
// test then runs in virtual time.
func InProcess(register func(n *node.Node)) process.Func {
	return func(stdin io.Reader, stdout, stderr io.Writer) error {
		n := node.New(node.WithLogOutput(stderr))
		register(n)
		return n.Run(stdin, stdout)
	}
}
