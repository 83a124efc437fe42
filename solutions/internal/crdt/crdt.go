// Package crdt replicates a state-based CRDT between Maelstrom nodes by
// pushing deltas: each node sends each peer only the part of its state
// that the peer is not known to have, and repeats until the peer
// acknowledges it.
//
// # States form a join-semilattice
//
// A state-based CRDT is a set of states with a partial order ("s ≤ t: t
// includes everything s says") in which any two states s and t have a
// least upper bound, their join s ⊔ t. [Lattice.Merge] computes the
// join. Because the join is commutative (s ⊔ t = t ⊔ s), associative
// ((s ⊔ t) ⊔ u = s ⊔ (t ⊔ u)) and idempotent (s ⊔ s = s), a replica may
// receive the same information in any order, any number of times, by any
// route, and replicas that have received the same updates hold equal
// states. Local updates only ever move a state up (a grow-only set gains
// elements; a pn-counter raises one node's sum of increments or of
// decrements), so nothing a replica merges is ever undone by a later
// merge.
//
// That makes the network's faults harmless: a lost message is resent, a
// duplicate merges to nothing new, a reordered one is joined all the
// same. Once every update has reached every node, by any path, all reads
// agree. No coordination, service or leader is involved, so replicas stay
// available under partitions and converge after the heal.
//
// # Per-peer known state keeps pushes small
//
// Shipping the whole state on every round is correct but grows with the
// history. Instead a [Replicator] keeps, for every peer p, known[p]: a
// state that p certainly has. It grows two ways, both safe:
//
//   - when p acknowledges a push, the pushed delta is joined into known[p]
//     (p has merged it);
//   - when p pushes something to us, it is joined into known[p] (p had it,
//     and states never shrink), so we never send it back.
//
// known[p] therefore always stays at or below p's real state. On each
// tick the replicator asks [Lattice.Missing] for the part of its state not
// covered by known[p] and pushes just that delta. As known[p] only
// under-estimates p's state, the delta always contains everything p
// really lacks (it may repeat what p heard from a third node, which
// merges harmlessly). When known[p] covers our state, nothing is sent at
// all.
//
// This relies on peers never losing state: a node that restarted empty
// would have to be forgotten. Maelstrom's CRDT workloads do not crash
// nodes.
//
// # Repeats and late acknowledgements
//
// A push that is lost, or whose acknowledgement is lost, leaves known[p]
// unchanged, so a later tick pushes the same entries again, together
// with whatever has been added since. A push is repeated only once it has
// been refused, or has gone unacknowledged for Config.Timeout (1 s by
// default) or for twice the last round trip to p, if longer (up to
// 4 × Timeout): there is no point repeating what is still on its way.
// The repeat does not give up on the first push: each waits for its
// acknowledgement for 8 × Timeout, and an acknowledgement that arrives
// after a repeat went out still joins its delta into known[p]. Without
// that, a link whose round trip exceeds Timeout would never settle: every
// acknowledgement would come too late, and the node would push its whole
// history to p every Timeout for ever. As pushes to p in flight are at
// least Timeout apart and each waits at most 8 × Timeout, at most nine
// are in flight at once.
//
// # Message arithmetic
//
// Every node runs one loop per peer, and a loop sends at most one push
// per tick, so with N nodes and interval T there are at most N(N−1)
// pushes, each with at most one acknowledgement, per T: 2N(N−1)/T server
// messages per second, whatever the request rate. For N = 3 and
// T = 250 ms that is at most 48 messages a second; at the pn-counter's
// usual 50 operations a second, below one message per operation, and the
// bound only drops as the rate rises, since a busy push carries more
// updates, not more messages. Slow links send fewer: when the round trip
// exceeds Timeout, a loop pushes about once per round trip while updates
// flow. A push carries what changed since the peer's last
// acknowledgement: for a pn-counter at most one entry per node, for a
// grow-only set the elements added since. Once updates stop and the last
// pushes have been acknowledged, the cluster sends nothing.
//
// # Wire messages
//
// A push is {"type": Type, Field: <delta>}, where Type and Field come
// from [Config] and the delta is the JSON encoding of S. Its
// acknowledgement is {"type": Type + "_ok"}. A push whose field is
// missing, null or not a valid S is answered with error code
// [node.MalformedRequest].
package crdt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// Default timing of the pushes, used when [Config] leaves them zero.
const (
	// DefaultInterval is how often a node pushes to each peer what the
	// peer may lack.
	DefaultInterval = 250 * time.Millisecond
	// DefaultTimeout is how long a push may go unacknowledged before a
	// tick repeats it, with whatever is then missing.
	DefaultTimeout = time.Second
)

// ackWaitFactor × Timeout is how long a push waits for its
// acknowledgement (ackWait). A repeat does not cancel the push it
// repeats: when the round trip to a peer exceeds Timeout, the late
// acknowledgement still tells the node what the peer has.
const ackWaitFactor = 8

// Lattice is a state of a state-based CRDT, S being the state type
// itself (a map type, or a pointer to a struct). A [Replicator] calls
// its methods only while it holds its lock.
type Lattice[S any] interface {
	// Merge raises the receiver to the join of itself and o, and reports
	// whether the receiver changed. It must be commutative, associative
	// and idempotent, and must not keep references into o that o could
	// later change: the same o may be merged into several states.
	Merge(o S) bool
	// Missing returns the part of the receiver that known does not
	// cover: a delta d such that known ⊔ d includes the receiver. It
	// reports false, with any d, when known already includes the
	// receiver. d must share no mutable memory with the receiver, as it
	// is encoded and merged after the lock is released.
	Missing(known S) (d S, ok bool)
}

// Config describes one replicated data type.
type Config[S Lattice[S]] struct {
	// Type is the message type of a push, such as "gset_replicate";
	// acknowledgements have type Type + "_ok".
	Type string
	// Field is the key of the push body that carries the delta, such as
	// "elements".
	Field string
	// Empty returns a new bottom state (the empty set, the zero counter).
	// It is used for the initial state and for each peer's known state.
	Empty func() S
	// Interval between pushes to one peer; zero means DefaultInterval.
	Interval time.Duration
	// Timeout is how long a push may go unacknowledged before it is
	// repeated (longer when acknowledgements are seen to take longer);
	// zero means DefaultTimeout. Its acknowledgement still counts until
	// 8 × Timeout.
	Timeout time.Duration
}

// Replicator holds a node's replica of a state of type S and keeps it
// converging with the replicas of every other node. All methods are safe
// for concurrent use.
type Replicator[S Lattice[S]] struct {
	n   *node.Node
	cfg Config[S]

	mu    sync.Mutex
	state S
	known map[string]S // per peer: a state the peer certainly has
}

// New wires a replicator onto n and returns it. It registers the handler
// for cfg.Type pushes and the "init" handler, which starts one push loop
// per peer (so the caller must not register "init" itself), and it
// panics if cfg lacks Type, Field or Empty, or if either message type
// already has a handler. The loops run until the node stops.
func New[S Lattice[S]](n *node.Node, cfg Config[S]) *Replicator[S] {
	if cfg.Type == "" || cfg.Field == "" || cfg.Empty == nil {
		panic("crdt: Config needs Type, Field and Empty")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	r := &Replicator[S]{n: n, cfg: cfg, state: cfg.Empty(), known: map[string]S{}}
	n.Handle(cfg.Type, r.receive)
	n.Handle("init", r.init)
	return r
}

// Update runs fn with exclusive access to the local state, for a local
// change. The change must only move the state up (an inflation): peers
// that already hold a value keep it, and nothing retracts it. The next
// tick pushes it to every peer.
func (r *Replicator[S]) Update(fn func(s S)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.state)
}

// View runs fn with the local state, which fn must neither change nor
// keep after it returns.
func (r *Replicator[S]) View(fn func(s S)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.state)
}

// init starts one push loop per peer, each with an empty known state.
func (r *Replicator[S]) init(node.Message) error {
	var peers []string
	r.mu.Lock()
	for _, p := range r.n.NodeIDs() {
		if p != r.n.ID() {
			r.known[p] = r.cfg.Empty()
			peers = append(peers, p)
		}
	}
	r.mu.Unlock()
	for _, p := range peers {
		r.n.Go(func(ctx context.Context) { r.push(ctx, p) })
	}
	return nil
}

// decode extracts the delta from a push body.
func (r *Replicator[S]) decode(msg node.Message) (S, error) {
	var body map[string]json.RawMessage
	d := r.cfg.Empty()
	if err := msg.Unmarshal(&body); err != nil {
		return d, fmt.Errorf("decoding %s body: %w", r.cfg.Type, err)
	}
	raw, ok := body[r.cfg.Field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return d, fmt.Errorf("%s needs a %q", r.cfg.Type, r.cfg.Field)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("decoding %s %q: %w", r.cfg.Type, r.cfg.Field, err)
	}
	return d, nil
}

// receive merges a push into the local state and acknowledges it. The
// sender evidently has what it sent, so it joins the sender's known state
// too (senders that are not peers, such as clients, have none).
func (r *Replicator[S]) receive(msg node.Message) error {
	d, err := r.decode(msg)
	if err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	r.mu.Lock()
	r.state.Merge(d)
	if k, ok := r.known[msg.Src]; ok {
		k.Merge(d)
	}
	r.mu.Unlock()
	return r.n.Reply(msg, node.Body{Type: r.cfg.Type + "_ok"})
}

// missing returns what peer is not known to have, and false when nothing.
func (r *Replicator[S]) missing(peer string) (S, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.Missing(r.known[peer])
}

// pushed is what became of one push.
type pushed struct {
	seq    int           // its number, counting the loop's pushes from 1
	acked  bool          // the peer acknowledged it within ackWait
	rtt    time.Duration // if acked, the time from sending to the acknowledgement
	closed bool          // the node's input ended: no reply can arrive any more
}

// push sends peer, at most once per Interval, whatever it is not known to
// have, and returns when ctx, the node's context, is done, or when the
// node's input has ended.
//
// A push is repeated (with whatever is then missing) only once it has been
// answered without an acknowledgement or has gone unanswered for the
// retry delay: Timeout, or twice the last acknowledged round trip if that
// is longer, up to ackWaitFactor/2 × Timeout. So pushes in flight are at
// least Timeout apart, and as each waits for its acknowledgement at most
// ackWaitFactor × Timeout, at most ackWaitFactor+1 are in flight at once.
func (r *Replicator[S]) push(ctx context.Context, peer string) {
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	done := make(chan pushed, ackWaitFactor+1) // room for every push in flight
	var wg sync.WaitGroup
	defer wg.Wait()
	var (
		seq    int       // the newest push's number; 0: none yet
		sentAt time.Time // when it was sent
		open   bool      // its outcome has not come back yet
		retry  = r.cfg.Timeout
	)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-done:
			if p.closed {
				return
			}
			if p.acked {
				retry = min(max(r.cfg.Timeout, 2*p.rtt), ackWaitFactor/2*r.cfg.Timeout)
			}
			if p.seq == seq {
				open = false
			}
			continue
		case <-tick.C:
		}
		if open && time.Since(sentAt) < retry {
			continue // the newest push may yet be acknowledged
		}
		d, ok := r.missing(peer)
		if !ok {
			continue
		}
		seq++
		sentAt, open = time.Now(), true
		this := seq
		wg.Go(func() {
			p := r.send(ctx, peer, this, d)
			select {
			case done <- p:
			case <-ctx.Done(): // the loop has returned or is returning
			}
		})
	}
}

// send pushes d to peer and, if peer acknowledges it within ackWait,
// joins d into known[peer], however late the acknowledgement comes.
func (r *Replicator[S]) send(ctx context.Context, peer string, seq int, d S) pushed {
	ctx, cancel := context.WithTimeout(ctx, ackWaitFactor*r.cfg.Timeout)
	defer cancel()
	sent := time.Now()
	reply, err := r.n.Call(ctx, peer, map[string]any{"type": r.cfg.Type, r.cfg.Field: d})
	if err != nil || reply.Type() != r.cfg.Type+"_ok" {
		// Lost, refused, or the node is stopping: a later push carries
		// whatever is then missing.
		return pushed{seq: seq, closed: errors.Is(err, node.ErrClosed)}
	}
	r.mu.Lock()
	r.known[peer].Merge(d)
	r.mu.Unlock()
	return pushed{seq: seq, acked: true, rtt: time.Since(sent)}
}
