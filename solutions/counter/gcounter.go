package counter

import (
	"context"
	"errors"
	"fmt"
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
	maxStaleness = 2 * time.Second
	// readBudget bounds that wait. Clients give up on a reply after 5 s
	// and their messages carry no latency, so a read still waiting after
	// readBudget could only be answered too late or wrongly: it is
	// refused instead.
	readBudget = 4500 * time.Millisecond
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
	n    *node.Node
	kv   *node.KV
	wake chan struct{} // a read wants a sync; capacity 1

	mu      sync.Mutex
	local   int64            // deltas acknowledged here, flushed or not
	flushed int64            // the total of the last successful write
	seq     int64            // writes attempted
	peers   map[string]int64 // the highest total read from each peer's key
	synced  time.Time        // when the last complete sync began; zero: never

	// Syncs are numbered 1, 2, … as they begin.
	started   int64         // the number of the last sync begun
	completed int64         // the number of the last sync that completed; 0: none
	waiting   int           // reads waiting for a sync
	need      int64         // the highest sync number a waiting read needs
	progress  chan struct{} // closed (and replaced) when a sync completes or the loop stops
	stopped   bool          // the loop has returned: no sync will complete any more
}

// Register wires the challenge 4 grow-only counter onto n: handlers for
// add and read, and a sync loop (started at init) that keeps the node's
// total in seq-kv and reads its peers' totals from there.
func Register(n *node.Node) {
	c := &gCounter{
		n:        n,
		kv:       node.NewSeqKV(n),
		wake:     make(chan struct{}, 1),
		peers:    map[string]int64{},
		progress: make(chan struct{}),
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
	local, ok := addInt64(c.local, *body.Delta)
	if ok {
		// The value this node would read must fit as well.
		_, ok = c.sumLocked(local)
	}
	if ok {
		c.local = local
	}
	c.mu.Unlock()
	if !ok {
		return errOverflow(*body.Delta)
	}
	return c.n.Reply(msg, node.Body{Type: "add_ok"})
}

// read answers from the view at once when it is at most maxStaleness old;
// otherwise it waits for a sync that begins after the read arrived to
// complete, and is refused if none does within readBudget.
func (c *gCounter) read(msg node.Message) error {
	v, err := c.value()
	if err != nil {
		return err
	}
	return c.n.Reply(msg, struct {
		node.Body
		Value int64 `json:"value"`
	}{node.Body{Type: "read_ok"}, v})
}

// value returns the counter's value from a view fresh enough for a read
// arriving now; see read.
func (c *gCounter) value() (int64, error) {
	if err := c.freshen(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.sumLocked(c.local)
	if !ok {
		// Peers' totals, each within range, can sum beyond it: refuse
		// rather than wrap.
		return 0, node.NewRPCError(node.Abort, "the counter's value is beyond the 64-bit range")
	}
	return v, nil
}

// sumLocked returns local plus every peer's total, and false when that
// overflows an int64. The caller holds c.mu.
func (c *gCounter) sumLocked(local int64) (int64, bool) {
	v := local
	for _, t := range c.peers {
		var ok bool
		if v, ok = addInt64(v, t); !ok {
			return 0, false
		}
	}
	return v, true
}

// freshen returns at once if the view is at most maxStaleness old.
// Otherwise it asks the loop for a sync and waits, at most readBudget,
// until a sync that began after this call has completed.
func (c *gCounter) freshen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced.IsZero() && time.Since(c.synced) <= maxStaleness {
		return nil
	}
	need := c.started + 1 // the next sync to begin
	c.need = max(c.need, need)
	c.waiting++
	defer func() { c.waiting-- }() // deferred after Unlock, so it runs first, under c.mu
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	timer := time.NewTimer(readBudget)
	defer timer.Stop()
	expired := false
	for c.completed < need {
		switch {
		case c.stopped:
			return node.NewRPCError(node.TemporarilyUnavailable, "the node is stopping")
		case expired:
			return node.Errorf(node.TemporarilyUnavailable, "no sync with seq-kv completed within %v of the read: the view may be stale", readBudget)
		}
		progress := c.progress
		c.mu.Unlock()
		select {
		case <-progress:
		case <-timer.C:
			expired = true
		}
		c.mu.Lock()
	}
	return nil
}

// dirty reports whether some acknowledged adds are not yet in seq-kv.
func (c *gCounter) dirty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local > c.flushed
}

// readsWaiting reports whether some read waits for a sync that has not
// completed yet.
func (c *gCounter) readsWaiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting > 0 && c.completed < c.need
}

// loop is the only goroutine that talks to seq-kv. It syncs when a tick
// finds unflushed adds, and again and again, for as long as reads wait
// for a sync that has not completed (a failed sync is retried at the next
// tick). It returns when the node stops.
func (c *gCounter) loop(ctx context.Context) {
	defer c.halt()
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	for {
		ticked := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			ticked = true
		case <-c.wake:
		}
		for (ticked && c.dirty()) || c.readsWaiting() {
			ticked = false
			select {
			case <-c.wake: // this sync serves every read waiting so far
			default:
			}
			if err := c.sync(ctx); err != nil {
				if ctx.Err() != nil || errors.Is(err, node.ErrClosed) {
					return
				}
				break // retry at the next tick, or sooner if a new read asks
			}
		}
	}
}

// halt records that the loop has stopped and wakes the waiting reads.
func (c *gCounter) halt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	close(c.progress)
}

// sync writes the node's total (always changing the state, so that seq-kv
// serves this node's next reads from a state at least as new as the
// write), then reads every peer's total, all peers at once. Neither step
// has a timeout: seq-kv always replies. The sync counts as complete, and
// its start time becomes the view's age, only when every step succeeded.
func (c *gCounter) sync(ctx context.Context) error {
	self := c.n.ID()
	c.mu.Lock()
	c.started++
	num := c.started
	c.seq++
	e := entry{Total: c.local, Seq: c.seq}
	c.mu.Unlock()
	began := time.Now()

	if err := c.kv.Write(ctx, keyOf(self), e); err != nil {
		c.logFailure(ctx, err, "write", keyOf(self))
		return fmt.Errorf("writing %s: %w", keyOf(self), err)
	}
	c.mu.Lock()
	c.flushed = max(c.flushed, e.Total)
	c.mu.Unlock()

	var peers []string
	for _, p := range c.n.NodeIDs() {
		if p != self {
			peers = append(peers, p)
		}
	}
	errs := make(chan error, len(peers))
	for _, p := range peers {
		go func() { errs <- c.readPeer(ctx, p) }()
	}
	var failed error
	for range peers {
		if err := <-errs; err != nil && failed == nil {
			failed = err
		}
	}
	if failed != nil {
		return failed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.synced = began
	c.completed = num
	close(c.progress)
	c.progress = make(chan struct{})
	return nil
}

// readPeer reads p's total and raises the view of it.
func (c *gCounter) readPeer(ctx context.Context, p string) error {
	var pe entry
	err := c.kv.ReadInto(ctx, keyOf(p), &pe)
	switch {
	case err == nil:
		c.mu.Lock()
		c.peers[p] = max(c.peers[p], pe.Total)
		c.mu.Unlock()
		return nil
	case node.IsKeyDoesNotExist(err):
		return nil // p had written nothing before our write: its total was 0
	default:
		c.logFailure(ctx, err, "read", keyOf(p))
		return fmt.Errorf("reading %s: %w", keyOf(p), err)
	}
}

// logFailure logs a failed seq-kv call, unless it failed because the node
// is stopping.
func (c *gCounter) logFailure(ctx context.Context, err error, op, key string) {
	if ctx.Err() == nil && !errors.Is(err, node.ErrClosed) {
		c.n.Logf("counter: %s %s: %v", op, key, err)
	}
}
