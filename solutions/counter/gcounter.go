package counter

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// Timing of the g-counter; see the package documentation.
const (
	// flushInterval is how often a node with unflushed adds syncs.
	flushInterval = 500 * time.Millisecond
	// maxStaleness is the age of the view beyond which a read waits for a
	// fresh sync.
	maxStaleness = time.Second
	// readWait bounds that wait; the read then answers with what it has.
	readWait = 2 * time.Second
	// peerReadTimeout bounds each read of a peer's key.
	peerReadTimeout = time.Second
)

// keyOf is the seq-kv key holding node id's total.
func keyOf(id string) string { return "g-counter/" + id }

// entry is the value a node keeps under its key.
type entry struct {
	Total int64 `json:"total"` // sum of the deltas the node acknowledged
	Seq   int64 `json:"seq"`   // count of the node's writes: every write changes the state
}

// gCounter is one node of the seq-kv grow-only counter.
type gCounter struct {
	n        *node.Node
	kv       *node.KV
	requests chan syncRequest // reads asking for a fresh sync

	mu      sync.Mutex
	local   int64            // deltas acknowledged here, flushed or not
	flushed int64            // the total of the last successful write
	seq     int64            // writes attempted
	peers   map[string]int64 // the highest total read from each peer's key
	synced  time.Time        // when the last complete sync began; zero: never
}

// syncRequest asks the sync loop for a sync that begins after asked, and
// is closed when one has completed (or failed).
type syncRequest struct {
	asked time.Time
	done  chan struct{}
}

// Register wires the challenge 4 grow-only counter onto n: handlers for
// add and read, and a sync loop (started at init) that keeps the node's
// total in seq-kv and reads its peers' totals from there.
func Register(n *node.Node) {
	c := &gCounter{
		n:        n,
		kv:       node.NewSeqKV(n),
		requests: make(chan syncRequest, 16),
		peers:    map[string]int64{},
	}
	n.Handle("add", c.add)
	n.Handle("read", c.read)
	n.Handle("init", func(node.Message) error {
		n.Go(c.loop)
		return nil
	})
}

func (c *gCounter) add(msg node.Message) error {
	var body struct {
		Delta *int64 `json:"delta"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	if body.Delta == nil || *body.Delta < 0 {
		return node.NewRPCError(node.MalformedRequest, "add needs a non-negative integer delta: the counter only grows")
	}
	c.mu.Lock()
	c.local += *body.Delta
	c.mu.Unlock()
	return c.n.Reply(msg, node.Body{Type: "add_ok"})
}

func (c *gCounter) read(msg node.Message) error {
	if c.stale() {
		c.awaitSync()
	}
	c.mu.Lock()
	v := c.local
	for _, t := range c.peers {
		v += t
	}
	c.mu.Unlock()
	return c.n.Reply(msg, struct {
		node.Body
		Value int64 `json:"value"`
	}{node.Body{Type: "read_ok"}, v})
}

// stale reports whether the view is older than maxStaleness.
func (c *gCounter) stale() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced.IsZero() || time.Since(c.synced) > maxStaleness
}

// awaitSync asks the loop for a sync that begins from now on and waits for
// it, at most readWait.
func (c *gCounter) awaitSync() {
	timer := time.NewTimer(readWait)
	defer timer.Stop()
	r := syncRequest{asked: time.Now(), done: make(chan struct{})}
	select {
	case c.requests <- r:
	case <-timer.C:
		return
	}
	select {
	case <-r.done:
	case <-timer.C:
	}
}

// dirty reports whether some acknowledged adds are not yet in seq-kv.
func (c *gCounter) dirty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local > c.flushed
}

// loop is the only goroutine that talks to seq-kv. It syncs when a tick
// finds unflushed adds or a read asks for it, until the node stops.
func (c *gCounter) loop(ctx context.Context) {
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		var waiting []syncRequest
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case r := <-c.requests:
			waiting = append(waiting, r)
		}
		if ctx.Err() != nil {
			return // stopping; the waiting reads time out on their own
		}
	drain:
		for {
			select {
			case r := <-c.requests:
				waiting = append(waiting, r)
			default:
				break drain
			}
		}
		if c.dirty() || c.unserved(waiting) {
			c.sync(ctx)
		}
		for _, r := range waiting {
			close(r.done)
		}
	}
}

// unserved reports whether some request asked for a sync after the last
// complete one began.
func (c *gCounter) unserved(waiting []syncRequest) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range waiting {
		if !c.synced.After(r.asked) {
			return true
		}
	}
	return false
}

// sync writes the node's total (always changing the state, so that seq-kv
// serves this node's next reads from a state at least as new as the
// write), then reads every peer's total. It records the sync as complete
// only when every step succeeded.
func (c *gCounter) sync(ctx context.Context) {
	began := time.Now()
	self := c.n.ID()
	c.mu.Lock()
	c.seq++
	e := entry{Total: c.local, Seq: c.seq}
	c.mu.Unlock()

	// No timeout: see the package documentation on writes in flight.
	if err := c.kv.Write(ctx, keyOf(self), e); err != nil {
		c.logFailure(ctx, err, "write", keyOf(self))
		return
	}
	c.mu.Lock()
	c.flushed = max(c.flushed, e.Total)
	c.mu.Unlock()

	complete := true
	for _, p := range c.n.NodeIDs() {
		if p == self {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, peerReadTimeout)
		var pe entry
		err := c.kv.ReadInto(rctx, keyOf(p), &pe)
		cancel()
		switch {
		case err == nil:
			c.mu.Lock()
			c.peers[p] = max(c.peers[p], pe.Total)
			c.mu.Unlock()
		case node.IsKeyDoesNotExist(err):
			// p had written nothing before our write: its total was 0.
		default:
			complete = false
			c.logFailure(ctx, err, "read", keyOf(p))
		}
	}
	if complete {
		c.mu.Lock()
		c.synced = began
		c.mu.Unlock()
	}
}

// logFailure logs a failed seq-kv call, unless it failed because the node
// is stopping.
func (c *gCounter) logFailure(ctx context.Context, err error, op, key string) {
	if ctx.Err() == nil && !errors.Is(err, node.ErrClosed) {
		c.n.Logf("counter: %s %s: %v", op, key, err)
	}
}
