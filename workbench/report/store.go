// Package report writes what a test leaves behind: the store directory
// laid out as Jepsen's (store/<test>/<start-time>/ with jepsen.log,
// results.edn, history.edn, node-logs/, ...), the Lamport diagram of the
// network journal, latency and rate plots, the timeline of operations,
// and a small web server to browse past tests.
package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TimeLayout is the Go layout of a test directory's name: Jepsen's
// "basic date-time" with milliseconds and zone offset, such as
// 20210223T103056.288-0500.
const TimeLayout = "20060102T150405.000-0700"

// Store is the directory of one test run, root/<test-name>/<start-time>/.
// Create it with NewStore when the test starts and Close it when every
// file is written. Its methods are safe for concurrent use.
type Store struct {
	root, testName, stamp string
	dir                   string

	mu      sync.Mutex
	closed  bool
	log     *os.File
	logBuf  *bufio.Writer
	logged  int64 // bytes written to jepsen.log
	logFull bool  // jepsen.log reached MaxLogBytes
	nodeLog map[string]*nodeLog
	// messages describes the Lamport diagram's windows, for index.html.
	messages *MessagesIndex
}

// NewStore creates root/<testName>/<start formatted with TimeLayout>/ and
// its node-logs/ directory, opens jepsen.log, and points the root's
// current symlink at the new directory (as Jepsen does while a test
// runs). testName becomes a path element, so it must be a plain name.
func NewStore(root, testName string, start time.Time) (*Store, error) {
	if err := checkName(testName); err != nil {
		return nil, fmt.Errorf("report: test name: %w", err)
	}
	if testName == "latest" || testName == "current" {
		return nil, fmt.Errorf("report: test name %q would clash with the store's %s symlink", testName, testName)
	}
	parent := filepath.Join(root, testName)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("report: create store: %w", err)
	}
	stamp, dir, err := newTestDir(parent, start)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, "node-logs"), 0o755); err != nil {
		return nil, fmt.Errorf("report: create node-logs: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "jepsen.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("report: open jepsen.log: %w", err)
	}
	s := &Store{
		root: root, testName: testName, stamp: stamp, dir: dir,
		log: f, logBuf: bufio.NewWriter(f),
		nodeLog: map[string]*nodeLog{},
	}
	if err := symlink(root, "current", filepath.Join(testName, stamp)); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// newTestDir creates parent/<stamp> for a test that started at start.
// Two tests must never share a directory (so Mkdir, not MkdirAll), yet two
// runs of one workload may start in the same millisecond (glomers
// challenge runs several at once; in virtual time they start at the same
// instant): the later one takes the next free millisecond, which keeps
// the name a timestamp and the runs in order.
func newTestDir(parent string, start time.Time) (stamp, dir string, err error) {
	for try := 0; ; try++ {
		stamp = start.Add(time.Duration(try) * time.Millisecond).Format(TimeLayout)
		dir = filepath.Join(parent, stamp)
		err = os.Mkdir(dir, 0o755)
		if err == nil {
			return stamp, dir, nil
		}
		if !errors.Is(err, fs.ErrExist) || try == 999 {
			return "", "", fmt.Errorf("report: create test directory: %w", err)
		}
	}
}

// Dir is the test's directory.
func (s *Store) Dir() string { return s.dir }

// Path is the path of a file in the test's directory.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name) }

// MaxLogBytes bounds jepsen.log: a run logging every message
// (--log-net-send, --log-net-recv) with a node that floods would
// otherwise fill the disk. Past it the file ends with a line saying so;
// the console still shows everything.
const MaxLogBytes = 64 << 20

// Log returns the writer behind jepsen.log; the runner tees its console
// log into it. Writes are serialised and buffered until Close; after
// Close they fail with os.ErrClosed. Past MaxLogBytes they are accepted
// and dropped.
func (s *Store) Log() io.Writer { return logWriter{s} }

type logWriter struct{ s *Store }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.closed {
		return 0, os.ErrClosed
	}
	if w.s.logged+int64(len(p)) > MaxLogBytes {
		if !w.s.logFull {
			w.s.logFull = true
			fmt.Fprintf(w.s.logBuf, "\n[jepsen.log truncated after %d MB: the console shows the rest]\n", MaxLogBytes>>20)
			w.s.logBuf.Flush()
		}
		return len(p), nil
	}
	w.s.logged += int64(len(p))
	n, err := w.s.logBuf.Write(p)
	if err == nil && w.s.logBuf.Buffered() > 0 && p[len(p)-1] == '\n' {
		// Flush whole lines so jepsen.log can be followed live.
		err = w.s.logBuf.Flush()
	}
	return n, err
}

// NodeLog creates node-logs/<nodeID>.log for a node's stderr. The caller
// should close it when the node exits; Close closes any still open.
func (s *Store) NodeLog(nodeID string) (io.WriteCloser, error) {
	if err := checkName(nodeID); err != nil {
		return nil, fmt.Errorf("report: node log: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("report: node log %s: store is closed", nodeID)
	}
	if _, ok := s.nodeLog[nodeID]; ok {
		return nil, fmt.Errorf("report: node log %s: already open", nodeID)
	}
	f, err := os.Create(filepath.Join(s.dir, "node-logs", nodeID+".log"))
	if err != nil {
		return nil, fmt.Errorf("report: node log: %w", err)
	}
	nl := &nodeLog{f: f}
	s.nodeLog[nodeID] = nl
	return nl, nil
}

// nodeLog is a node's log file that may be closed both by its user and
// by Store.Close, whichever comes first.
type nodeLog struct {
	f    *os.File
	once sync.Once
	err  error
}

func (l *nodeLog) Write(p []byte) (int, error) { return l.f.Write(p) }

func (l *nodeLog) Close() error {
	l.once.Do(func() { l.err = l.f.Close() })
	return l.err
}

// WriteFile creates name in the test's directory and lets write fill it,
// closing the file afterwards; the first error wins.
func (s *Store) WriteFile(name string, write func(io.Writer) error) (err error) {
	f, err := os.Create(s.Path(name))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("report: %w", cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("report: writing %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: writing %s: %w", name, err)
	}
	return nil
}

// Close flushes and closes jepsen.log and any node log still open,
// writes index.html, the run's page (see WriteRunPage), then points root/latest, root/current and root/<test-name>/latest at this
// test's directory. Later calls do nothing and return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	if err := s.logBuf.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("report: flush jepsen.log: %w", err))
	}
	if err := s.log.Close(); err != nil {
		errs = append(errs, fmt.Errorf("report: close jepsen.log: %w", err))
	}
	for id, nl := range s.nodeLog {
		if err := nl.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("report: close node log %s: %w", id, err))
		}
	}
	messages := s.messages
	s.mu.Unlock()

	if err := WriteRunPage(s.dir, messages); err != nil {
		errs = append(errs, err)
	}
	rel := filepath.Join(s.testName, s.stamp)
	for _, l := range []struct{ dir, name, target string }{
		{s.root, "latest", rel},
		{s.root, "current", rel},
		{filepath.Join(s.root, s.testName), "latest", s.stamp},
	} {
		if err := symlink(l.dir, l.name, l.target); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// symlink makes dir/name a symlink to the relative target, replacing an
// older link atomically: the new link is made under a temporary name and
// renamed over the old one, so readers never see it missing.
func symlink(dir, name, target string) error {
	// A random part, not the clock: tests running at once in one
	// process (and in a synctest bubble, whose clock stands still) would
	// otherwise pick the same temporary name.
	var tmp string
	for attempt := 0; ; attempt++ {
		tmp = filepath.Join(dir, fmt.Sprintf(".%s.%d.%x.tmp", name, os.Getpid(), rand.Uint64()))
		err := os.Symlink(target, tmp)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || attempt == 10 {
			return fmt.Errorf("report: symlink %s: %w", name, err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("report: symlink %s: %w", name, err)
	}
	return nil
}

// checkName rejects names that would not stay one path element.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case name == "." || name == "..", strings.ContainsAny(name, `/\`+"\x00"):
		return fmt.Errorf("%q is not a plain file name", name)
	}
	return nil
}

// DirSize is the total size of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			size += info.Size()
		}
		return nil
	})
	return size, err
}
