package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/all"
)

func TestParseChallengeCommandLines(t *testing.T) {
	o, err := parseTest(strings.Fields("-w broadcast --bin /x/b --node-count 25 --time-limit 20 --rate 100 --latency 100"))
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Workload != "broadcast" || c.Bin != "/x/b" || len(c.NodeIDs) != 25 || c.NodeIDs[24] != "n24" ||
		c.TimeLimit != 20*time.Second || c.Rate != 100 || c.Latency != 100*time.Millisecond || c.Concurrency != 25 {
		t.Errorf("parsed %+v", c)
	}
	if len(c.Args) != 0 {
		t.Errorf("binary args %v, want none", c.Args)
	}
}

func TestDefaults(t *testing.T) {
	o, err := parseTest([]string{"--bin", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"n1", "n2", "n3", "n4", "n5"}; !reflect.DeepEqual(o.cfg.NodeIDs, want) {
		t.Errorf("nodes %v, want %v", o.cfg.NodeIDs, want)
	}
	if o.cfg.Rate != 5 || o.cfg.Concurrency != 5 || o.testCount != 1 || o.cfg.StoreRoot != "store" {
		t.Errorf("defaults: rate %v concurrency %d test-count %d store %q", o.cfg.Rate, o.cfg.Concurrency, o.testCount, o.cfg.StoreRoot)
	}
	o, err = parseTest([]string{"--bin", "b", "--rate", "0"})
	if err != nil || o.cfg.Rate != 0 {
		t.Errorf("--rate 0 gave %v, %v", o.cfg.Rate, err)
	}
}

func TestConcurrencyMultipliesAfterNodeCount(t *testing.T) {
	o, err := parseTest(strings.Fields("--concurrency 2n --bin b --node-count 25"))
	if err != nil || o.cfg.Concurrency != 50 {
		t.Fatalf("concurrency %d, %v; want 50", o.cfg.Concurrency, err)
	}
	o, err = parseTest(strings.Fields("--bin b --concurrency 7"))
	if err != nil || o.cfg.Concurrency != 7 {
		t.Fatalf("concurrency %d, %v; want 7", o.cfg.Concurrency, err)
	}
}

// The 6c page's "–-nemesis partition" (en dash) is not an option: both
// words become arguments of the binary, and there is no nemesis.
func TestPositionalArgumentsGoToTheBinary(t *testing.T) {
	o, err := parseTest([]string{"-w", "txn-rw-register", "--bin", "b", "--availability", "total", "–-nemesis", "partition", "--node-count", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.cfg.Args, []string{"–-nemesis", "partition"}) || len(o.cfg.Nemesis) != 0 {
		t.Errorf("args %q nemesis %v", o.cfg.Args, o.cfg.Nemesis)
	}
	o, err = parseTest([]string{"--bin=b", "--", "--rate", "3"})
	if err != nil || !reflect.DeepEqual(o.cfg.Args, []string{"--rate", "3"}) {
		t.Errorf("after --: args %q, %v", o.cfg.Args, err)
	}
}

func TestNodeLists(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "nodes")
	os.WriteFile(file, []byte("a1\n\na2\n"), 0o644)
	o, err := parseTest([]string{"--bin", "b", "-n", "x", "--node", "y", "--nodes", "z, w", "--nodes-file", file})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"x", "y", "z", "w", "a1", "a2"}; !reflect.DeepEqual(o.cfg.NodeIDs, want) {
		t.Errorf("nodes %v, want %v", o.cfg.NodeIDs, want)
	}
	o, _ = parseTest([]string{"--bin", "b", "-n", "x", "--node-count", "2"})
	if !reflect.DeepEqual(o.cfg.NodeIDs, []string{"n0", "n1"}) {
		t.Errorf("--node-count should win over --node: %v", o.cfg.NodeIDs)
	}
}

func TestBadValuesAreRejected(t *testing.T) {
	for _, args := range [][]string{
		{"--bin", "b", "--node-count", "0"},
		{"--bin", "b", "--node-count", "three"},
		{"--bin", "b", "--time-limit", "-1"},
		{"--bin", "b", "--rate", "fast"},
		{"--bin", "b", "--concurrency", "2x"},
		{"--bin", "b", "--concurrency", "0"},
		{"--bin", "b", "--concurrency", "0n"},
		{"--bin", "b", "--latency", "1.5"},
		{"--bin", "b", "--latency-dist", "normal"},
		{"--bin", "b", "--nemesis", "partition,bogus"},
		{"--bin", "b", "--topology", "star"},
		{"--bin", "b", "--frobnicate"},
		{"--bin", "b", "--log-stderr=yes"},
		{"--bin"},
		{"-w", "echo"},
	} {
		if _, err := parseTest(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "plain")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "Usage"},
		{[]string{"frob"}, "unknown command"},
		{[]string{"test", "-w", "nope", "--bin", "/bin/true", "--store", dir}, "unknown workload"},
		{[]string{"test", "-w", "echo", "--bin", filepath.Join(dir, "missing"), "--store", dir}, "no such file"},
		{[]string{"test", "-w", "echo", "--bin", notExec, "--store", dir}, "not executable"},
		{[]string{"test", "-w", "echo", "--bin", dir, "--store", dir}, "directory"},
		{[]string{"test", "-w", "echo", "--bin", "/bin/true", "--rate", "x"}, "--rate"},
		{[]string{"test", "-w", "echo", "--bin", "/bin/true", "--availability", "most"}, "availability"},
		{[]string{"challenge", "9z"}, "unknown challenge"},
		{[]string{"challenge"}, "name challenges"},
	}
	for _, c := range cases {
		code, _, stderr := run(t, c.args...)
		if code != ExitUsage {
			t.Errorf("%q exited %d, want %d", c.args, code, ExitUsage)
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("%q: stderr %q lacks %q", c.args, stderr, c.want)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 && len(c.args) > 0 && c.args[0] != "frob" {
			t.Errorf("%q: want one clear line, got %d lines:\n%s", c.args, n+1, stderr)
		}
	}
}

// A workload Maelstrom has but this bench does not (yet) gets its own
// clear message, not "unknown workload".
func TestWorkloadNotImplementedYet(t *testing.T) {
	implemented := map[string]bool{}
	for _, n := range all.Names() {
		implemented[n] = true
	}
	for _, name := range workload.AllNames() {
		if implemented[name] {
			continue
		}
		code, _, stderr := run(t, "test", "-w", name, "--bin", "/bin/true", "--store", t.TempDir())
		if code != ExitUsage || !strings.Contains(stderr, "not implemented in glomers yet") {
			t.Errorf("-w %s: exit %d, stderr %q", name, code, stderr)
		}
		return
	}
	t.Skip("every Maelstrom workload is implemented")
}

// Beyond Maelstrom's partition, --nemesis takes kill and pause in any
// combination; an unknown fault is an error that lists the faults.
func TestNemesisFaults(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--nemesis", "kill,pause"}, []string{"kill", "pause"}},
		{[]string{"--nemesis", "partition, kill ,pause"}, []string{"partition", "kill", "pause"}},
		{[]string{"--nemesis", "pause", "--nemesis", "partition,pause"}, []string{"pause", "partition"}},
		{[]string{"--nemesis=kill"}, []string{"kill"}},
	} {
		o, err := parseTest(append([]string{"--bin", "b"}, c.args...))
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(o.cfg.Nemesis, c.want) {
			t.Errorf("%q: nemesis %q, want %q", c.args, o.cfg.Nemesis, c.want)
		}
	}
	_, err := parseTest([]string{"--bin", "b", "--nemesis", "kill,bogus"})
	if err == nil {
		t.Fatal("--nemesis bogus accepted")
	}
	for _, want := range []string{`"bogus"`, "partition, pause, kill"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	code, _, stderr := run(t, "test", "-w", "echo", "--bin", "/bin/true", "--nemesis", "bogus", "--store", t.TempDir())
	if code != ExitUsage || !strings.Contains(stderr, "partition, pause, kill") {
		t.Errorf("--nemesis bogus: exit %d, stderr %q", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := run(t, "test", "--help")
	if code != 0 || !strings.Contains(out, "--nemesis-interval") || !strings.Contains(out, "--latency-dist") {
		t.Errorf("help: %d %q", code, out)
	}
	for _, w := range workload.AllNames() {
		if !strings.Contains(out, w) {
			t.Errorf("help does not list workload %s", w)
		}
	}
	if !strings.Contains(out, "partition, pause, kill") {
		t.Errorf("help does not list the faults of --nemesis:\n%s", out)
	}
}

// A configuration the workload refuses leaves no test directory behind.
func TestUsageErrorLeavesNoStore(t *testing.T) {
	store := t.TempDir()
	code, _, stderr := run(t, "test", "-w", "lin-kv", "--bin", "/bin/true", "--node-count", "2", "--concurrency", "3", "--store", store)
	if code != ExitUsage || !strings.Contains(stderr, "2n") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(store); len(entries) != 0 {
		t.Errorf("store has %d entries after a usage error", len(entries))
	}
}

// Figures read back from a real Maelstrom's output, pretty-printed across lines.
func TestMaelstromOutputFigures(t *testing.T) {
	out := []byte(`:net {:all {:send-count 4334, :msgs-per-op 19.610859},
       :servers {:send-count 3792,
                 :msgs-per-op 17.158371},
       :valid? true},
 :workload {:stable-latencies {0 0,
                               0.5 88,
                               0.95 306,
                               0.99 368,
                               1 368},`)
	m := maelstromServers.FindSubmatch(out)
	if m == nil || string(m[1]) != "17.158371" {
		t.Errorf("servers msgs-per-op: %q", m)
	}
	q := maelstromStable.FindSubmatch(out)
	if q == nil || string(q[1]) != "88" || string(q[2]) != "368" {
		t.Errorf("stable latencies: %q", q)
	}
}
