// Command glomers runs Maelstrom tests in pure Go and scores this
// project's Gossip Glomers solutions. See `glomers --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/glomers/glomers/workbench/cli"
	"github.com/glomers/glomers/workbench/process"
)

func main() {
	// Processes a node leaves behind, even in a session of their own, come
	// back to the bench to be ended after each run (Linux only; elsewhere
	// each node's process group is killed, see process.BecomeSubreaper).
	_ = process.BecomeSubreaper()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
