// Command broadcast is the Gossip Glomers broadcast node (challenges
// 3a–3e). It runs in one of two modes, chosen by its --mode argument
// (Maelstrom passes the arguments after "--" on its command line to the
// node, e.g. `maelstrom test -w broadcast --bin broadcast ... -- --mode fast`):
//
//   - efficient (the default): values travel through a hub in batches; on
//     the 3d/3e set-up about 1.45 node-to-node messages per client
//     operation and a median stable latency of about 140 ms (maximum
//     under 450 ms);
//   - fast: every node sends its values straight to every other node;
//     about 12 messages per operation, median about 55 ms, maximum about
//     one hop (100 ms).
//
// A bad argument is reported on stderr and the node exits with status 2
// before reading any message. See package
// github.com/glomers/glomers/solutions/broadcast for the design.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program: it parses the arguments, then serves
// messages from stdin until it ends, and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "efficient", "efficient (few messages, through a hub) or fast (straight to every node)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "broadcast: unexpected arguments %q (usage: broadcast [--mode efficient|fast])\n", fs.Args())
		return 2
	}
	m, err := broadcast.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(stderr, "--mode: %v\n", err)
		return 2
	}
	n := node.New(node.WithLogOutput(stderr))
	n.Logf("broadcast: running in %s mode", m)
	broadcast.RegisterWith(n, broadcast.Options{Mode: m})
	if err := n.Run(stdin, stdout); err != nil {
		n.Logf("broadcast: %v", err)
		return 1
	}
	return 0
}
