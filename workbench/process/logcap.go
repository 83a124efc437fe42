package process

import (
	"fmt"
	"io"
	"sync"
)

// MaxLogBytes is how much of what a node prints on stderr its log file
// keeps: enough for a long debugging session's worth of lines, small
// enough that a node printing without end cannot fill the disk.
const MaxLogBytes = 10 << 20

// LogCap passes the first max bytes written to it on to a node's log,
// then one marker line, and from then on accepts and drops everything, so
// that the node is never blocked on stderr.
type LogCap struct {
	mu      sync.Mutex
	w       io.WriteCloser
	max     int64
	written int64
	dropped int64
}

// NewLogCap returns a LogCap writing at most max bytes of node output to w.
func NewLogCap(w io.WriteCloser, max int64) *LogCap {
	return &LogCap{w: w, max: max}
}

// Write passes b on while the log is under its cap, and always reports
// all of b written; an error of the underlying writer is returned.
func (c *LogCap) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped > 0 {
		c.dropped += int64(len(b))
		return len(b), nil
	}
	room := c.max - c.written
	if int64(len(b)) <= room {
		k, err := c.w.Write(b)
		c.written += int64(k)
		return len(b), err
	}
	k, err := c.w.Write(b[:room])
	c.written += int64(k)
	c.dropped = int64(len(b)) - room
	if err != nil {
		return len(b), err
	}
	nl := ""
	if room == 0 || b[room-1] != '\n' {
		nl = "\n"
	}
	_, err = fmt.Fprintf(c.w, "%s[glomers: log truncated after %d bytes; the rest of this node's stderr was read and dropped]\n", nl, c.written)
	return len(b), err
}

// Dropped returns how many bytes were dropped after the cap.
func (c *LogCap) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Close closes the underlying writer.
func (c *LogCap) Close() error { return c.w.Close() }
