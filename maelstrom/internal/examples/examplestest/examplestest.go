// Package examplestest runs the example nodes' tests: in virtual time,
// and built as binaries under the bench with real processes.
package examplestest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/cli"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// RequireValid runs cfg in virtual time and fails t unless it is valid.
func RequireValid(t *testing.T, cfg workbench.Config) {
	t.Helper()
	res := workbenchtest.Run(t, cfg)
	if res.Valid != checker.Valid {
		t.Fatalf("valid? %v (seed %d): %v", res.Valid, res.Seed, workbenchtest.Get(t, res, "workload"))
	}
}

// Build compiles the main package in the current directory into a
// temporary binary called name. It skips t with -short.
func Build(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary and runs real processes")
	}
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// RequireValidCommand builds the node and runs `glomers test args --bin
// <binary>`, failing t unless the verdict is valid.
func RequireValidCommand(t *testing.T, name, args string) {
	t.Helper()
	bin := Build(t, name)
	argv := append([]string{"test"}, strings.Fields(args)...)
	argv = append(argv, "--bin", bin, "--store", t.TempDir(), "--seed", "1")
	var out, errOut bytes.Buffer
	if code := cli.Main(context.Background(), argv, &out, &errOut); code != cli.ExitValid {
		t.Fatalf("glomers %s: exit status %d\n%s\n%s", strings.Join(argv, " "), code, tail(out.String()), errOut.String())
	}
}

// RequireValidBinary builds the node and runs cfg with it as real
// processes, as glomers test does, but with a one-second recovery wait
// before the final reads instead of Maelstrom's ten, to keep the test
// short. It belongs to the long suite (GLOMERS_LONG=1): the quick one
// runs the real-process path once, with the echo example.
func RequireValidBinary(t *testing.T, name string, cfg workbench.Config) {
	t.Helper()
	workbenchtest.SkipUnlessLong(t)
	cfg.Bin = Build(t, name)
	cfg.RecoveryWait = time.Second
	res, err := workbench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid {
		t.Fatalf("valid? %v (seed %d): %v", res.Valid, res.Seed, workbenchtest.Get(t, res, "workload"))
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
