package workbench

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/netsim"
)

// worker is one client thread: it always talks to the same node.
type worker struct {
	thread  int
	process int
	node    string
	client  *netsim.Client
	// onInvoke, when set, is called after each invocation is recorded
	// (the final phase uses it to start threads one after another).
	onInvoke func()
}

// threadPool is the set of client threads and which of them are free,
// handed out in the order Jepsen 0.3.7's generator context hands them out
// (jepsen/src/jepsen/generator/context.clj: some-free-process and
// busy-thread). The context keeps a next-thread-index over every thread,
// the client threads 0…n−1 and the nemesis thread n; a new operation goes
// to the first free client thread at or after that index, wrapping round
// to thread 0, and every thread that becomes busy (the nemesis's too)
// moves the index on by one. With every thread free, then, thread 0 is
// chosen both when the index is 0 and when it points at the nemesis slot:
// it gets 2/(n+1) of the operations and every other thread 1/(n+1).
type threadPool struct {
	mu      sync.Mutex
	workers []*worker
	free    []bool
	next    int           // next-thread-index, in [0, len(workers)]
	freed   chan struct{} // signalled (capacity 1) whenever a thread is released
}

func newThreadPool(workers []*worker) *threadPool {
	p := &threadPool{workers: workers, free: make([]bool, len(workers)), freed: make(chan struct{}, 1)}
	for i := range p.free {
		p.free[i] = true
	}
	return p
}

// take marks the next free thread busy and returns it, or nil when every
// thread is busy.
func (p *threadPool) take() *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.workers)
	// Slots next, next+1, … round the ring of n+1 (Jepsen's nextSetBit
	// from next-thread-index, then from 0); the nemesis slot n holds no
	// client thread.
	for k := range n + 1 {
		if i := (p.next + k) % (n + 1); i < n && p.free[i] {
			p.free[i] = false
			p.bumpLocked()
			return p.workers[i]
		}
	}
	return nil
}

// release marks w free again.
func (p *threadPool) release(w *worker) {
	p.mu.Lock()
	p.free[w.thread] = true
	p.mu.Unlock()
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

// nemesisBusy records that the nemesis thread began an operation, which
// moves the index on as any busy thread does.
func (p *threadPool) nemesisBusy() {
	p.mu.Lock()
	p.bumpLocked()
	p.mu.Unlock()
}

func (p *threadPool) bumpLocked() { p.next = (p.next + 1) % (len(p.workers) + 1) }

// schedule releases operations at a mean rate, as Maelstrom's
// (gen/stagger (/ rate) …) does: each operation is due a uniformly random
// gap in [0, 2/rate) after the previous one, one global timer for all
// threads (Jepsen 0.3.7 generator.clj, Stagger).
//
// The timer keeps its schedule: the next due time is the previous due
// time plus a gap, not the moment the previous operation actually went
// out, so the few hundred microseconds a timer wakes late are not added
// to every gap (they cost real runs about 40% of the asked operations at
// --rate 1000). Only when no thread was free at the due time, or the
// generator woke later than the longest possible gap (a stalled machine),
// does the schedule slip: the next operation is then due a gap after the
// one just issued, as with Jepsen's Stagger, and missed operations are
// never fired in a burst.
type schedule struct {
	rate     float64
	deadline time.Time
	gaps     *rand.Rand
	pool     *threadPool
	// sleepUntil waits until t or until ctx ends (sleep.Until); tests
	// replace it with a timer that wakes late, as real ones do.
	sleepUntil func(ctx context.Context, t time.Time) error
}

// run hands a thread to issue at every due time until the deadline, ctx
// ends, or issue reports that the generator is exhausted. issue must
// start the operation and return at once; the thread goes back to the
// pool through release when the operation completes.
func (s *schedule) run(ctx context.Context, issue func(w *worker) bool) {
	maxGap := time.Duration(2 / s.rate * float64(time.Second))
	due := time.Now()
	for due.Before(s.deadline) {
		if s.sleepUntil(ctx, due) != nil {
			return
		}
		w, slipped := s.pool.take(), false
		for w == nil {
			slipped = true
			select {
			case <-s.pool.freed:
			case <-ctx.Done():
				return
			case <-time.After(time.Until(s.deadline)):
				return
			}
			w = s.pool.take()
		}
		now := time.Now()
		if !now.Before(s.deadline) {
			s.pool.release(w)
			return
		}
		if slipped || now.Sub(due) > maxGap {
			due = now
		}
		due = due.Add(time.Duration(s.gaps.Float64() * float64(maxGap)))
		if !issue(w) {
			s.pool.release(w)
			return
		}
	}
}
