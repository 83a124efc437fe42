package workbench_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A node that starts a grandchild in a session of its own (setsid), out
// of reach of the kill of the node's process group: once `glomers test`
// has exited, the grandchild is gone too, because the glomers command is
// the child subreaper of its nodes and ends what they leave behind.
func TestRealSetsidGrandchildrenDoNotOutliveTheTest(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid command")
	}
	bin := binaries(t)
	pidfile := filepath.Join(t.TempDir(), "pids")
	cmd := exec.Command(filepath.Join(bin, "glomers"), "test", "-w", "echo", "--bin", filepath.Join(bin, "faulty"), "setsid-echo",
		"--node-count", "2", "--time-limit", "1", "--rate", "10", "--store", t.TempDir())
	cmd.Env = append(os.Environ(), "GLOMERS_TEST_PIDFILE="+pidfile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("glomers test: %v\n%s", err, tail(string(out), 2000))
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(b))
	if len(pids) != 2 {
		t.Fatalf("grandchildren started: %q, want 2", pids)
	}
	for _, s := range pids {
		pid, _ := strconv.Atoi(s)
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			comm, _ := os.ReadFile("/proc/" + s + "/comm")
			t.Errorf("grandchild %d (%s) outlived the test", pid, bytes.TrimSpace(comm))
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
