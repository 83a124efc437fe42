package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

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

// progressPrinter shows a running test's progress: redrawn in place on a
// terminal, a plain line every 10 s (and at each phase change) elsewhere.
type progressPrinter struct {
	mu        sync.Mutex
	w         io.Writer
	terminal  bool
	lastPhase string
	lastPlain time.Duration
	drawn     bool
}

func newProgressPrinter(w io.Writer, terminal bool) *progressPrinter {
	return &progressPrinter{w: w, terminal: terminal}
}

func (p *progressPrinter) update(pr workbench.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := progressLine(pr)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K  %s", line)
		p.drawn = true
		return
	}
	if pr.Phase != p.lastPhase || pr.Elapsed-p.lastPlain >= plainProgressEvery {
		p.lastPhase, p.lastPlain = pr.Phase, pr.Elapsed
		fmt.Fprintf(p.w, "  %s\n", line)
	}
}

// done clears a terminal status line.
func (p *progressPrinter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
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
