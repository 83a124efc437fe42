package process

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// procState returns the state letter of /proc/<pid>/stat (R, S, T, Z…).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// pid (comm) state ...; comm may hold spaces, so cut at the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return strings.Fields(s[i+1:])[0]
}

func waitState(t *testing.T, pid int, want func(string) bool) string {
	t.Helper()
	var st string
	for range 200 {
		if st = procState(t, pid); want(st) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	return st
}

func recvWithin(ch <-chan string, d time.Duration) (string, bool) {
	select {
	case s := <-ch:
		return s, true
	case <-time.After(d):
		return "", false
	}
}

// A paused OS process is stopped (state T) and gets nothing; resumed, it
// runs again and gets what waited.
func TestPauseAndResumeAProcess(t *testing.T) {
	p, err := Start("n0", Spec{Bin: "/bin/cat"}, io.Discard, nil)
	if err != nil {
		t.Skipf("no /bin/cat: %v", err)
	}
	defer p.Stop(time.Second)
	got := make(chan string, 4)
	go p.Lines(func(b []byte, _ error) { got <- string(b) })
	pid := p.Pid()
	if pid <= 0 {
		t.Fatalf("pid %d", pid)
	}
	p.Write([]byte("a\n"))
	if s, ok := recvWithin(got, 5*time.Second); !ok || s != "a" {
		t.Fatalf("before the pause: %q, %v", s, ok)
	}
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	if !p.Paused() {
		t.Error("Paused() false after Pause")
	}
	if st := waitState(t, pid, func(s string) bool { return s == "T" }); st != "T" {
		t.Errorf("paused process in state %s, want T (stopped)", st)
	}
	wrote := make(chan error, 1)
	go func() { _, err := p.Write([]byte("b\n")); wrote <- err }()
	if s, ok := recvWithin(got, 300*time.Millisecond); ok {
		t.Errorf("a paused process answered %q", s)
	}
	select {
	case err := <-wrote:
		t.Errorf("Write to a paused node returned at once (%v)", err)
	default:
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	if st := waitState(t, pid, func(s string) bool { return s != "T" }); st == "T" {
		t.Errorf("resumed process still stopped")
	}
	if s, ok := recvWithin(got, 5*time.Second); !ok || s != "b" {
		t.Fatalf("after the resume: %q, %v", s, ok)
	}
	if err := <-wrote; err != nil {
		t.Errorf("the held Write failed: %v", err)
	}
	if crashed, _ := p.Crashed(); crashed {
		t.Error("a paused and resumed process counts as crashed")
	}
}

// Stop ends a paused process at once, releases a Write that waits on it,
// and leaves no process behind.
func TestStopAPausedProcess(t *testing.T) {
	p, err := Start("n0", Spec{Bin: "/bin/cat"}, io.Discard, nil)
	if err != nil {
		t.Skipf("no /bin/cat: %v", err)
	}
	go p.Lines(func([]byte, error) {})
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() { _, err := p.Write([]byte("x\n")); wrote <- err }()
	start := time.Now()
	if err := p.Stop(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("stopping a paused process took %v", d)
	}
	if err := <-wrote; err == nil {
		t.Error("a Write held by the pause succeeded after Stop")
	}
	if processExists(p.Pid()) {
		t.Errorf("process %d still exists after Stop", p.Pid())
	}
	if crashed, _ := p.Crashed(); crashed {
		t.Error("a stopped paused process counts as crashed")
	}
}

// ticker is an in-process node that prints a line every 10 ms and echoes
// its input, until its input ends.
func ticker(stdin io.Reader, stdout, _ io.Writer) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(stdout, stdin)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			if _, err := io.WriteString(stdout, "tick\n"); err != nil {
				<-done
				return nil
			}
		}
	}
}

// A paused in-process node hands on nothing it prints and gets nothing;
// both wait for the resume. In virtual time.
func TestPauseAndResumeInProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := Start("n0", Spec{Func: ticker}, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Pid() != 0 {
			t.Errorf("in-process pid %d, want 0", p.Pid())
		}
		type line struct {
			at time.Time
			s  string
		}
		got := make(chan line, 1000)
		linesDone := make(chan struct{})
		go func() {
			defer close(linesDone)
			p.Lines(func(b []byte, _ error) { got <- line{time.Now(), string(b)} })
		}()
		time.Sleep(55 * time.Millisecond)
		if err := p.Pause(); err != nil {
			t.Fatal(err)
		}
		paused := time.Now()
		synctest.Wait()
		before := len(got)
		wrote := make(chan struct{})
		go func() { p.Write([]byte("echo\n")); close(wrote) }()
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(got); n != before {
			t.Errorf("%d lines handed on while paused", n-before)
		}
		select {
		case <-wrote:
			t.Error("Write to a paused in-process node went through")
		default:
		}
		resumed := time.Now()
		if err := p.Resume(); err != nil {
			t.Fatal(err)
		}
		<-wrote
		time.Sleep(50 * time.Millisecond)
		if err := p.Stop(time.Second); err != nil {
			t.Fatal(err)
		}
		<-linesDone
		close(got)
		var ticks, echoes int
		for l := range got {
			if l.at.After(paused) && l.at.Before(resumed) {
				t.Errorf("line %q handed on at %v, during the pause", l.s, l.at.Sub(paused))
			}
			switch l.s {
			case "tick":
				ticks++
			case "echo":
				echoes++
				if l.at.Before(resumed) {
					t.Error("the echo came back before the resume")
				}
			}
		}
		if ticks < 8 || echoes != 1 {
			t.Errorf("%d ticks and %d echoes; want ticks before and after the pause and the one echo", ticks, echoes)
		}
	})
}

// lockedWriters is an in-process node whose two goroutines print under
// one sync.Mutex every millisecond, as a node library's writer does.
func lockedWriters(stdin io.Reader, stdout, _ io.Writer) error {
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
				mu.Lock()
				_, err := fmt.Fprintf(stdout, "w%d\n", i)
				mu.Unlock()
				if err != nil {
					<-done
					return
				}
			}
		})
	}
	io.Copy(io.Discard, stdin)
	close(done)
	wg.Wait()
	return nil
}

// A paused in-process node never blocks on its output: a writer stuck
// on the pipe while holding a lock would leave the other waiting on a
// mutex, which is not durably blocked, and virtual time would stop for
// good. The lines it prints meanwhile are held back until the resume.
func TestPausedInProcessNodeKeepsVirtualTimeMoving(t *testing.T) {
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		synctest.Test(t, func(t *testing.T) {
			p, err := Start("n0", Spec{Func: lockedWriters}, io.Discard, nil)
			if err != nil {
				t.Error(err)
				return
			}
			var mu sync.Mutex
			var after int
			var resumed bool
			linesDone := make(chan struct{})
			go func() {
				defer close(linesDone)
				p.Lines(func([]byte, error) {
					mu.Lock()
					defer mu.Unlock()
					if resumed {
						after++
					}
				})
			}()
			time.Sleep(10 * time.Millisecond)
			p.Pause()
			time.Sleep(time.Second)
			synctest.Wait()
			mu.Lock()
			resumed = true
			mu.Unlock()
			p.Resume()
			time.Sleep(10 * time.Millisecond)
			p.Stop(time.Second)
			<-linesDone
			if after < 1000 {
				t.Errorf("%d lines handed on after the resume; the ~2000 printed during the 1 s pause should have waited", after)
			}
		})
	}()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("virtual time stopped: a paused in-process node blocked its writers")
	}
}
