// Command broadcast is the Gossip Glomers broadcast node (challenges
// 3a–3e). It runs in one of two modes, chosen by the environment variable
// GLOMERS_BROADCAST_MODE:
//
//   - efficient (the default, also when the variable is unset or empty):
//     values travel through a hub in batches; on the 3d/3e set-up about
//     1.45 node-to-node messages per client operation and a median stable
//     latency of about 140 ms (maximum under 450 ms);
//   - fast: every node sends its values straight to every other node;
//     about 12 messages per operation, median about 55 ms, maximum about
//     one hop (100 ms).
//
// Any other value is reported on stderr and the node exits with status 2
// before reading any message. See package
// github.com/glomers/glomers/solutions/broadcast for the design.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
)

// modeEnv names the environment variable that selects the mode.
const modeEnv = "GLOMERS_BROADCAST_MODE"

func main() {
	os.Exit(run(os.Getenv(modeEnv), os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program: it parses the mode, then serves messages from
// stdin until it ends, and returns the exit status.
func run(mode string, stdin io.Reader, stdout, stderr io.Writer) int {
	m, err := broadcast.ParseMode(mode)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", modeEnv, err)
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
