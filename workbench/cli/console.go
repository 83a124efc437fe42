package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/glomers/glomers/workbench"
)

// isTerminal reports whether w is a character device, where a status line
// can be redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// plainProgressEvery is how often progress is printed when stdout is not
// a terminal.
const plainProgressEvery = 10 * time.Second

// statusWidth bounds the terminal status line, so that it stays on one
// line of an ordinary terminal and can be redrawn in place.
const statusWidth = 150

// console is the challenge command's output, shared by the runs in
// flight: whole lines from any goroutine and, on a terminal, one status
// line below them, redrawn in place, naming every run in flight with its
// progress. Elsewhere (a pipe, a CI log) each run prints a plain progress
// line every 10 s and at each phase change.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	labels   []string // runs in flight, in the order they started
	latest   map[string]workbench.Progress
	plainAt  map[string]time.Duration
	phase    map[string]string
	drawn    bool
}

func newConsole(w io.Writer, terminal bool) *console {
	return &console{w: w, terminal: terminal, latest: map[string]workbench.Progress{},
		plainAt: map[string]time.Duration{}, phase: map[string]string{}}
}

// printf writes whole lines above the status line.
func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	fmt.Fprintf(c.w, format, args...)
	c.draw()
}

// start adds a run to the status line and returns the function that
// reports its progress; finish takes it off again.
func (c *console) start(label string) func(workbench.Progress) {
	c.mu.Lock()
	c.labels = append(c.labels, label)
	c.mu.Unlock()
	return func(pr workbench.Progress) { c.update(label, pr) }
}

func (c *console) finish(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, l := range c.labels {
		if l == label {
			c.labels = append(c.labels[:i], c.labels[i+1:]...)
			break
		}
	}
	delete(c.latest, label)
	delete(c.plainAt, label)
	delete(c.phase, label)
	c.clear()
	c.draw()
}

func (c *console) update(label string, pr workbench.Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latest[label] = pr
	if c.terminal {
		c.clear()
		c.draw()
		return
	}
	if pr.Phase != c.phase[label] || pr.Elapsed-c.plainAt[label] >= plainProgressEvery {
		c.phase[label], c.plainAt[label] = pr.Phase, pr.Elapsed
		fmt.Fprintf(c.w, "  %s: %s\n", label, progressLine(pr))
	}
}

// clear erases a drawn status line; the caller holds mu.
func (c *console) clear() {
	if c.drawn {
		fmt.Fprint(c.w, "\r\033[K")
		c.drawn = false
	}
}

// draw writes the status line on a terminal; the caller holds mu.
func (c *console) draw() {
	if !c.terminal || len(c.labels) == 0 {
		return
	}
	var parts []string
	for _, l := range c.labels {
		pr, ok := c.latest[l]
		switch {
		case !ok:
			parts = append(parts, l+": starting")
		case len(c.labels) == 1:
			parts = append(parts, l+": "+progressLine(pr))
		default:
			parts = append(parts, l+": "+shortProgress(pr))
		}
	}
	line := strings.Join(parts, " │ ")
	if utf8.RuneCountInString(line) > statusWidth {
		line = string([]rune(line)[:statusWidth-1]) + "…"
	}
	fmt.Fprintf(c.w, "  %s", line)
	c.drawn = true
}

func progressLine(pr workbench.Progress) string {
	if pr.Phase == "analysis" {
		return fmt.Sprintf("analysing %d operations…", pr.Invoked)
	}
	clock := fmt.Sprintf("%3.0fs/%.0fs", pr.Elapsed.Seconds(), pr.TimeLimit.Seconds())
	if pr.Phase != "main" {
		clock = fmt.Sprintf("%3.0fs", pr.Elapsed.Seconds())
	}
	s := fmt.Sprintf("%-8s %-8s %d ops: %d ok, %d fail, %d info", pr.Phase, clock, pr.Invoked, pr.OK, pr.Fail, pr.Info)
	if pr.Partitioned {
		s += "  [partitioned]"
	}
	return s
}

// shortProgress is a run's progress in a few characters, for a status
// line that names several runs.
func shortProgress(pr workbench.Progress) string {
	switch pr.Phase {
	case "analysis":
		return "analysing"
	case "main":
		return fmt.Sprintf("%.0fs/%.0fs", pr.Elapsed.Seconds(), pr.TimeLimit.Seconds())
	}
	return fmt.Sprintf("%s %.0fs", pr.Phase, pr.Elapsed.Seconds())
}
