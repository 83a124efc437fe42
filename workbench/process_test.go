package workbench_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/cli"
)

// Real-process tests: the binaries are built once per test binary run.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go" // go test puts GOROOT/bin on PATH, so this is rare; the build then says what is missing
}

// binaries builds the solution binaries and the faulty node into a temp
// directory shared by this package's tests.
func binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "glomers-test-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command(goTool(), "build", "-o", binDir+string(filepath.Separator),
			"../cmd/echo", "../cmd/unique-ids", "../cmd/broadcast", "../cmd/g-counter", "../cmd/pn-counter", "../cmd/g-set",
			"../cmd/glomers", "./testdata/faulty")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// realParallel is how many real-process tests run at once when -parallel
// is not given: they spend their time waiting on nodes and timers, not
// computing, so more than the cores (go test's default) fit.
const realParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", strconv.Itoa(realParallel))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ownBinary gives the test its own path to a built binary (a hard link,
// or a copy), so that a check for leftover processes by path (pgrep -f)
// sees this test's nodes only, while other tests run in parallel.
func ownBinary(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(binaries(t), name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.Link(src, dst); err == nil {
		return dst
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRealEcho(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	store := t.TempDir()
	code, out, stderr := cliRun(t, "test", "-w", "echo", "--bin", filepath.Join(bin, "echo"), "--node-count", "1",
		"--time-limit", "2", "--rate", "20", "--store", store, "--test-count", "2")
	if code != cli.ExitValid {
		t.Fatalf("exit %d\nstderr: %s\nlog tail: %s", code, stderr, tail(out, 2000))
	}
	if !strings.Contains(out, "Everything looks good!") {
		t.Errorf("no verdict line in output")
	}
	if runs, _ := filepath.Glob(filepath.Join(store, "echo", "2*")); len(runs) != 2 {
		t.Errorf("--test-count 2 stored %d runs, want 2", len(runs))
	}
	for _, f := range []string{"results.edn", "results.json", "history.edn", "history.txt", "jepsen.log", "messages.svg", "test.json", "node-logs/n0.log"} {
		if _, err := os.Stat(filepath.Join(store, "latest", f)); err != nil {
			t.Errorf("store lacks %s: %v", f, err)
		}
	}
}

func TestRealUniqueIDsWithPartitions(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	code, out, stderr := cliRun(t, "test", "-w", "unique-ids", "--bin", filepath.Join(bin, "unique-ids"), "--node-count", "3",
		"--time-limit", "3", "--rate", "300", "--availability", "total", "--nemesis", "partition", "--nemesis-interval", "1",
		"--store", t.TempDir())
	if code != cli.ExitValid {
		t.Fatalf("exit %d\nstderr: %s\nlog tail: %s", code, stderr, tail(out, 2000))
	}
}

func TestRealBroadcast(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	res, err := workbench.Run(context.Background(), workbench.Config{
		Workload: "broadcast", Bin: filepath.Join(bin, "broadcast"), NodeIDs: workbench.NodeIDs(5), TimeLimit: 3 * time.Second,
		Rate: 20, Latency: 20 * time.Millisecond, Nemesis: []string{"partition"}, NemesisInterval: time.Second,
		RecoveryWait: 6 * time.Second, Seed: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid {
		t.Fatalf("broadcast: %v", res.Results)
	}
}

// The counter and set workloads, each against its real binary, with
// partitions and a short recovery.
func TestRealCountersAndSets(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	for _, w := range []string{"g-counter", "pn-counter", "g-set"} {
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			res, err := workbench.Run(context.Background(), workbench.Config{
				Workload: w, Bin: filepath.Join(bin, w), NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second,
				Rate: 50, Nemesis: []string{"partition"}, NemesisInterval: time.Second, RecoveryWait: 5 * time.Second, Seed: 8,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid != checker.Valid {
				t.Fatalf("%s: %v", w, res.Results)
			}
		})
	}
}

func TestRealFaultyNodesAreInvalid(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	for _, c := range []struct{ fault, workload, nodes string }{
		{"mangled-echo", "echo", "1"},
		{"colliding-ids", "unique-ids", "2"},
		{"kafka-per-node-offsets", "kafka", "2"},
	} {
		t.Run(c.fault, func(t *testing.T) {
			t.Parallel()
			code, out, stderr := cliRun(t, "test", "-w", c.workload, "--bin", filepath.Join(bin, "faulty"), c.fault,
				"--node-count", c.nodes, "--time-limit", "2", "--rate", "50", "--store", t.TempDir())
			if code != cli.ExitInvalid {
				t.Errorf("%s: exit %d, want %d\nstderr: %s\nlog: %s", c.fault, code, cli.ExitInvalid, stderr, tail(out, 1500))
			}
			if !strings.Contains(out, "Analysis invalid!") {
				t.Errorf("%s: no invalid verdict line", c.fault)
			}
		})
	}
}

func TestRealCrashes(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	store := t.TempDir()
	code, _, stderr := cliRun(t, "test", "-w", "echo", "--bin", filepath.Join(bin, "faulty"), "crash-echo",
		"--node-count", "1", "--time-limit", "5", "--rate", "20", "--store", store)
	if code != cli.ExitInternal {
		t.Fatalf("exit %d, want %d; stderr %s", code, cli.ExitInternal, stderr)
	}
	if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 || !strings.Contains(stderr, "crashed") {
		t.Errorf("want one clear line about the crash, got:\n%s", stderr)
	}
	if fi, err := os.Stat(filepath.Join(store, "latest", "history.edn")); err != nil || fi.Size() == 0 {
		t.Errorf("history collected before the crash is missing: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(store, "latest", "node-logs", "n0.log")); !bytes.Contains(b, []byte("giving up")) {
		t.Errorf("node log lacks the node's last words: %q", b)
	}

	// A binary that exits at once fails init with a clear line.
	code, _, stderr = cliRun(t, "test", "-w", "echo", "--bin", "/bin/false", "--node-count", "1", "--time-limit", "1", "--store", t.TempDir())
	if code != cli.ExitInternal || !strings.Contains(stderr, "n0") || !strings.Contains(stderr, "init") {
		t.Errorf("/bin/false: exit %d, stderr %q", code, stderr)
	}
	// A binary that prints junk.
	code, _, stderr = cliRun(t, "test", "-w", "echo", "--bin", "/bin/echo", "hello", "--node-count", "1", "--time-limit", "1", "--store", t.TempDir())
	if code != cli.ExitInternal {
		t.Errorf("/bin/echo: exit %d, stderr %q", code, stderr)
	}
}

func TestInterruptStopsNodesAndKeepsData(t *testing.T) {
	t.Parallel()
	echo := ownBinary(t, "echo")
	store := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := workbench.Run(ctx, workbench.Config{
		Workload: "echo", Bin: echo, NodeIDs: workbench.NodeIDs(3), TimeLimit: 60 * time.Second,
		Rate: 10, StoreRoot: store, Log: &bytes.Buffer{},
	})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want an interrupted run", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupted run took %v to stop", d)
	}
	if res == nil || res.Dir == "" {
		t.Fatalf("no store for the interrupted run")
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "history.edn")); err != nil {
		t.Errorf("interrupted run lost its history: %v", err)
	}
	// No node process may survive: pgrep for the binary's path.
	noneRunning(t, echo)
}

// BenchmarkStartup25 measures the bench's own start-up with 25 real
// broadcast nodes: from Run to the first operation (services, processes,
// init handshakes, topology).
func BenchmarkStartup25(b *testing.B) {
	bin := binaries(b)
	var total time.Duration
	for range b.N {
		res, err := workbench.Run(context.Background(), workbench.Config{
			Workload: "broadcast", Bin: filepath.Join(bin, "broadcast"), NodeIDs: workbench.NodeIDs(25),
			TimeLimit: 100 * time.Millisecond, Rate: 0, RecoveryWait: time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		total += res.Startup
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "startup-ms")
}

// BenchmarkEchoCommand measures `glomers test -w echo --node-count 1
// --time-limit 5` from start to exit, as a user runs it (Maelstrom: ~12 s).
func BenchmarkEchoCommand(b *testing.B) {
	bin := binaries(b)
	for range b.N {
		cmd := exec.Command(filepath.Join(bin, "glomers"), "test", "-w", "echo", "--bin", filepath.Join(bin, "echo"),
			"--node-count", "1", "--time-limit", "5", "--store", b.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, tail(string(out), 1000))
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}
