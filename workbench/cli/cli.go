package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/suggest"
	"github.com/glomers/glomers/workbench/process"
)

// usage is the top-level help; the defaults it states are serve's own.
func usage() string {
	return fmt.Sprintf(`glomers: write, run and verify Maelstrom nodes with nothing but Go.

Usage:
  glomers test -w WORKLOAD --bin BINARY [options]   run one test, like maelstrom test
  glomers challenge ID... | all [options]            run Gossip Glomers challenges, print a scoreboard
  glomers serve [-b HOST] [-p PORT] [--store DIR]    browse stored results
                                                     (default: http://%s/ over ./%s)
  glomers --version                                  print the version and VCS revision

Run a command with --help for its options.
`, net.JoinHostPort(defaultServeHost, strconv.Itoa(defaultServePort)), workbench.DefaultStoreRoot)
}

// Main runs the glomers command line with args (without the program
// name) and returns the process exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return ExitUsage
	}
	switch args[0] {
	case "test":
		return runTestCommand(ctx, args[1:], stdout, stderr)
	case "challenge", "challenges":
		return runChallengeCommand(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServeCommand(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage())
		return ExitValid
	case "--version", "version":
		info, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(info, ok))
		return ExitValid
	}
	hint := ""
	if s, ok := suggest.Closest(strings.TrimLeft(args[0], "-"), []string{"test", "challenge", "serve", "version"}); ok {
		hint = fmt.Sprintf("; did you mean %s?", s)
	}
	fmt.Fprintf(stderr, "glomers: unknown command %q%s\n\n%s", args[0], hint, usage())
	return ExitUsage
}

func runTestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseTest(args)
	if o != nil && o.help {
		fmt.Fprint(stdout, testUsage())
		return ExitValid
	}
	if err != nil {
		return usageError(stderr, "test", err)
	}
	for _, name := range o.ignored {
		fmt.Fprintf(stderr, "glomers test: %s is accepted for compatibility and ignored\n", name)
	}
	o.cfg.Log = stdout
	status := ExitValid
	for i := 0; i < o.testCount; i++ {
		res, err := workbench.Run(ctx, o.cfg)
		// What the nodes left behind goes now (where the OS lets the
		// bench find it, see process.BecomeSubreaper).
		process.ReapOrphans()
		if ctx.Err() != nil {
			// Ctrl-C or SIGTERM: Run has stopped the nodes and kept what
			// was collected.
			where := ""
			if res != nil && res.Dir != "" {
				where = fmt.Sprintf("; what was collected is in %s", res.Dir)
			}
			fmt.Fprintf(stderr, "glomers test: interrupted%s\n", where)
			return ExitInterrupted
		}
		if code := runError(stderr, res, err); code != 0 {
			return code
		}
		status = exitFor(res.Valid)
		if status != ExitValid {
			return status
		}
	}
	return status
}

// runError prints one clear line for a test that could not run and
// returns its exit status, or 0 when err is nil.
func runError(stderr io.Writer, res *workbench.Result, err error) int {
	if err == nil {
		return 0
	}
	var ue *workbench.UsageError
	if errors.As(err, &ue) {
		return usageError(stderr, "test", err)
	}
	where := ""
	if res != nil && res.Dir != "" {
		where = fmt.Sprintf(" (what was collected is in %s)", res.Dir)
	}
	fmt.Fprintf(stderr, "glomers test: the test could not run: %s%s\n", firstLine(err), where)
	return ExitInternal
}

func exitFor(v checker.Validity) int {
	switch v {
	case checker.Valid:
		return ExitValid
	case checker.Invalid:
		return ExitInvalid
	}
	return ExitUnknown
}

// oneLine joins a multi-error into one line.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

// firstLine keeps the first line of a long error such as a crash report.
func firstLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " …"
	}
	return s
}
