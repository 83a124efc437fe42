// Package process runs one node of a test: either a binary as an OS
// process (what users test) or a Go function in a goroutine (what our own
// tests use, so that whole runs fit in a testing/synctest bubble). Both
// look the same to the bench: lines in on stdin, lines out on stdout,
// free-form logs on stderr.
package process

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Func is a node that runs in-process. It must read messages from stdin
// until end of input, write messages to stdout one JSON line at a time,
// log to stderr, and return when stdin ends.
type Func func(stdin io.Reader, stdout, stderr io.Writer) error

// Spec says what to run for a node: Bin (with Args) as an OS process, or Func.
type Spec struct {
	Bin  string
	Args []string
	Func Func
	// Env is added to the environment an OS process inherits.
	Env []string
	// Dir is the working directory of an OS process (default os.TempDir(),
	// as Maelstrom runs nodes in the JVM's temp directory).
	Dir string
}

// CheckBinary verifies that bin exists, is a regular file and is
// executable, and returns its absolute path.
func CheckBinary(bin string) (string, error) {
	if bin == "" {
		return "", errors.New("expected a --bin PATH_TO_BINARY to test")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("resolve --bin %s: %w", bin, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("--bin %s: no such file", bin)
		}
		return "", fmt.Errorf("--bin %s: %w", bin, err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("--bin %s is a directory, not an executable", bin)
	}
	if fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("--bin %s is not executable (try chmod +x %s)", bin, bin)
	}
	return abs, nil
}

// tailLines is how many of the last stdout and stderr lines a crash report shows.
const tailLines = 32

// Node is one running node.
type Node struct {
	id      string
	stdin   io.WriteCloser
	stdout  io.ReadCloser
	stderr  *lineTee
	outTail *ring

	exited  chan struct{}
	exitErr error
	drained chan struct{} // closed when Lines has read stdout to its end
	stopped chan struct{}
	stopOne sync.Once

	kill func() // forcibly ends the node (OS process: SIGKILL)
	pid  int    // the OS process id; 0 for an in-process node

	pauseMu sync.Mutex
	resumed chan struct{} // non-nil while paused; closed by Resume
}

// Start launches the node. Everything it writes to stderr goes to
// stderr (a node log file), line by line, and to onStderrLine when set.
func Start(id string, spec Spec, stderr io.Writer, onStderrLine func(line string)) (*Node, error) {
	p := &Node{
		id:      id,
		stderr:  &lineTee{w: stderr, tail: newRing(tailLines), onLine: onStderrLine},
		outTail: newRing(tailLines),
		exited:  make(chan struct{}),
		drained: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if spec.Func != nil {
		return p, p.startFunc(spec.Func)
	}
	return p, p.startBinary(spec)
}

func (p *Node) startFunc(fn Func) error {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p.stdin, p.stdout = inW, outR
	p.kill = func() {
		inW.Close()
		inR.CloseWithError(errors.New("node stopped"))
		outR.Close()
	}
	go func() {
		defer close(p.exited)
		err := fn(inR, outW, p.stderr)
		p.stderr.flush()
		if err == nil {
			select {
			case <-p.stopped:
			default:
				err = errors.New("returned before the test ended")
			}
		}
		p.exitErr = err
		outW.CloseWithError(io.EOF)
	}()
	return nil
}

func (p *Node) startBinary(spec Spec) error {
	bin, err := CheckBinary(spec.Bin)
	if err != nil {
		return err
	}
	dir := spec.Dir
	if dir == "" {
		dir = os.TempDir()
	}
	cmd := exec.Command(bin, spec.Args...)
	cmd.Dir = dir
	if len(spec.Env) > 0 {
		cmd.Env = append(os.Environ(), spec.Env...)
	}
	cmd.Stderr = p.stderr
	// The node gets a process group of its own, so that Stop kills
	// whatever it started too; where the OS can, it must not outlive the
	// bench even if the bench is killed (see sysProcAttr per platform).
	cmd.SysProcAttr = sysProcAttr()
	// A descendant that keeps stderr open must not hang Wait.
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("stdin pipe: %w", err)
	}
	// stdout is a pipe of our own rather than cmd.StdoutPipe, which Wait
	// would close while the last lines may still be unread.
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	cmd.Stdout = outW
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		return startError(bin, err)
	}
	outW.Close() // the child has its copy
	p.stdin, p.stdout = stdin, outR
	pid := cmd.Process.Pid
	p.pid = pid
	proc := cmd.Process
	p.kill = func() { killGroup(proc) }
	go func() {
		err := cmd.Wait()
		p.stderr.flush()
		if err == nil {
			select {
			case <-p.stopped:
			default:
				err = errors.New("exit status 0")
			}
		}
		p.exitErr = err
		close(p.exited)
	}()
	return nil
}

// startError explains why a binary would not start; a script whose #!
// interpreter is missing fails with "no such file" although it exists.
func startError(bin string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(bin); serr == nil {
			return fmt.Errorf("cannot start %s: its #! interpreter (or a library it needs) was not found: %w", bin, err)
		}
	}
	if errors.Is(err, syscall.ENOEXEC) {
		return fmt.Errorf("cannot start %s: not a program this machine can run (a script without #! line, or built for another system): %w", bin, err)
	}
	return fmt.Errorf("cannot start %s: %w", bin, err)
}

// ID returns the node's id.
func (p *Node) ID() string { return p.id }

// Stdout is what the node prints; read it line by line with Lines.
func (p *Node) Stdout() io.Reader { return p.stdout }

// Pid returns the node's OS process id, or 0 for an in-process node.
func (p *Node) Pid() int { return p.pid }

// Write sends bytes to the node's stdin. The caller writes whole lines.
// While the node is paused Write waits for Resume (or Stop, which makes it
// fail), so what is sent to a paused node queues up before it.
func (p *Node) Write(b []byte) (int, error) {
	if !p.awake() {
		return 0, fmt.Errorf("node %s stopped", p.id)
	}
	return p.stdin.Write(b)
}

// Pause freezes the node: an OS process and its process group get
// SIGSTOP; for both kinds of node Write waits and Lines hands on no more
// lines until Resume, so an in-process node (whose goroutines cannot be
// frozen) handles nothing new and whatever it prints is held back (read,
// but not handed on). Pausing a paused node does nothing.
func (p *Node) Pause() error {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	if p.resumed != nil {
		return nil
	}
	if p.pid != 0 {
		if err := stopGroup(p.pid); err != nil {
			return fmt.Errorf("pause node %s (pid %d): %w", p.id, p.pid, err)
		}
	}
	p.resumed = make(chan struct{})
	return nil
}

// Resume undoes Pause: SIGCONT for an OS process, and what waited in
// Write and Lines goes on. Resuming a node that is not paused does nothing.
func (p *Node) Resume() error {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	if p.resumed == nil {
		return nil
	}
	var err error
	if p.pid != 0 {
		if kerr := continueGroup(p.pid); kerr != nil {
			err = fmt.Errorf("resume node %s (pid %d): %w", p.id, p.pid, kerr)
		}
	}
	close(p.resumed)
	p.resumed = nil
	return err
}

// Paused reports whether the node is paused.
func (p *Node) Paused() bool {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	return p.resumed != nil
}

// awake waits while the node is paused; it returns false once the node is
// stopped.
func (p *Node) awake() bool {
	p.pauseMu.Lock()
	ch := p.resumed
	p.pauseMu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-p.stopped:
		}
	}
	select {
	case <-p.stopped:
		return false
	default:
		return true
	}
}

// Lines reads the node's stdout line by line (of any length) and calls
// fn for each line without its newline, until stdout ends. It remembers
// the last lines for crash reports. While the node is paused it holds the
// lines back until Resume or Stop, but keeps reading them, so that an
// in-process node never blocks on its output (a paused in-process node
// whose writer blocked while holding a lock would stop virtual time).
func (p *Node) Lines(fn func(line []byte)) error {
	defer close(p.drained)
	q := &lineQueue{ready: make(chan struct{}, 1)}
	go q.fill(p.stdout, p.outTail)
	for {
		line, ok := q.next()
		if !ok {
			break
		}
		p.awake() // a line printed before a Stop still goes out
		fn(line)
	}
	if err := q.err; err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("read stdout of %s: %w", p.id, err)
	}
	return nil
}

// lineQueue carries lines from the goroutine that reads a node's stdout
// to the one that hands them on; it has no bound, so the reader never
// waits.
type lineQueue struct {
	mu    sync.Mutex
	lines [][]byte
	done  bool
	err   error // why reading ended; read only after next reports the end
	ready chan struct{}
}

func (q *lineQueue) fill(stdout io.Reader, tail *ring) {
	r := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		q.mu.Lock()
		if len(line) > 0 {
			line = trimNewline(line)
			tail.add(string(line))
			q.lines = append(q.lines, line)
		}
		if err != nil {
			q.done, q.err = true, err
		}
		q.mu.Unlock()
		select {
		case q.ready <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// next returns the next line, waiting for one; false once stdout ended
// and every line was taken.
func (q *lineQueue) next() ([]byte, bool) {
	for {
		q.mu.Lock()
		if len(q.lines) > 0 {
			line := q.lines[0]
			q.lines[0] = nil
			q.lines = q.lines[1:]
			q.mu.Unlock()
			return line, true
		}
		done := q.done
		q.mu.Unlock()
		if done {
			return nil, false
		}
		<-q.ready
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Exited is closed once the node has ended, for whatever reason.
func (p *Node) Exited() <-chan struct{} { return p.exited }

// Crashed reports whether the node ended on its own (before Stop) and how.
func (p *Node) Crashed() (bool, error) {
	select {
	case <-p.exited:
	default:
		return false, nil
	}
	select {
	case <-p.stopped:
		return false, nil
	default:
	}
	return true, p.exitErr
}

// CrashReport describes an ended node in full, for the test log: its
// exit status and the last lines it printed on stdout and on stderr,
// each section only when the node printed something there.
//
// It waits (briefly) for Lines to read what the node printed last.
func (p *Node) CrashReport() string {
	p.waitDrained()
	var b strings.Builder
	fmt.Fprintf(&b, "Node %s crashed with %s.", p.id, p.exitStatus())
	if out := p.outTail.String(); out != "" {
		fmt.Fprintf(&b, " Before crashing, it wrote to STDOUT:\n\n%s\n", out)
	}
	if errOut := p.stderr.tail.String(); errOut != "" {
		fmt.Fprintf(&b, "\nIts last lines on STDERR:\n\n%s\n", errOut)
	} else {
		b.WriteString(" It wrote nothing to STDERR.")
	}
	return b.String()
}

// CrashSummary is one line for the user: which node ended, its exit
// status, and the last line it wrote to stderr, if any.
func (p *Node) CrashSummary() string {
	p.waitDrained()
	s := fmt.Sprintf("node %s crashed (%s)", p.id, p.exitStatus())
	if last := p.stderr.tail.last(); last != "" {
		s += "; its last line on stderr: " + strings.TrimSpace(last)
	}
	return s
}

func (p *Node) exitStatus() string {
	if p.exitErr != nil {
		return p.exitErr.Error()
	}
	return "an unknown status"
}

// waitDrained waits up to a second for Lines to read the node's last output.
func (p *Node) waitDrained() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-p.drained:
	case <-t.C:
	}
}

// Stop ends the node: an OS process is killed (SIGKILL, as Maelstrom
// does), an in-process node sees the end of its input. Stop waits up to
// timeout for it to finish and reports whether it did.
func (p *Node) Stop(timeout time.Duration) error {
	p.stopOne.Do(func() {
		close(p.stopped)
		if c, ok := p.stdin.(io.Closer); ok {
			_ = c.Close()
		}
		p.kill()
	})
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case <-p.exited:
	case <-t.C:
		err = fmt.Errorf("node %s did not stop within %v", p.id, timeout)
	}
	// Whatever still holds the node's stdout, the bench stops reading it.
	if c, ok := p.stdout.(io.Closer); ok {
		_ = c.Close()
	}
	return err
}

// lineTee copies a node's stderr to a log writer, keeping the last lines
// and handing each complete line to onLine.
type lineTee struct {
	mu      sync.Mutex
	w       io.Writer
	tail    *ring
	onLine  func(string)
	partial []byte
}

func (t *lineTee) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w != nil {
		if _, err := t.w.Write(b); err != nil {
			t.w = nil // keep the node running even if its log cannot be written
		}
	}
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		line := string(t.partial[:i])
		t.partial = t.partial[i+1:]
		t.tail.add(line)
		if t.onLine != nil {
			t.onLine(line)
		}
	}
	return len(b), nil
}

func (t *lineTee) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.tail.add(string(t.partial))
		if t.onLine != nil {
			t.onLine(string(t.partial))
		}
		t.partial = nil
	}
}

// ring keeps the last n lines.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newRing(n int) *ring { return &ring{lines: make([]string, n)} }

func (r *ring) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
}

// last returns the newest line, or "".
func (r *ring) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := (r.next - 1 + len(r.lines)) % len(r.lines)
	if !r.full && r.next == 0 {
		return ""
	}
	return r.lines[i]
}

func (r *ring) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	if r.full {
		out = append(out, r.lines[r.next:]...)
	}
	out = append(out, r.lines[:r.next]...)
	return strings.Join(out, "\n")
}
