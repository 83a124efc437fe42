package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/glomers/glomers/workbench/challenge"
)

// modulePath is this repository's Go module.
const modulePath = "github.com/glomers/glomers"

// flyNames are the binary names the challenge pages use.
var flyNames = map[string]string{
	"echo": "maelstrom-echo", "unique-ids": "maelstrom-unique-ids", "broadcast": "maelstrom-broadcast",
	"g-counter": "maelstrom-counter", "kafka": "maelstrom-kafka", "txn-rw-register": "maelstrom-txn",
}

// binaries finds or builds the solution binary of every chosen challenge.
// It returns binary name → path for those it has; a missing one is not an
// error (its challenge is skipped). cleanup removes what was built.
func binaries(ctx context.Context, chosen []challenge.Challenge, binDir string, log io.Writer) (map[string]string, func(), error) {
	need := map[string]bool{}
	for _, c := range chosen {
		need[c.Binary] = true
	}
	out := map[string]string{}
	noop := func() {}
	if binDir != "" {
		for b := range need {
			for _, name := range []string{b, flyNames[b]} {
				if name == "" {
					continue
				}
				p := filepath.Join(binDir, name)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
					out[b] = p
					break
				}
			}
		}
		return out, noop, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, noop, err
	}
	var pkgs []string
	for b := range need {
		if fi, err := os.Stat(filepath.Join(root, "cmd", b)); err == nil && fi.IsDir() {
			pkgs = append(pkgs, "./cmd/"+b)
		}
	}
	if len(pkgs) == 0 {
		return out, noop, nil
	}
	dir, err := os.MkdirTemp("", "glomers-bin-")
	if err != nil {
		return nil, noop, fmt.Errorf("make a directory for the solution binaries: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	fmt.Fprintf(log, "building %s\n", strings.Join(pkgs, " "))
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, cleanup, fmt.Errorf("build the solutions: %v\n%s", err, msg)
	}
	for _, p := range pkgs {
		b := filepath.Base(p)
		out[b] = filepath.Join(dir, b)
	}
	return out, cleanup, nil
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
