package maelstrom

import "io"

// InProcess turns a node's setup (what its main does between NewNode and
// Run) into a node the test bench runs in-process: give the result to
// workbench.Config.Node. Each node of the test, and each restart of one,
// gets a fresh Node whose Stdin and Stdout are the bench's pipes and
// whose own log lines go to the node's log; setup registers its handlers
// and must not call Run. Inside a testing/synctest bubble
// (workbench/workbenchtest) the whole test then runs in virtual time.
//
// A goroutine the node starts with a bare go statement outlives it
// in-process; one that calls the node after it stopped is ended there
// (see the package documentation), but one that only sleeps and never
// calls the node again makes synctest report "blocked goroutines remain"
// when the test ends.
func InProcess(setup func(*Node)) func(stdin io.Reader, stdout, stderr io.Writer) error {
	return func(stdin io.Reader, stdout, stderr io.Writer) error {
		n := newNode(stderr)
		n.Stdin, n.Stdout = stdin, stdout
		setup(n)
		return n.Run()
	}
}
