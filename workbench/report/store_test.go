package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// start is a fixed test start in a -05:00 zone, like the store paths in
// Maelstrom's README.
var start = time.Date(2021, 2, 23, 10, 30, 56, 288_000_000, time.FixedZone("EST", -5*3600))

func newTestStore(t *testing.T, root, name string, at time.Time) *Store {
	t.Helper()
	s, err := NewStore(root, name, at)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoreLayoutAndSymlinks(t *testing.T) {
	root := t.TempDir()
	s := newTestStore(t, root, "echo", start)
	want := filepath.Join(root, "echo", "20210223T103056.288-0500")
	if s.Dir() != want {
		t.Fatalf("Dir() = %s, want %s", s.Dir(), want)
	}
	if s.Path("results.edn") != filepath.Join(want, "results.edn") {
		t.Errorf("Path = %s", s.Path("results.edn"))
	}
	if fi, err := os.Stat(filepath.Join(want, "node-logs")); err != nil || !fi.IsDir() {
		t.Fatalf("node-logs missing: %v", err)
	}
	// While the test runs, current already points at it.
	if got, err := os.Readlink(filepath.Join(root, "current")); err != nil || got != filepath.Join("echo", "20210223T103056.288-0500") {
		t.Errorf("current → %q, %v", got, err)
	}

	fmt.Fprintf(s.Log(), "INFO starting\n")
	n0, err := s.NodeLog("n0")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(n0, "n0 says hi\n")
	if err := n0.Close(); err != nil {
		t.Fatal(err)
	}
	n1, err := s.NodeLog("n1")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(n1, "left open\n")
	if _, err := s.NodeLog("n1"); err == nil {
		t.Error("opening n1's log twice succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	if got := readFile(t, filepath.Join(want, "jepsen.log")); got != "INFO starting\n" {
		t.Errorf("jepsen.log = %q", got)
	}
	if got := readFile(t, filepath.Join(want, "node-logs", "n0.log")); got != "n0 says hi\n" {
		t.Errorf("n0.log = %q", got)
	}
	if got := readFile(t, filepath.Join(want, "node-logs", "n1.log")); got != "left open\n" {
		t.Errorf("n1.log = %q", got)
	}
	if _, err := n1.Write([]byte("x")); err == nil {
		t.Error("Close left n1's log open")
	}
	if _, err := s.Log().Write([]byte("late\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("writing the log after Close: %v, want os.ErrClosed", err)
	}
	if _, err := s.NodeLog("n2"); err == nil {
		t.Error("NodeLog after Close succeeded")
	}

	links := map[string]string{
		filepath.Join(root, "latest"):         filepath.Join("echo", "20210223T103056.288-0500"),
		filepath.Join(root, "current"):        filepath.Join("echo", "20210223T103056.288-0500"),
		filepath.Join(root, "echo", "latest"): "20210223T103056.288-0500",
	}
	for link, target := range links {
		got, err := os.Readlink(link)
		if err != nil || got != target {
			t.Errorf("%s → %q (%v), want %q", link, got, err, target)
		}
		if readFile(t, filepath.Join(link, "jepsen.log")) != "INFO starting\n" {
			t.Errorf("%s does not lead to the test", link)
		}
	}

	// A later test of another workload moves the root links but not echo/latest.
	s2 := newTestStore(t, root, "broadcast", start.Add(time.Minute))
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(root, "latest")); got != filepath.Join("broadcast", "20210223T103156.288-0500") {
		t.Errorf("latest → %q after the second test", got)
	}
	if got, _ := os.Readlink(filepath.Join(root, "echo", "latest")); got != "20210223T103056.288-0500" {
		t.Errorf("echo/latest → %q after a broadcast test", got)
	}
	// No temporary links are left behind.
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestNewStoreRejects(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"", "..", "a/b", `a\b`, "latest", "current"} {
		if _, err := NewStore(root, name, start); err == nil {
			t.Errorf("NewStore(%q) succeeded", name)
		}
	}
	s := newTestStore(t, root, "echo", start)
	defer s.Close()
	// A second test at the same instant never shares the directory: it
	// takes the next free millisecond (see TestNewStoreSameInstant).
	if s2, err := NewStore(root, "echo", start); err != nil || s2.Dir() == s.Dir() {
		t.Errorf("a second store with the same start time: %v", err)
	} else {
		s2.Close()
	}
	for _, id := range []string{"", "../n0", "n/0"} {
		if _, err := s.NodeLog(id); err == nil {
			t.Errorf("NodeLog(%q) succeeded", id)
		}
	}
}

func TestUTCStamp(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC))
	defer s.Close()
	if got := filepath.Base(s.Dir()); got != "20240102T030405.006+0000" {
		t.Errorf("UTC stamp %s", got)
	}
}

func TestWriteResults(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	defer s.Close()
	results := edn.K(
		"perf", edn.K("valid?", true),
		"workload", edn.K("valid?", false, "errors", edn.List{edn.Vector{"Expected", "x"}}),
		"valid?", false)
	if err := s.WriteResults(results); err != nil {
		t.Fatal(err)
	}
	pretty, _ := edn.MarshalIndent(results)
	if got := readFile(t, s.Path("results.edn")); got != string(pretty)+"\n" {
		t.Errorf("results.edn = %q", got)
	}
	var decoded map[string]any
	if err := json.Unmarshal([]byte(readFile(t, s.Path("results.json"))), &decoded); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if decoded["valid?"] != false {
		t.Errorf("results.json valid? = %v", decoded["valid?"])
	}
	errs := decoded["workload"].(map[string]any)["errors"].([]any)
	if len(errs) != 1 || errs[0].([]any)[1] != "x" {
		t.Errorf("results.json errors = %v", errs)
	}
	if err := s.WriteResults(edn.K("bad", struct{}{})); err == nil {
		t.Error("WriteResults accepted a value EDN cannot print")
	}
}

// echoHistory is a small history with a nemesis, a failure and a timeout.
func echoHistory() []history.Op {
	ops := []history.Op{
		{Type: history.Invoke, Process: 0, F: "echo", Value: "Please echo 29"},
		{Type: history.Info, Process: history.NemesisProcess, F: "start-partition"},
		{Type: history.Info, Process: history.NemesisProcess, F: "start-partition", Value: edn.Keyword("majority")},
		{Type: history.OK, Process: 0, F: "echo", Value: map[string]any{"echo": "Please echo 29", "type": "echo_ok"}},
		{Type: history.Invoke, Process: 1, F: "echo", Value: "Please echo <b>&"},
		{Type: history.Fail, Process: 1, F: "echo", Value: "Please echo <b>&", Error: []any{edn.Keyword("temporarily-unavailable"), "try later"}},
		{Type: history.Info, Process: history.NemesisProcess, F: "stop-partition"},
		{Type: history.Info, Process: history.NemesisProcess, F: "stop-partition", Value: edn.Keyword("network-healed")},
		{Type: history.Invoke, Process: 0, F: "echo", Value: "Please echo 3"},
		{Type: history.Info, Process: 0, F: "echo", Value: "Please echo 3", Error: edn.Keyword("net-timeout")},
		{Type: history.Invoke, Process: 2, F: "echo", Value: "Please echo 4"},
	}
	for i := range ops {
		ops[i].Index = i
		ops[i].Time = int64(i+1) * int64(100*time.Millisecond)
	}
	return ops
}

func TestWriteHistory(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	defer s.Close()
	ops := echoHistory()
	if err := s.WriteHistory(ops); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(readFile(t, s.Path("history.edn")), "\n"), "\n")
	if len(lines) != len(ops) {
		t.Fatalf("history.edn has %d lines, want %d", len(lines), len(ops))
	}
	if want := `{:index 0, :time 100000000, :type :invoke, :process 0, :f :echo, :value "Please echo 29"}`; lines[0] != want {
		t.Errorf("history.edn line 1 = %s\nwant %s", lines[0], want)
	}
	txt := strings.Split(readFile(t, s.Path("history.txt")), "\n")
	want := map[int]string{
		0: "0\t:invoke\t:echo\t\"Please echo 29\"",
		1: ":nemesis\t:info\t:start-partition\tnil",
		2: ":nemesis\t:info\t:start-partition\t:majority",
		3: "0\t:ok\t:echo\t{\"echo\" \"Please echo 29\", \"type\" \"echo_ok\"}",
		5: "1\t:fail\t:echo\t\"Please echo <b>&\"\t[:temporarily-unavailable \"try later\"]",
		9: "0\t:info\t:echo\t\"Please echo 3\"\t:net-timeout",
	}
	for i, w := range want {
		if txt[i] != w {
			t.Errorf("history.txt line %d = %q\nwant %q", i+1, txt[i], w)
		}
	}
	if len(txt) != len(ops)+1 || txt[len(ops)] != "" {
		t.Errorf("history.txt has %d lines", len(txt)-1)
	}
}

func TestWriteTestAndJournal(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	defer s.Close()
	if err := s.WriteTest(map[string]any{"workload": "echo", "node-count": 1}); err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(readFile(t, s.Path("test.json"))), &cfg); err != nil || cfg["workload"] != "echo" {
		t.Errorf("test.json = %v, %v", cfg, err)
	}
	if err := s.WriteTest(func() {}); err == nil {
		t.Error("WriteTest accepted a func")
	}

	entries := []JournalEntry{
		{Recv: false, Time: 10, ID: 0, Src: "c1", Dest: "n0", Body: json.RawMessage(`{"type":"echo","echo":"<x>","msg_id":1}`)},
		{Recv: true, Time: 20, ID: 0, Src: "c1", Dest: "n0", Body: json.RawMessage(`{"type":"echo","echo":"<x>","msg_id":1}`)},
		{Recv: false, Time: 30, ID: 1, Src: "n0", Dest: "c1"},
	}
	if err := s.WriteJournal(entries, []string{"n0"}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(readGzip(t, s.Path(JournalFile))))
	var got []JournalEntry
	for sc.Scan() {
		var e JournalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	if len(got) != 3 {
		t.Fatalf("journal has %d lines", len(got))
	}
	if !got[1].Recv || got[1].Time != 20 || got[1].Src != "c1" || got[1].Dest != "n0" || !bytes.Contains(got[1].Body, []byte(`"<x>"`)) {
		t.Errorf("journal line 2 = %+v", got[1])
	}
	if string(got[2].Body) != "null" {
		t.Errorf("empty body written as %s", got[2].Body)
	}
}

// Two tests of one workload that start in the same millisecond get
// directories of their own, the later one at the next free millisecond.
func TestNewStoreSameInstant(t *testing.T) {
	root := t.TempDir()
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	a, err := NewStore(root, "echo", start)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewStore(root, "echo", start)
	if err != nil {
		t.Fatalf("a second test at the same instant: %v", err)
	}
	defer b.Close()
	if a.Dir() == b.Dir() {
		t.Fatalf("both tests in %s", a.Dir())
	}
	if want := start.Add(time.Millisecond).Format(TimeLayout); filepath.Base(b.Dir()) != want {
		t.Errorf("second test in %s, want %s", filepath.Base(b.Dir()), want)
	}
}

// readGzip returns the decompressed content of a gzip file.
func readGzip(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogStopsAtItsBound checks that jepsen.log stops growing at
// MaxLogBytes with a line saying so, while writes keep succeeding (the
// console, teed with it, must go on).
func TestLogStopsAtItsBound(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	line := []byte(strings.Repeat("m", 1023) + "\n")
	for range MaxLogBytes/len(line) + 100 {
		if n, err := s.Log().Write(line); err != nil || n != len(line) {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.Path("jepsen.log"))
	if err != nil || info.Size() > MaxLogBytes+200 || info.Size() < MaxLogBytes-2048 {
		t.Fatalf("jepsen.log: %v bytes, %v", info.Size(), err)
	}
	f, err := os.Open(s.Path("jepsen.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tail := make([]byte, 200)
	f.ReadAt(tail, info.Size()-200)
	if !strings.Contains(string(tail), "jepsen.log truncated after 64 MB") {
		t.Errorf("jepsen.log ends %q", tail)
	}
}
