//go:build unix

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An interrupted `glomers test` (Ctrl-C or SIGTERM cancel the context
// main gives it) exits 130, as `glomers challenge` does, with one line
// that says so, after the run has stopped its nodes and kept what it
// collected.
func TestTestCommandExits130WhenInterrupted(t *testing.T) {
	dir := t.TempDir()
	// A node that answers init and then nothing: the run would last its
	// whole 60 s time limit.
	node := filepath.Join(dir, "node")
	script := "#!/bin/sh\nread line\nid=$(echo \"$line\" | sed 's/.*\"msg_id\":\\([0-9]*\\).*/\\1/')\n" +
		"src=$(echo \"$line\" | sed 's/.*\"src\":\"\\([^\"]*\\)\".*/\\1/')\n" +
		"echo \"{\\\"src\\\":\\\"n0\\\",\\\"dest\\\":\\\"$src\\\",\\\"body\\\":{\\\"type\\\":\\\"init_ok\\\",\\\"in_reply_to\\\":$id}}\"\n" +
		"exec cat >/dev/null\n"
	if err := os.WriteFile(node, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- Main(ctx, []string{"test", "-w", "echo", "--bin", node, "--node-count", "1", "--time-limit", "60", "--rate", "5",
			"--store", filepath.Join(dir, "store")}, &out, &errb)
	}()
	time.Sleep(1500 * time.Millisecond)
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the interrupted test did not end")
	}
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr: %s\nlog: %s", code, ExitInterrupted, errb.String(), out.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("stopping took until %v", d)
	}
	if s := errb.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, "interrupted") || !strings.Contains(s, "store") {
		t.Errorf("stderr %q, want one line saying the test was interrupted and where its data is", s)
	}
	if runs, _ := filepath.Glob(filepath.Join(dir, "store", "echo", "2*", "history.edn")); len(runs) != 1 {
		t.Errorf("the interrupted run kept %d histories, want 1", len(runs))
	}
}
