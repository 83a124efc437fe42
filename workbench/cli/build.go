package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/challenge"
)

// modulePath is this repository's Go module.
const modulePath = "github.com/glomers/glomers"

// flyNames are the binary names the challenge pages use.
var flyNames = map[string]string{
	"echo": "maelstrom-echo", "unique-ids": "maelstrom-unique-ids", "broadcast": "maelstrom-broadcast",
	"g-counter": "maelstrom-counter", "kafka": "maelstrom-kafka", "txn-rw-register": "maelstrom-txn",
}

// binaries finds or builds the solution binary of every chosen challenge
// and returns binary name → path for those it has; a missing one is not
// an error here (its challenge fails on the scoreboard). Ours are built
// into the repository's bin/ directory, so the printed command lines can
// be pasted and run again.
func (o *challengeOptions) binaries(ctx context.Context, chosen []challenge.Challenge) (map[string]string, error) {
	need := map[string]bool{}
	for _, c := range chosen {
		need[c.Binary] = true
	}
	out := map[string]string{}
	if o.binDir != "" {
		for b := range need {
			for _, name := range []string{b, flyNames[b]} {
				if name == "" {
					continue
				}
				p := filepath.Join(o.binDir, name)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
					out[b] = p
					break
				}
			}
		}
		return out, nil
	}
	if o.modRoot == "" {
		return nil, errors.New("not inside the glomers repository: run from a clone of it, or pass --bin-dir with your binaries")
	}
	var pkgs []string
	for b := range need {
		if fi, err := os.Stat(filepath.Join(o.modRoot, "cmd", b)); err == nil && fi.IsDir() {
			pkgs = append(pkgs, "./cmd/"+b)
		}
	}
	if len(pkgs) == 0 {
		return out, nil
	}
	sort.Strings(pkgs)
	dir := filepath.Join(o.modRoot, "bin")
	fmt.Fprintf(o.stdout, "Building %d solutions into %s (a minute or more on a fresh clone)…\n", len(pkgs), o.display(dir))
	start := time.Now()
	var doing buildStep
	stop := o.heartbeat(doing.String, start)
	// -v names each package as it is compiled, and go names each module it
	// downloads: the heartbeat shows the latest, so a first build that
	// fetches and compiles for a minute or more says what it is doing.
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-v", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = o.modRoot
	msg, err := doing.run(cmd)
	stop()
	if err != nil {
		return nil, fmt.Errorf("build the solutions: %v\n%s", err, msg)
	}
	fmt.Fprintf(o.stdout, "Built in %.0fs.\n", time.Since(start).Seconds())
	for _, p := range pkgs {
		b := filepath.Base(p)
		out[b] = filepath.Join(dir, b)
	}
	return out, nil
}

// heartbeat shows that a long step is alive, with what it is doing now:
// a redrawn line on a terminal, a plain line every 10 s elsewhere. The
// returned func stops it.
func (o *challengeOptions) heartbeat(what func() string, start time.Time) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		every := plainProgressEvery
		if o.terminal {
			every = time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if o.terminal {
					fmt.Fprint(o.stdout, "\r\033[K")
				}
				return
			case <-t.C:
				if o.terminal {
					fmt.Fprintf(o.stdout, "\r\033[K  %s… %.0fs", what(), time.Since(start).Seconds())
				} else {
					fmt.Fprintf(o.stdout, "  still %s (%.0fs)\n", what(), time.Since(start).Seconds())
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// buildStep follows a `go build -v`: what it is doing now, and its output
// for an error report.
type buildStep struct {
	mu       sync.Mutex
	now      string
	compiled int
	out      bytes.Buffer
}

// buildOutputCap bounds the build output kept for an error report.
const buildOutputCap = 64 << 10

// String says what the build is doing, e.g. "compiling gonum.org/v1/plot
// (57 packages so far)".
func (b *buildStep) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.now == "" {
		return "building"
	}
	return b.now
}

// run runs cmd, following its combined output line by line, and returns
// that output (its first 64 KiB) when it is done.
func (b *buildStep) run(cmd *exec.Cmd) ([]byte, error) {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			b.line(sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr) // a line over the scanner's limit: drain the rest
	}()
	err := cmd.Wait()
	pw.Close()
	<-read
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.out.Bytes()), err
}

func (b *buildStep) line(l string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.out.Len() < buildOutputCap {
		b.out.WriteString(l + "\n")
	}
	switch {
	case strings.HasPrefix(l, "go: downloading "):
		b.now = "downloading module " + strings.TrimPrefix(l, "go: downloading ")
	case !strings.ContainsAny(l, " \t:") && l != "":
		b.compiled++
		b.now = fmt.Sprintf("compiling %s (%d packages so far)", l, b.compiled)
	}
}

// moduleRoot finds this repository from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the glomers repository: run from a clone of it, or pass --bin-dir with your binaries")
		}
		dir = parent
	}
}

func isModuleRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == modulePath
		}
	}
	return false
}
