package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/glomers/glomers/workbench/report"
)

// runServeCommand serves the store over HTTP, like `maelstrom serve`.
func runServeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	host, port, store := "0.0.0.0", 8080, "store"
	for i := 0; i < len(args); i++ {
		next := func() (string, bool) {
			if i+1 >= len(args) {
				fmt.Fprintf(stderr, "glomers serve: %s needs a value\n", args[i])
				return "", false
			}
			i++
			return args[i], true
		}
		switch args[i] {
		case "-h", "--help":
			fmt.Fprintln(stdout, "Usage: glomers serve [-b HOST] [-p PORT] [--store DIR]")
			return ExitValid
		case "-b", "--host":
			v, ok := next()
			if !ok {
				return ExitUsage
			}
			host = v
		case "-p", "--port":
			v, ok := next()
			if !ok {
				return ExitUsage
			}
			p, err := strconv.Atoi(v)
			if err != nil || p < 0 || p > 65535 {
				fmt.Fprintf(stderr, "glomers serve: bad port %q\n", v)
				return ExitUsage
			}
			port = p
		case "--store":
			v, ok := next()
			if !ok {
				return ExitUsage
			}
			store = v
		default:
			fmt.Fprintf(stderr, "glomers serve: unknown option %q\n", args[i])
			return ExitUsage
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	srv := &http.Server{Addr: addr, Handler: report.NewServer(store), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	fmt.Fprintf(stdout, "Listening on http://%s/\n", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "glomers serve: %v\n", err)
		return ExitInternal
	}
	return ExitValid
}
