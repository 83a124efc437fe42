package workbench_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
)

// Tests of the kill and pause nemeses against real processes.

var (
	killedRE    = regexp.MustCompile(`Killing (n\d+) \(pid (\d+)\)`)
	restartedRE = regexp.MustCompile(`(n\d+) is up again \(init_ok, pid (\d+)\)`)
)

// noneRunning fails t if a process of bin is still alive.
func noneRunning(t *testing.T, bin string) {
	t.Helper()
	out, _ := exec.Command("pgrep", "-f", bin).Output()
	if len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("node processes still running: %s", out)
	}
}

// A killed process is replaced by a new one (a new pid) that goes through
// init and answers again; operations sent to it while down end :info;
// a paused one resumes and answers; the node log marks each new life;
// and no process is left when the test ends.
func TestRealKillAndPause(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, "echo")
	var log bytes.Buffer
	store := t.TempDir()
	cfg := workbench.Config{
		Workload: "echo", Bin: bin, NodeIDs: workbench.NodeIDs(3), Concurrency: 6, TimeLimit: 6 * time.Second,
		Rate: 30, Nemesis: []string{"kill", "pause"}, NemesisInterval: time.Second, Seed: 4,
		StoreRoot: store, Log: &log,
	}
	res, err := workbench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(log.String(), 3000))
	}
	noneRunning(t, bin)
	if res.Valid != checker.Valid {
		t.Errorf("echo under kill and pause: %v", res.Results)
	}

	// Every restart got a new process, through init.
	killedPid := map[string]string{}
	restarts := 0
	for _, line := range strings.Split(log.String(), "\n") {
		if m := killedRE.FindStringSubmatch(line); m != nil {
			killedPid[m[1]] = m[2]
		}
		if m := restartedRE.FindStringSubmatch(line); m != nil {
			restarts++
			if old := killedPid[m[1]]; old == "" || old == m[2] {
				t.Errorf("%s restarted as pid %s after the kill of pid %q", m[1], m[2], old)
			}
		}
	}
	if restarts < 2 {
		t.Fatalf("%d restarts in 6 s with --nemesis-interval 1\n%s", restarts, tail(log.String(), 3000))
	}

	ops := res.History
	done := completions(ops)
	var whileDown, answeredAfter int
	for _, w := range faultWindows(t, ops, "kill", "start") {
		for i, op := range ops {
			if !op.IsClient() || op.Type != history.Invoke || nodeOf(cfg, op.Process) != w.node {
				continue
			}
			c := done[i]
			switch {
			case op.Time > w.from && op.Time < w.to:
				whileDown++
				if c.Type != history.Info {
					t.Errorf("op %d to %s, invoked while it was down, ended %v", i, w.node, c.Type)
				}
			case op.Time > w.endDone && c.Type == history.OK:
				answeredAfter++
			}
		}
	}
	if whileDown == 0 || answeredAfter == 0 {
		t.Errorf("%d ops sent to a down node, %d answered after a restart; want some of each", whileDown, answeredAfter)
	}
	var afterResume int
	for _, w := range faultWindows(t, ops, "pause", "resume") {
		for i, op := range ops {
			if !op.IsClient() || op.Type != history.Invoke || nodeOf(cfg, op.Process) != w.node ||
				op.Time <= w.from || op.Time >= w.to {
				continue
			}
			if c := done[i]; c.Type == history.OK {
				if c.Time < w.to {
					t.Errorf("op %d to paused %s answered before the resume", i, w.node)
				}
				afterResume++
			}
		}
	}
	if afterResume == 0 {
		t.Error("no op held by a pause was answered after the resume")
	}

	lives := 0
	for _, id := range cfg.NodeIDs {
		b, err := os.ReadFile(filepath.Join(res.Dir, "node-logs", id+".log"))
		if err != nil {
			t.Fatal(err)
		}
		lives += bytes.Count(b, []byte("=== glomers: life "))
	}
	if lives != restarts {
		t.Errorf("node logs mark %d new lives, the log %d restarts", lives, restarts)
	}
}

// A test that ends while a node is killed and another paused (echo has no
// final phase to heal them) leaves no process behind; neither does one
// that is interrupted.
func TestRealFaultsLeaveNothingRunning(t *testing.T) {
	t.Parallel()
	bin := ownBinary(t, "echo")
	for _, interrupt := range []bool{false, true} {
		var log bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		if interrupt {
			ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
		}
		// With a mean gap of 100 s the first kill and pause (at time 0)
		// are not undone within 3 s.
		res, err := workbench.Run(ctx, workbench.Config{
			Workload: "echo", Bin: bin, NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second,
			Rate: 20, Nemesis: []string{"kill", "pause"}, NemesisInterval: 100 * time.Second, Seed: 2, Log: &log,
		})
		cancel()
		if interrupt != (err != nil) {
			t.Errorf("interrupt %v: err %v", interrupt, err)
		}
		if !strings.Contains(log.String(), "Killing n") || !strings.Contains(log.String(), "Pausing n") ||
			strings.Contains(log.String(), "Resuming") || strings.Contains(log.String(), "Restarting") {
			t.Fatalf("want a kill and a pause still in force at the end:\n%s", tail(log.String(), 2000))
		}
		if res == nil {
			t.Fatal("no result")
		}
		noneRunning(t, bin)
	}
}
