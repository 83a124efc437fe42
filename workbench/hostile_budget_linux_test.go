package workbench_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/glomers/glomers/workbench/workbenchtest"
)

// The bench's memory and disk stay within budget whatever a node prints:
// the built glomers command runs a hostile node, and its peak resident
// memory (from the kernel's rusage) and the run folder's size are held to
// 300 MB and 100 MB. The 100 MB line runs in the quick suite; the 1 GB
// flood, which keeps the bench busy for its whole run, in the long one.
func TestHostileNodesStayWithinBudget(t *testing.T) {
	t.Parallel()
	const maxRSS, maxStore = 300 << 20, 100 << 20
	bin := binaries(t)
	for _, c := range []struct {
		node, nodes string
		long        bool
	}{
		{"long-line", "1", false},
		{"flood", "2", true},
	} {
		t.Run(c.node, func(t *testing.T) {
			if c.long {
				workbenchtest.SkipUnlessLong(t)
			}
			t.Parallel()
			store := t.TempDir()
			cmd := exec.Command(filepath.Join(bin, "glomers"), "test", "-w", "echo", "--bin", filepath.Join(bin, "faulty"), c.node,
				"--node-count", c.nodes, "--time-limit", "5", "--store", store)
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil {
				t.Fatalf("glomers did not run: %v\n%s", err, tail(string(out), 2000))
			}
			if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
				t.Fatalf("exit %d, want a verdict (0 or 1)\n%s", code, tail(string(out), 2000))
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // Linux reports KiB
			var size int64
			filepath.WalkDir(store, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if fi, err := d.Info(); err == nil {
						size += fi.Size()
					}
				}
				return nil
			})
			t.Logf("%s: bench peak RSS %.0f MB, store %.1f MB", c.node, float64(rss)/(1<<20), float64(size)/(1<<20))
			if rss > maxRSS {
				t.Errorf("%s: bench peak RSS %d MB, budget %d MB", c.node, rss>>20, maxRSS>>20)
			}
			if size > maxStore {
				t.Errorf("%s: store %d MB, budget %d MB", c.node, size>>20, maxStore>>20)
			}
			for _, f := range []string{"results.edn", "history.edn", "index.html", "messages.svg", "net-journal.jsonl.gz"} {
				if fi, err := os.Stat(filepath.Join(store, "latest", f)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: the store lacks %s (%v)", c.node, f, err)
				}
			}
		})
	}
}
