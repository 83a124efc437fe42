package workbench_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/cli"
)

// Real processes that attack the bench: each run ends with its verdict
// and a complete store, and the log names the node and what it did. Each
// takes about six seconds: the operations after the bad line time out.
func TestRealHostileNodes(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	for _, c := range []struct{ node, want string }{
		{"deep-echo", "with JSON nested more than 100 levels deep"},
		{"long-line", "printed a line of 104857600 bytes to STDOUT, longer than the 4194304 bytes (4 MiB) this bench accepts"},
	} {
		t.Run(c.node, func(t *testing.T) {
			t.Parallel()
			store := t.TempDir()
			code, out, stderr := cliRun(t, "test", "-w", "echo", "--bin", filepath.Join(bin, "faulty"), c.node,
				"--node-count", "1", "--time-limit", "1", "--rate", "5", "--store", store)
			if code != cli.ExitInvalid {
				t.Fatalf("exit %d, want %d (invalid)\nstderr: %s\nlog: %s", code, cli.ExitInvalid, stderr, tail(out, 2000))
			}
			if !strings.Contains(out, "Error! node n0") || !strings.Contains(out, c.want) {
				t.Errorf("log does not name n0 and %q:\n%s", c.want, tail(out, 2000))
			}
			results, err := os.ReadFile(filepath.Join(store, "latest", "results.edn"))
			if err != nil || !strings.Contains(string(results), c.want) {
				t.Errorf("results.edn lacks the protocol error (%v)", err)
			}
			if fi, err := os.Stat(filepath.Join(store, "latest", "index.html")); err != nil || fi.Size() == 0 {
				t.Errorf("store lacks its index: %v", err)
			}
		})
	}
}
