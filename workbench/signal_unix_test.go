//go:build unix

package workbench_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `glomers test` stopped by Ctrl-C (SIGINT) or SIGTERM stops its nodes
// and exits 130, as `glomers challenge` does.
func TestRealSignalsStopTheTest(t *testing.T) {
	bin := binaries(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			store := t.TempDir()
			cmd := exec.Command(filepath.Join(bin, "glomers"), "test", "-w", "echo", "--bin", filepath.Join(bin, "echo"),
				"--node-count", "2", "--time-limit", "60", "--rate", "10", "--store", store)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !strings.Contains(sc.Text(), "nodes initialised") {
			}
			time.Sleep(300 * time.Millisecond)
			start := time.Now()
			cmd.Process.Signal(sig)
			go func() { // keep draining the log
				for sc.Scan() {
				}
			}()
			err = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Fatalf("exit %d (%v), want 130\nstderr: %s", code, err, errb.String())
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("stopping took %v", d)
			}
			if !strings.Contains(errb.String(), "interrupted") {
				t.Errorf("stderr %q", errb.String())
			}
			if out, _ := exec.Command("pgrep", "-f", filepath.Join(bin, "echo")).Output(); len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("node processes still running: %s", out)
			}
		})
	}
}
