package process

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// collect runs Lines and returns what it handed on: lines as strings,
// too-long lines as "TOOLONG <len> <partial>".
func collect(p *Node) []string {
	var got []string
	p.Lines(func(b []byte, err error) {
		var tl *LineTooLongError
		switch {
		case errors.As(err, &tl):
			got = append(got, fmt.Sprintf("TOOLONG %d %v", tl.Len, tl.Partial))
		case err != nil:
			got = append(got, "ERR "+err.Error())
		default:
			got = append(got, string(b))
		}
	})
	return got
}

// A line over MaxLineBytes is reported with its length and never held
// whole: the lines around it come through, and reading it allocates far
// less than its size.
func TestTooLongLineIsCountedNotBuffered(t *testing.T) {
	const long = 64 * MaxLineBytes // 256 MiB
	node := func(stdin io.Reader, stdout, stderr io.Writer) error {
		io.WriteString(stdout, "before\n")
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range long / len(chunk) {
			stdout.Write(chunk)
		}
		io.WriteString(stdout, "\r\nafter\n")
		io.WriteString(stdout, strings.Repeat("y", MaxLineBytes)+"\n") // exactly the cap: accepted
		io.WriteString(stdout, strings.Repeat("z", MaxLineBytes+1))    // over by one, and never ended
		return errors.New("exit status 1")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := Start("n0", Spec{Func: node}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := collect(p)
	runtime.ReadMemStats(&after)
	if len(got) != 5 || got[0] != "before" || got[1] != fmt.Sprintf("TOOLONG %d false", long+1) /* the \r counts */ || got[2] != "after" ||
		len(got[3]) != MaxLineBytes || got[4] != fmt.Sprintf("TOOLONG %d true", MaxLineBytes+1) {
		short := make([]string, len(got))
		for i, s := range got {
			short[i] = s[:min(len(s), 40)]
		}
		t.Fatalf("lines %q", short)
	}
	// The cap-sized lines, their copies and the line buffer's growth cost
	// about 50 MiB in all; buffering the long line would cost 256 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
		t.Errorf("reading a %d-byte line allocated %d bytes", long, alloc)
	}
	if r := p.CrashReport(); !strings.Contains(r, fmt.Sprintf("[a line of %d bytes, not kept]", long+1)) || len(r) > 64<<10 {
		t.Errorf("crash report of %d bytes: %.300s", len(r), r)
	}
}

// The unfinished last line of a node the bench stopped is the bench's
// doing and is dropped; a node that exits on its own mid-line still has
// it handed on (and a malformed one is then its fault, as before).
func TestPartialLastLine(t *testing.T) {
	if _, err := CheckBinary("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	t.Run("stopped by the bench", func(t *testing.T) {
		for _, spec := range []Spec{
			{Func: func(stdin io.Reader, stdout, stderr io.Writer) error {
				io.WriteString(stdout, "{\"whole\":1}\n{\"cut")
				_, err := io.Copy(io.Discard, stdin)
				return err
			}},
			{Bin: "/bin/sh", Args: []string{"-c", `printf '{"whole":1}\n{"cut'; exec sleep 60`}},
		} {
			p, err := Start("n1", spec, io.Discard, nil)
			if err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 4)
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.Lines(func(b []byte, err error) { lines <- fmt.Sprint(string(b), err) })
			}()
			if got := <-lines; got != `{"whole":1}<nil>` {
				t.Fatalf("first line %q", got)
			}
			time.Sleep(50 * time.Millisecond) // let the partial line reach the reader
			if err := p.Stop(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			<-done
			close(lines)
			for l := range lines {
				t.Errorf("a line cut by Stop was handed on: %q", l)
			}
		}
	})
	t.Run("exited by itself", func(t *testing.T) {
		p, err := Start("n2", Spec{Bin: "/bin/sh", Args: []string{"-c", `printf '{"cut'; exit 3`}}, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := collect(p); len(got) != 1 || got[0] != `{"cut` {
			t.Errorf("lines %q, want the partial line", got)
		}
	})
}

// An OS process that prints faster than the bench handles its lines waits
// on its pipe once maxQueuedBytes are queued, instead of the queue growing.
func TestQueueBoundsWhatIsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &endless{line: []byte(strings.Repeat("m", 1000) + "\n")}
		q := &lineQueue{ready: make(chan struct{}, 1), space: make(chan struct{}, 1), limit: 1 << 20}
		go q.fill(src, newRing(4), func() bool { return false })
		synctest.Wait() // the reader is blocked on a full queue
		read := src.total()
		if read < 1<<20 || read > 1<<20+128<<10 {
			t.Fatalf("read %d bytes with nothing taken, want a little over the 1 MiB limit", read)
		}
		for range 2000 {
			if _, ok := q.next(); !ok {
				t.Fatal("queue ended")
			}
		}
		synctest.Wait()
		if more := src.total(); more <= read || more > read+2000*1001+128<<10 {
			t.Errorf("after 2000 lines were taken the reader read %d more bytes", more-read)
		}
		src.stop()
		for {
			if _, ok := q.next(); !ok {
				break
			}
		}
	})
}

// endless yields the same line forever, until stopped.
type endless struct {
	mu      sync.Mutex
	line    []byte
	n       int
	stopped bool
}

func (e *endless) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) {
		c := copy(p[k:], e.line[e.n%len(e.line):])
		k += c
		e.n += c
	}
	return k, nil
}

func (e *endless) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

func (e *endless) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
}

// stderr is consumed in time linear in its size whatever its lines, and
// what is kept of a line is bounded.
func TestStderrWithoutNewlines(t *testing.T) {
	var lines []string
	var log bytes.Buffer
	capped := NewLogCap(nopClose{&log}, 1<<20)
	tee := &lineTee{w: capped, tail: newRing(4), onLine: func(s string) { lines = append(lines, s) }, max: maxKeptLine}
	chunk := bytes.Repeat([]byte("e"), 32<<10)
	const total = 256 << 20
	start := time.Now()
	for range total / len(chunk) {
		if n, err := tee.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	tee.Write([]byte("\x1b]0;TITLE\a\n"))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("256 MiB of stderr without a newline took %v", d)
	}
	want := strings.Repeat("e", maxKeptLine) + fmt.Sprintf("… (%d bytes)", total+10)
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("onLine got %d lines, first %.80q…", len(lines), lines)
	}
	if log.Len() > 1<<20+200 || !strings.HasSuffix(log.String(), "[glomers: log truncated after 1048576 bytes; the rest of this node's stderr was read and dropped]\n") {
		t.Errorf("log of %d bytes ends %q", log.Len(), log.String()[max(0, log.Len()-120):])
	}
	if capped.Dropped() != total+11-1<<20 {
		t.Errorf("dropped %d", capped.Dropped())
	}
}

type nopClose struct{ io.Writer }

func (nopClose) Close() error { return nil }

func TestLogCapKeepsWholeWritesUnderTheCap(t *testing.T) {
	var log bytes.Buffer
	c := NewLogCap(nopClose{&log}, 11)
	c.Write([]byte("12345\n"))
	c.Write([]byte("6789\n"))
	if log.String() != "12345\n6789\n" {
		t.Fatalf("log %q", log.String())
	}
	c.Write([]byte("abc\n"))
	c.Write([]byte("more\n"))
	if want := "12345\n6789\n\n[glomers: log truncated after 11 bytes; the rest of this node's stderr was read and dropped]\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, tabs\tand ünïcode": "plain text, tabs\tand ünïcode",
		"\x1b]0;TITLE\a":                `\x1b]0;TITLE\x07`,
		"bell\a del\x7f cr\r nul\x00":   `bell\x07 del\x7f cr\x0d nul\x00`,
		"c1 \u009b31m csi":              `c1 \u009b31m csi`,
		"bad utf8 \x9b\xff":             `bad utf8 \x9b\xff`,
		"two\nlines":                    "two\nlines",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// What a node prints reaches crash reports, summaries and the stderr line
// handler with its control characters escaped; the log keeps the bytes.
func TestNodeTextIsEscapedForTheTerminal(t *testing.T) {
	var log bytes.Buffer
	var lines []string
	node := func(stdin io.Reader, stdout, stderr io.Writer) error {
		io.WriteString(stdout, "out \x1b[2J\n")
		io.WriteString(stderr, "err \x1b]0;TITLE\a\n")
		return errors.New("exit status 1")
	}
	p, err := Start("n0", Spec{Func: node}, &log, func(s string) { lines = append(lines, s) })
	if err != nil {
		t.Fatal(err)
	}
	p.Lines(func([]byte, error) {})
	<-p.Exited()
	for what, s := range map[string]string{"report": p.CrashReport(), "summary": p.CrashSummary(), "onLine": strings.Join(lines, "\n")} {
		if strings.ContainsAny(s, "\x1b\a") {
			t.Errorf("%s has raw control characters: %q", what, s)
		}
	}
	if !strings.Contains(p.CrashReport(), `out \x1b[2J`) || !strings.Contains(p.CrashSummary(), `err \x1b]0;TITLE\x07`) {
		t.Errorf("report %q\nsummary %q", p.CrashReport(), p.CrashSummary())
	}
	if log.String() != "err \x1b]0;TITLE\a\n" {
		t.Errorf("log %q, want the raw bytes", log.String())
	}
}
