// Command glomers runs Maelstrom tests in pure Go and scores this
// project's Gossip Glomers solutions. See `glomers --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/glomers/glomers/workbench/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
