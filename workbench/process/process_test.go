package process

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckBinary(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("x"), 0o644)
	exe := filepath.Join(dir, "exe")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	for bin, want := range map[string]string{
		"":                            "--bin",
		filepath.Join(dir, "missing"): "no such file",
		plain:                         "not executable",
		dir:                           "directory",
	} {
		if _, err := CheckBinary(bin); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckBinary(%q) = %v, want an error mentioning %q", bin, err, want)
		}
	}
	if abs, err := CheckBinary(exe); err != nil || abs != exe {
		t.Errorf("CheckBinary(exe) = %q, %v", abs, err)
	}
}

// An in-process echo of lines: what comes in goes out.
func cat(stdin io.Reader, stdout, stderr io.Writer) error {
	io.WriteString(stderr, "starting\npartial")
	_, err := io.Copy(stdout, stdin)
	return err
}

func TestInProcessRoundTripAndStop(t *testing.T) {
	var logBuf bytes.Buffer
	var lines []string
	p, err := Start("n0", Spec{Func: cat}, &logBuf, func(l string) { lines = append(lines, l) })
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 3)
	go p.Lines(func(b []byte, _ error) { got <- append([]byte(nil), b...) })
	long := strings.Repeat("x", 200_000)
	for _, s := range []string{"a\n", long + "\r\n"} {
		if _, err := p.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if a := <-got; string(a) != "a" {
		t.Errorf("first line %q", a)
	}
	if b := <-got; string(b) != long {
		t.Errorf("long line came back with %d bytes", len(b))
	}
	if crashed, _ := p.Crashed(); crashed {
		t.Errorf("running node reported as crashed")
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if crashed, _ := p.Crashed(); crashed {
		t.Errorf("stopped node reported as crashed")
	}
	if !strings.Contains(logBuf.String(), "starting") {
		t.Errorf("stderr not logged: %q", logBuf.String())
	}
	if len(lines) != 2 || lines[0] != "starting" || lines[1] != "partial" {
		t.Errorf("stderr lines %q, want [starting partial] (the partial line flushed at exit)", lines)
	}
}

func TestCrashReportKeepsLastLines(t *testing.T) {
	boom := func(stdin io.Reader, stdout, stderr io.Writer) error {
		for i := range 40 {
			io.WriteString(stdout, strings.Repeat("o", i)+"\n")
			io.WriteString(stderr, "line "+strings.Repeat("e", i)+"\n")
		}
		return errors.New("exit status 3")
	}
	p, err := Start("n7", Spec{Func: boom}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Lines(func([]byte, error) {})
	<-p.Exited()
	crashed, why := p.Crashed()
	if !crashed || why == nil {
		t.Fatalf("Crashed() = %v, %v", crashed, why)
	}
	report := p.CrashReport()
	for _, want := range []string{"Node n7 crashed with exit status 3", strings.Repeat("o", 39), "line " + strings.Repeat("e", 39)} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "line \n") || strings.Count(report, "line ") != tailLines {
		t.Errorf("report should keep exactly the last %d stderr lines:\n%s", tailLines, report)
	}
	if got, want := p.CrashSummary(), "node n7 crashed (exit status 3); its last line on stderr: line "+strings.Repeat("e", 39); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// A node that printed nothing gets a report that says so, without empty
// sections, and a one-line summary with just its status.
func TestCrashReportOfASilentNode(t *testing.T) {
	p, err := Start("n0", Spec{Func: func(io.Reader, io.Writer, io.Writer) error { return errors.New("exit status 3") }}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Lines(func([]byte, error) {})
	<-p.Exited()
	if r := p.CrashReport(); strings.Contains(r, "STDOUT") || !strings.Contains(r, "wrote nothing to STDERR") {
		t.Errorf("report of a silent node:\n%s", r)
	}
	if got := p.CrashSummary(); got != "node n0 crashed (exit status 3)" || strings.Contains(got, "\n") {
		t.Errorf("summary %q", got)
	}
}

// A node that ended on its own is still a crash once the bench has
// stopped it: the run's teardown may call Stop before whoever watches
// the node asks how it ended.
func TestCrashOutlivesStop(t *testing.T) {
	p, err := Start("n0", Spec{Func: func(io.Reader, io.Writer, io.Writer) error { return errors.New("exit status 3") }}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Lines(func([]byte, error) {})
	<-p.Exited()
	if err := p.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if crashed, why := p.Crashed(); !crashed || why == nil || why.Error() != "exit status 3" {
		t.Errorf("Crashed() after Stop = %v, %v; want true, exit status 3", crashed, why)
	}
}

func TestOSProcessIsKilledOnStop(t *testing.T) {
	sh, err := CheckBinary("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh")
	}
	// A node that ignores its input and sleeps: Stop must kill it.
	p, err := Start("n1", Spec{Bin: sh, Args: []string{"-c", "echo ready; exec sleep 60"}}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(p.Stdout())
	if line, _ := r.ReadString('\n'); line != "ready\n" {
		t.Fatalf("got %q", line)
	}
	start := time.Now()
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("stop took %v", time.Since(start))
	}
}

func TestOSProcessThatExits(t *testing.T) {
	p, err := Start("n2", Spec{Bin: "/bin/sh", Args: []string{"-c", "echo bye >&2; exit 4"}}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Lines(func([]byte, error) {})
	<-p.Exited()
	crashed, why := p.Crashed()
	if !crashed || !strings.Contains(why.Error(), "4") || !strings.Contains(p.CrashReport(), "bye") {
		t.Errorf("crashed=%v why=%v report=%s", crashed, why, p.CrashReport())
	}
}

// A node's children die with it, and cannot hang the bench by holding
// its pipes.
func TestStopKillsDescendants(t *testing.T) {
	p, err := Start("n3", Spec{Bin: "/bin/sh", Args: []string{"-c", "sleep 30 & echo started; wait"}}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- p.Lines(func(b []byte, _ error) { lines <- string(b) }) }()
	if got := <-lines; got != "started" {
		t.Fatalf("got %q", got)
	}
	start := time.Now()
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stdout reader still blocked after Stop")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopping took %v", d)
	}
}

// The crash report keeps the very last lines, even when the node printed
// a lot just before it exited.
func TestCrashReportHasTheLastLine(t *testing.T) {
	script := `i=0; while [ $i -lt 3000 ]; do echo "junk $i"; i=$((i+1)); done; echo THE-LAST-LINE; exit 3`
	for range 4 {
		p, err := Start("n4", Spec{Bin: "/bin/sh", Args: []string{"-c", script}}, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		go p.Lines(func([]byte, error) {})
		<-p.Exited()
		if r := p.CrashReport(); !strings.Contains(r, "THE-LAST-LINE") {
			t.Fatalf("crash report lost the last line:\n%s", r[max(0, len(r)-300):])
		}
	}
}

func TestStartErrorsExplainScripts(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-interp")
	os.WriteFile(bad, []byte("#!/no/such/interpreter\n"), 0o755)
	_, err := Start("n5", Spec{Bin: bad}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "interpreter") {
		t.Errorf("err = %v, want a word about the #! interpreter", err)
	}
}
