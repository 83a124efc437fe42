package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to write from the server's
// goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs `glomers serve args...` until the test ends and
// returns the URL it says it listens on.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		code := Main(ctx, append([]string{"serve"}, args...), pw, &stderr)
		pw.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != ExitValid {
				t.Errorf("serve ended with %d after cancellation; stderr %q", code, stderr.String())
			}
		case <-time.After(5 * time.Second):
			t.Error("serve did not stop within 5 s of cancellation")
		}
	})
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing; stderr %q", stderr.String())
	}
	go io.Copy(io.Discard, pr) // later output, if any
	first := lines.Text()
	url, ok := strings.CutPrefix(first, "Listening on ")
	if !ok {
		t.Fatalf("serve's first line %q; stderr %q", first, stderr.String())
	}
	return url
}

func TestServeDefaults(t *testing.T) {
	o, err := parseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.host != "127.0.0.1" || o.port != 8080 || o.store != "store" {
		t.Errorf("defaults host %q port %d store %q, want 127.0.0.1, 8080, store", o.host, o.port, o.store)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"serve", "--help"}, &stdout, &stderr); code != ExitValid {
		t.Fatalf("serve --help exited %d", code)
	}
	help := stdout.String()
	for _, want := range []string{"-b, --host", `(default "127.0.0.1")`, "-p, --port", "(default 8080)", "--store", `(default "store")`} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %s:\n%s", want, help)
		}
	}
	// Maelstrom's option names and short forms are accepted.
	o, err = parseServe([]string{"-b", "0.0.0.0", "-p", "9000", "--store", "elsewhere"})
	if err != nil || o.host != "0.0.0.0" || o.port != 9000 || o.store != "elsewhere" {
		t.Errorf("-b 0.0.0.0 -p 9000 --store elsewhere: %+v %v", o, err)
	}
	o, err = parseServe([]string{"--host=::1", "--port=0"})
	if err != nil || o.host != "::1" || o.port != 0 {
		t.Errorf("--host=::1 --port=0: %+v %v", o, err)
	}
}

func TestServeBadOptions(t *testing.T) {
	for _, args := range [][]string{
		{"--port", "70000"}, {"--port", "-1"}, {"--port", "http"}, {"--host"}, {"--nope"}, {"extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), append([]string{"serve"}, args...), &stdout, &stderr)
		if code != ExitUsage {
			t.Errorf("serve %q exited %d, want %d", args, code, ExitUsage)
		}
		if stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "glomers serve: ") {
			t.Errorf("serve %q: stdout %q, stderr %q; want one line on stderr", args, stdout.String(), stderr.String())
		}
	}
}

// By default serve listens on the loopback interface only, and answers
// there.
func TestServeListensOnLoopbackByDefault(t *testing.T) {
	url := startServe(t, "--port", "0", "--store", t.TempDir())
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
		t.Fatalf("listening on %q, want http://127.0.0.1:PORT/", url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "No tests stored yet") {
		t.Errorf("GET %s = %d %q", url, resp.StatusCode, body)
	}
	// Nothing answers on another interface of this machine at that port.
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	for _, ip := range nonLoopbackAddrs(t) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("serve answers on %s:%s, not only on the loopback interface", ip, port)
		}
	}
}

// nonLoopbackAddrs lists this machine's IPv4 addresses that are not
// loopback ones.
func nonLoopbackAddrs(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Logf("cannot list interfaces: %v", err)
		return nil
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

func TestServeHostOption(t *testing.T) {
	url := startServe(t, "--host", "0.0.0.0", "--port", "0", "--store", t.TempDir())
	if !strings.HasPrefix(url, "http://0.0.0.0:") {
		t.Fatalf("listening on %q, want every interface", url)
	}
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET = %d", resp.StatusCode)
	}
}

// A port already taken: one clear line on stderr, no "Listening on".
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	store := t.TempDir()
	go func() {
		done <- Main(context.Background(), []string{"serve", "--port", port, "--store", store}, &stdout, &stderr)
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("serve on a busy port did not return")
	}
	if code != ExitInternal {
		t.Errorf("exit status %d, want %d", code, ExitInternal)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing (no Listening on)", stdout.String())
	}
	want := "glomers serve: cannot listen on 127.0.0.1:" + port + ": the port is already in use (another glomers serve?); choose another with --port\n"
	if stderr.String() != want {
		t.Errorf("stderr %q\nwant   %q", stderr.String(), want)
	}
}

func TestServeUnknownHost(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"serve", "--host", "192.0.2.1", "--port", "0"}, &stdout, &stderr)
	if code != ExitInternal || stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 ||
		!strings.Contains(stderr.String(), "cannot listen on 192.0.2.1:0") {
		t.Errorf("an address not of this machine: %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// The top-level help names serve's options and states the same defaults
// as serve --help.
func TestServeTopLevelHelpAgrees(t *testing.T) {
	var top, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"--help"}, &top, &stderr); code != ExitValid {
		t.Fatalf("--help exited %d", code)
	}
	o, err := parseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"glomers serve [-b HOST] [-p PORT] [--store DIR]",
		"http://" + net.JoinHostPort(o.host, strconv.Itoa(o.port)) + "/",
		"./" + o.store,
	} {
		if !strings.Contains(top.String(), want) {
			t.Errorf("top-level help lacks %q:\n%s", want, top.String())
		}
	}
	var sub bytes.Buffer
	Main(context.Background(), []string{"serve", "--help"}, &sub, &stderr)
	for _, f := range []string{"host", "port", "store"} {
		flag := o.flags.Lookup(f)
		if !strings.Contains(sub.String(), "--"+f) || !strings.Contains(top.String(), flag.DefValue) {
			t.Errorf("--%s (default %s) missing from serve --help or the top-level help", f, flag.DefValue)
		}
	}
}

// getWithHost fetches url with the given Host header.
func getWithHost(t *testing.T, url, host string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestServeRefusesForeignHostOnLoopback checks the DNS-rebinding guard:
// on the loopback interface, serve answers to loopback names only,
// whatever the port, and with --host 0.0.0.0 (published on purpose) to
// any name.
func TestServeRefusesForeignHostOnLoopback(t *testing.T) {
	url := startServe(t, "--port", "0", "--store", t.TempDir())
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	for host, ok := range map[string]bool{
		"127.0.0.1:" + port: true, "localhost:" + port: true, "LOCALHOST": true, "[::1]:" + port: true,
		"127.1.2.3:8080": true, "evil.example:" + port: false, "evil.example": false,
		"127.0.0.1.evil.example:" + port: false, "10.0.0.1:" + port: false, "localhost.evil.example": false,
	} {
		resp, body := getWithHost(t, url, host)
		if got := resp.StatusCode == http.StatusOK; got != ok {
			t.Errorf("Host %q: %d %.80q, want accepted=%v", host, resp.StatusCode, body, ok)
		}
		if !ok && resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("Host %q refused with %d, want 421", host, resp.StatusCode)
		}
	}
	open := startServe(t, "--host", "0.0.0.0", "--port", "0", "--store", t.TempDir())
	_, port, _ = net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(open, "http://"), "/"))
	if resp, _ := getWithHost(t, "http://127.0.0.1:"+port+"/", "evil.example"); resp.StatusCode != http.StatusOK {
		t.Errorf("serve on every interface refused a Host: %d", resp.StatusCode)
	}
}

// TestServeSecurityHeaders checks that every answer, pages and errors
// alike, forbids content sniffing and carries the policy.
func TestServeSecurityHeaders(t *testing.T) {
	url := startServe(t, "--port", "0", "--store", t.TempDir())
	for _, path := range []string{"", "files/nothing-here", "files/../etc/passwd"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("/%s: X-Content-Type-Options %q", path, got)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'sha256-") {
			t.Errorf("/%s: Content-Security-Policy %q", path, csp)
		}
	}
}

// TestServeTimeouts checks that serve's server bounds how long a client
// may take to send its request, to read the answer and to sit idle.
func TestServeTimeouts(t *testing.T) {
	srv := newServeServer(http.NotFoundHandler())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 10*time.Minute {
			t.Errorf("%s = %v, want a bound of minutes at most", name, d)
		}
	}
}
