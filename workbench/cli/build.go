package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
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
	stop := o.heartbeat("building", start)
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = o.modRoot
	msg, err := cmd.CombinedOutput()
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

// heartbeat shows that a long step is alive: a redrawn line on a
// terminal, a plain line every 10 s elsewhere. The returned func stops it.
func (o *challengeOptions) heartbeat(what string, start time.Time) func() {
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
					fmt.Fprintf(o.stdout, "\r\033[K  %s… %.0fs", what, time.Since(start).Seconds())
				} else {
					fmt.Fprintf(o.stdout, "  still %s (%.0fs)\n", what, time.Since(start).Seconds())
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
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
