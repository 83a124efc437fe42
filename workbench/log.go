package workbench

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// logger writes Maelstrom-style log lines to the console and jepsen.log.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func newLogger(console io.Writer) *logger {
	if console == nil {
		console = io.Discard
	}
	return &logger{w: console}
}

// add makes the logger write to w as well from now on.
func (l *logger) add(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w = io.MultiWriter(l.w, w)
}

func (l *logger) line(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s [%s] %s\n", level, time.Now().Format("2006-01-02 15:04:05.000"), fmt.Sprintf(format, args...))
}

// Infof logs at INFO.
func (l *logger) Infof(format string, args ...any) { l.line("INFO", format, args...) }

// Warnf logs at WARN.
func (l *logger) Warnf(format string, args ...any) { l.line("WARN", format, args...) }

// Errorf logs at ERROR.
func (l *logger) Errorf(format string, args ...any) { l.line("ERROR", format, args...) }

// Printf writes raw text.
func (l *logger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
