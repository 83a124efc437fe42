package workbench_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/workbenchtest"
)

// The bench's memory and disk stay within budget whatever a node prints:
// the built glomers command runs a hostile node, and its peak resident
// memory (from the kernel's rusage) and the run folder's size are held to
// 300 MB and 100 MB. The 100 MB line runs in the quick suite; the 1 GB
// flood, which keeps the bench busy for its whole run, in the long one.
//
// The peak is the kernel's VmHWM for glomers, sampled while it runs, and
// not the rusage of the reaped child: Go starts children with a vfork-style
// clone that shares the parent's memory until exec, and Linux folds that
// memory's high-water mark into the child's ru_maxrss, so rusage would
// count this test binary's own peak (420 MB under -race, while glomers
// itself stayed near 35 MB).
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
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatalf("glomers did not start: %v", err)
			}
			peak := make(chan int64, 1)
			done := make(chan struct{})
			go func() { peak <- sampleHighWater(cmd.Process.Pid, done) }()
			err := cmd.Wait()
			close(done)
			rss := <-peak
			if cmd.ProcessState == nil {
				t.Fatalf("glomers did not run: %v\n%s", err, tail(out.String(), 2000))
			}
			if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
				t.Fatalf("exit %d, want a verdict (0 or 1)\n%s", code, tail(out.String(), 2000))
			}
			if rss == 0 {
				t.Fatalf("no sample of glomers' memory was taken")
			}
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

// sampleHighWater reads the process's resident high-water mark (VmHWM in
// /proc/PID/status) every 10 ms until done is closed or the process is
// gone, and returns the largest, in bytes. VmHWM only grows, so the
// samples miss at most what the process added in its last 10 ms.
func sampleHighWater(pid int, done <-chan struct{}) int64 {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if hwm, ok := readHighWater(path); ok && hwm > peak {
			peak = hwm
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

// readHighWater returns the VmHWM line of a /proc status file, in bytes;
// ok is false when the file or the line is missing (a process that has
// exited has no memory left to report).
func readHighWater(path string) (int64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !found {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, false
		}
		return kib << 10, true
	}
	return 0, false
}
