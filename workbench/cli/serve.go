package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/report"
)

// Defaults of glomers serve. Maelstrom's serve is Jepsen's (Jepsen
// src/jepsen/cli.clj, serve-cmd), which binds 0.0.0.0:8080; we keep its
// option names, -b/--host and -p/--port, and its port, but listen on the
// loopback interface unless told otherwise, so browsing results does not
// publish them to the network.
const (
	defaultServeHost = "127.0.0.1"
	defaultServePort = 8080
)

const serveUsageHead = `Usage: glomers serve [options]

Browse the store in a web browser: every test, newest first, with its
verdict and key figures, and each test's page (index.html) with its
results, plots, message diagrams, timeline and logs.

Options:
`

type serveOptions struct {
	host  string
	port  int
	store string
	help  bool
	flags *pflag.FlagSet
}

func parseServe(args []string) (*serveOptions, error) {
	o := &serveOptions{}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVarP(&o.host, "host", "b", defaultServeHost, "address to listen on (0.0.0.0: every interface, as Maelstrom does)")
	setArg(fs, "host", "HOST")
	fs.IntVarP(&o.port, "port", "p", defaultServePort, "port to listen on (0: any free port)")
	setArg(fs, "port", "PORT")
	fs.StringVar(&o.store, "store", workbench.DefaultStoreRoot, "the store directory to browse")
	setArg(fs, "store", "DIR")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help")
	o.flags = fs
	if err := fs.Parse(args); err != nil {
		return o, flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.port < 0 || o.port > 65535 {
		return o, fmt.Errorf("--port %d is not a TCP port (0 to 65535)", o.port)
	}
	return o, nil
}

func serveUsage(o *serveOptions) string {
	var b strings.Builder
	b.WriteString(serveUsageHead)
	writeOptions(&b, o.flags)
	return b.String()
}

// runServeCommand serves the store over HTTP, like `maelstrom serve`,
// until ctx is cancelled. It binds the port before saying "Listening
// on", so a port already taken gives one line on stderr and nothing
// else.
func runServeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseServe(args)
	if o.help {
		fmt.Fprint(stdout, serveUsage(o))
		return ExitValid
	}
	if err != nil {
		return usageError(stderr, "serve", err)
	}
	addr := net.JoinHostPort(o.host, strconv.Itoa(o.port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "glomers serve: %s\n", listenError(addr, err))
		return ExitInternal
	}
	var handler http.Handler = report.NewServer(o.store)
	if isLoopback(o.host) {
		handler = loopbackHostsOnly(handler)
	}
	srv := newServeServer(handler)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	// The host as given (Go reports 0.0.0.0 as [::]) with the port bound,
	// which --port 0 leaves to the system.
	bound := addr
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		bound = net.JoinHostPort(o.host, strconv.Itoa(tcp.Port))
	}
	fmt.Fprintf(stdout, "Listening on http://%s/\n", bound)
	err = srv.Serve(ln)
	if !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "glomers serve: %v\n", err)
		srv.Close()
		return ExitInternal
	}
	<-stopped
	return ExitValid
}

// newServeServer is serve's http.Server: a client that stalls while
// sending its request, or sits idle, loses its connection after a few
// seconds or minutes, so stuck clients cannot pile up.
func newServeServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long enough for the largest store file over a slow link; a
		// stuck reader holds a connection no longer.
		WriteTimeout: 5 * time.Minute,
		IdleTimeout:  2 * time.Minute,
	}
}

// listenError explains why addr could not be bound, in one line.
func listenError(addr string, err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Sprintf("cannot listen on %s: the port is already in use (another glomers serve?); choose another with --port", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("cannot listen on %s: no interface of this machine has that address; see --host", addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("cannot listen on %s: permission denied (ports below 1024 need privileges); choose another with --port", addr)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return fmt.Sprintf("cannot listen on %s: %v", addr, err)
}

// isLoopback reports whether a --host value names the loopback
// interface only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// loopbackHostsOnly refuses a request whose Host header is not a
// loopback name (localhost, 127.x.y.z or [::1], with any port): a page
// on another site could otherwise point a name of its own at 127.0.0.1
// (DNS rebinding) and read the store through the visitor's browser.
func loopbackHostsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hp, _, err := net.SplitHostPort(host); err == nil {
			host = hp
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host == "" || !isLoopback(host) {
			http.Error(w, "glomers serve answers only to localhost, 127.0.0.1 or [::1] when it listens on the loopback interface", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}
