// Package netsim is the simulated network every message of a test passes
// through: client requests, node-to-node traffic and service calls alike.
//
// It reproduces Maelstrom's network (src/maelstrom/net.clj in Maelstrom
// 0.2.4: send!, recv! and the partition table):
// each endpoint owns one queue ordered by delivery deadline; a receiver
// takes the head of its queue and sleeps until that head is due, so a
// message that arrives during the sleep waits behind it even when its own
// deadline is earlier (Maelstrom's head-of-line effect). Messages that
// involve a client (an id starting with "c") have no latency; all others
// draw one from the configured distribution. Partitions are checked when
// the receiver takes a message off its queue, before it sleeps until the
// message is due: a dropped message costs the receiver no wait, and a
// partition that begins during the sleep does not stop the message
// (Maelstrom's src/maelstrom/net.clj, recv!). Every send and every
// delivery is written to a journal, from which the :net statistics and
// the Lamport diagram are computed: kept in memory, or handed one event
// at a time to Config.Record.
//
// The network reads the clock only through package time, so a whole test
// runs in virtual time inside a testing/synctest bubble.
package netsim

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Message is one message on the wire. ID is the network-wide number the
// network assigns on send (0, 1, 2, ...) and adds to the delivered line.
type Message struct {
	ID   int64
	Src  string
	Dest string
	Body json.RawMessage
}

// MarshalJSON writes the message as Maelstrom delivers it:
// {"id":N,"src":"..","dest":"..","body":{..}}.
func (m *Message) MarshalJSON() ([]byte, error) {
	return m.AppendJSON(nil), nil
}

// AppendJSON appends the delivered form of m to b without reflection.
func (m *Message) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendInt(b, m.ID)
	b = append(b, `,"src":`...)
	b = appendString(b, m.Src)
	b = append(b, `,"dest":`...)
	b = appendString(b, m.Dest)
	b = append(b, `,"body":`...)
	if len(m.Body) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Body...)
	}
	return append(b, '}')
}

func appendInt(b []byte, i int64) []byte {
	return fmt.Appendf(b, "%d", i)
}

func appendString(b []byte, s string) []byte {
	if isPlain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}

// isPlain reports whether s needs no JSON escaping.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// IsClient reports whether id names a client. Maelstrom treats every id
// that starts with "c" as a client, and so do latency and statistics.
func IsClient(id string) bool { return strings.HasPrefix(id, "c") }

// Latency distributions accepted by --latency-dist.
const (
	Constant    = "constant"
	Uniform     = "uniform"
	Exponential = "exponential"
)

// Dists returns the latency distributions, the default first: constant,
// uniform, exponential. The caller may modify the returned slice.
func Dists() []string { return []string{Constant, Uniform, Exponential} }

// CheckDist returns nil for a latency distribution Config accepts ("",
// meaning Constant, or one of Dists), else an error that lists them.
func CheckDist(name string) error {
	if name == "" || slices.Contains(Dists(), name) {
		return nil
	}
	return fmt.Errorf("unknown latency distribution %q (want %s)", name, strings.Join(Dists(), ", "))
}

// Config sets up a Network.
type Config struct {
	// Latency is the mean latency of messages between non-clients.
	Latency time.Duration
	// Dist is Constant (the default when empty), Uniform or Exponential.
	Dist string
	// Seed makes latency draws repeatable.
	Seed uint64
	// OnSend and OnRecv, when set, are called for every send and every
	// delivery (for --log-net-send and --log-net-recv). They must not block.
	OnSend, OnRecv func(m *Message)
	// Record, when set, receives every journal event in the journal's
	// order, one call at a time under the journal's lock (so it must not
	// call back into the network); the network then keeps no journal of
	// its own and Journal returns nil. A runner streams the journal to
	// disk and counts what its statistics need through it, so that the
	// memory the journal takes does not grow with the traffic.
	Record func(Event)
	// MaxQueued, when above 0, bounds the bytes of message bodies waiting
	// in every queue together: a message sent while that many wait is
	// journalled as sent and then lost, as a message to a partitioned
	// node is, and counted (see Overflowed). A node that floods a peer
	// which does not read (or reads slowly) then costs the bench at
	// most this much memory. Well-behaved nodes keep a few megabytes in
	// flight at most.
	MaxQueued int64
}

// queuedOverhead is what a queued message costs besides its body: the
// Message, its ids and the queue's item.
const queuedOverhead = 160

// Validate reports a configuration Maelstrom would refuse.
func (c Config) Validate() error {
	if err := CheckDist(c.Dist); err != nil {
		return err
	}
	if c.Dist == Exponential && c.Latency <= 0 {
		return errors.New("--latency-dist exponential needs a --latency above 0 (the rate would be 1/0)")
	}
	if c.Latency < 0 {
		return fmt.Errorf("--latency must not be negative, got %v", c.Latency)
	}
	return nil
}

// Event is one journal entry: a send or a delivery of a message, or, when
// Drop is set, the loss of a message that was sent (or could not be) and
// will never be delivered. Maelstrom's journal holds sends and deliveries
// only, and so do the :net statistics (see checker.NetCounter): drops are
// this bench's addition, so that a diagram can draw the messages that
// never arrived and an explanation can say why.
type Event struct {
	Recv bool
	Time int64 // nanoseconds since the network started
	Msg  *Message
	// Drop says why the message was lost (one of the Drop* reasons);
	// empty for a send or a delivery.
	Drop string
}

// Why a message is dropped (Event.Drop).
const (
	// DropPartition: a partition cut the sender off from the receiver
	// when the message fell due (as Maelstrom's net.clj checks it, at
	// delivery, not at send).
	DropPartition = "partition"
	// DropDown: the receiver refused it when it fell due (see RecvIf): a
	// node that was down, killed by the nemesis and not yet restarted.
	DropDown = "down"
	// DropOverflow: too many bytes were already queued (Config.MaxQueued).
	DropOverflow = "overflow"
	// DropEnded: it was still queued when its receiver's endpoint closed,
	// usually because the test ended.
	DropEnded = "ended"
	// DropNoSuchNode: the destination was never registered; the message
	// has a journal id but no send event.
	DropNoSuchNode = "no-such-node"
	// DropClosed: the destination was a client that had already closed.
	DropClosed = "closed"
)

// ErrUnknownDest is returned by Send for a destination that was never registered.
var ErrUnknownDest = errors.New("unknown destination")

// ErrClosedDest is returned by Send for a destination that was registered
// and has since been closed (a client Maelstrom discarded).
var ErrClosedDest = errors.New("closed destination")

// Network routes messages between registered endpoints.
type Network struct {
	cfg   Config
	start time.Time

	mu        sync.Mutex
	rng       *rand.Rand
	nextID    int64
	endpoints map[string]*Endpoint
	closed    map[string]bool
	grudge    map[string]map[string]bool // receiver -> senders dropped

	jmu     sync.Mutex
	journal []Event

	queued     atomic.Int64 // bytes waiting in queues, by queuedSize
	overflowed atomic.Int64 // messages lost to MaxQueued
}

func queuedSize(m *Message) int64 {
	return int64(len(m.Body)+len(m.Src)+len(m.Dest)) + queuedOverhead
}

// Overflowed returns how many messages were lost because MaxQueued
// bytes were already waiting.
func (n *Network) Overflowed() int64 { return n.overflowed.Load() }

// New returns a network whose journal clock starts now.
func New(cfg Config) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Network{
		cfg:       cfg,
		start:     time.Now(),
		rng:       rand.New(rand.NewPCG(cfg.Seed, 0x6e657473696d)),
		endpoints: map[string]*Endpoint{},
		closed:    map[string]bool{},
	}, nil
}

// Register adds an endpoint with the given id and returns it. Registering
// an id twice is an error.
func (n *Network) Register(id string) (*Endpoint, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.endpoints[id]; ok {
		return nil, fmt.Errorf("endpoint %q is already registered", id)
	}
	e := &Endpoint{id: id, net: n, wake: make(chan struct{}, 1)}
	n.endpoints[id] = e
	delete(n.closed, id)
	return e, nil
}

// Close removes an endpoint: messages to it are refused with
// ErrClosedDest from now on, and what is queued for it is discarded.
func (n *Network) Close(id string) {
	n.mu.Lock()
	e, ok := n.endpoints[id]
	if ok {
		delete(n.endpoints, id)
		n.closed[id] = true
	}
	n.mu.Unlock()
	if ok {
		e.close()
	}
}

// Partition replaces the grudge: grudge[receiver] lists the senders whose
// messages the receiver drops. A nil or empty grudge heals the network.
func (n *Network) Partition(grudge map[string][]string) {
	g := make(map[string]map[string]bool, len(grudge))
	for dst, srcs := range grudge {
		set := make(map[string]bool, len(srcs))
		for _, s := range srcs {
			set[s] = true
		}
		g[dst] = set
	}
	n.mu.Lock()
	n.grudge = g
	n.mu.Unlock()
}

// Heal removes every partition.
func (n *Network) Heal() { n.Partition(nil) }

func (n *Network) dropped(src, dest string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.grudge[dest][src]
}

// latency draws the delay for one message; called with n.mu held.
func (n *Network) latency(src, dest string) time.Duration {
	if IsClient(src) || IsClient(dest) || n.cfg.Latency <= 0 {
		return 0
	}
	mean := n.cfg.Latency.Milliseconds()
	switch n.cfg.Dist {
	case Uniform:
		if mean <= 0 {
			return 0
		}
		return time.Duration(n.rng.Int64N(2*mean)) * time.Millisecond
	case Exponential:
		ms := -float64(mean) * math.Log(1-n.rng.Float64())
		return time.Duration(int64(ms)) * time.Millisecond
	}
	return time.Duration(mean) * time.Millisecond
}

// Send stamps a message with the next id, journals it and queues it for
// dest after the latency. It fails, journaling nothing, when dest was
// never registered (ErrUnknownDest) or has been closed (ErrClosedDest).
func (n *Network) Send(src, dest string, body json.RawMessage) (*Message, error) {
	n.mu.Lock()
	e, ok := n.endpoints[dest]
	if !ok {
		closed := n.closed[dest]
		n.mu.Unlock()
		n.recordDrop(src, dest, body, closed)
		if closed {
			return nil, fmt.Errorf("message from %s to %s: %w", src, dest, ErrClosedDest)
		}
		return nil, fmt.Errorf("message from %s to %s: %w", src, dest, ErrUnknownDest)
	}
	m := &Message{ID: n.nextID, Src: src, Dest: dest, Body: body}
	n.nextID++
	delay := n.latency(src, dest)
	n.mu.Unlock()

	now := time.Now()
	n.record(Event{Time: now.Sub(n.start).Nanoseconds(), Msg: m})
	if n.cfg.OnSend != nil {
		n.cfg.OnSend(m)
	}
	if size := queuedSize(m); n.cfg.MaxQueued > 0 && n.queued.Add(size) > n.cfg.MaxQueued {
		n.queued.Add(-size)
		n.overflowed.Add(1)
		n.record(Event{Time: n.Since().Nanoseconds(), Msg: m, Drop: DropOverflow})
		return m, nil
	}
	e.push(now.Add(delay), m)
	return m, nil
}

// recordDrop journals the loss of a message Send could not queue because
// dest is unknown (or, when closed, a client that has closed): it gets an
// id of its own, but no send event, since Maelstrom would not have
// journalled it either.
func (n *Network) recordDrop(src, dest string, body json.RawMessage, closed bool) {
	n.mu.Lock()
	m := &Message{ID: n.nextID, Src: src, Dest: dest, Body: body}
	n.nextID++
	n.mu.Unlock()
	why := DropNoSuchNode
	if closed {
		why = DropClosed
	}
	n.record(Event{Time: n.Since().Nanoseconds(), Msg: m, Drop: why})
}

// unqueue accounts for a message leaving the queues.
func (n *Network) unqueue(m *Message) {
	if n.cfg.MaxQueued > 0 {
		n.queued.Add(-queuedSize(m))
	}
}

// Known reports whether id is currently registered.
func (n *Network) Known(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.endpoints[id]
	return ok
}

func (n *Network) record(ev Event) {
	n.jmu.Lock()
	if n.cfg.Record != nil {
		n.cfg.Record(ev)
	} else {
		n.journal = append(n.journal, ev)
	}
	n.jmu.Unlock()
}

// Journal returns a copy of every event so far, in the order recorded;
// nil when Config.Record takes the events instead.
func (n *Network) Journal() []Event {
	n.jmu.Lock()
	defer n.jmu.Unlock()
	return append([]Event(nil), n.journal...)
}

// Since returns the time elapsed since the network started, the clock of
// journal events.
func (n *Network) Since() time.Duration { return time.Since(n.start) }

// Started returns when the network started: the zero of its events'
// times.
func (n *Network) Started() time.Time { return n.start }

// Endpoint is one registered id's inbox.
type Endpoint struct {
	id   string
	net  *Network
	wake chan struct{}

	mu     sync.Mutex
	queue  queue
	seq    int64
	closed bool
}

// ID returns the endpoint's id.
func (e *Endpoint) ID() string { return e.id }

// ErrClosed is returned by Recv once the endpoint is closed.
var ErrClosed = errors.New("endpoint closed")

func (e *Endpoint) push(deadline time.Time, m *Message) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.net.unqueue(m)
		return
	}
	heap.Push(&e.queue, item{deadline: deadline, seq: e.seq, msg: m})
	e.seq++
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Endpoint) close() {
	e.mu.Lock()
	e.closed = true
	dropped := e.queue
	e.queue = nil
	e.mu.Unlock()
	now := e.net.Since().Nanoseconds()
	for _, it := range dropped {
		e.net.unqueue(it.msg)
		e.net.record(Event{Time: now, Msg: it.msg, Drop: DropEnded})
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Recv takes the next message for this endpoint, exactly as Maelstrom's
// receivers do (net.clj, recv!): it takes the queue's head (smallest
// deadline), drops it at once if a partition cuts its sender off from
// this endpoint (and takes the next one), otherwise sleeps until its
// deadline and journals the delivery. It returns ctx's error when ctx ends first (a head already
// taken is then lost, as in a receiver that is stopped), and ErrClosed
// once the endpoint is closed.
func (e *Endpoint) Recv(ctx context.Context) (*Message, error) {
	return e.RecvIf(ctx, nil)
}

// RecvIf is Recv for a receiver that may refuse a message once it is due
// (a node that is down loses what reaches it): a message keep rejects is
// dropped without being journalled as delivered, like one a partition
// drops, and the next is taken. A nil keep accepts everything.
func (e *Endpoint) RecvIf(ctx context.Context, keep func(*Message) bool) (*Message, error) {
	for {
		it, err := e.take(ctx)
		if err != nil {
			return nil, err
		}
		if e.net.dropped(it.msg.Src, e.id) {
			e.net.record(Event{Time: e.net.Since().Nanoseconds(), Msg: it.msg, Drop: DropPartition})
			continue
		}
		if wait := time.Until(it.deadline); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
		if keep != nil && !keep(it.msg) {
			e.net.record(Event{Time: e.net.Since().Nanoseconds(), Msg: it.msg, Drop: DropDown})
			continue
		}
		e.net.record(Event{Recv: true, Time: e.net.Since().Nanoseconds(), Msg: it.msg})
		if e.net.cfg.OnRecv != nil {
			e.net.cfg.OnRecv(it.msg)
		}
		return it.msg, nil
	}
}

// take pops the head of the queue, waiting for one to arrive.
func (e *Endpoint) take(ctx context.Context) (item, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return item{}, ErrClosed
		}
		if len(e.queue) > 0 {
			it := heap.Pop(&e.queue).(item)
			e.mu.Unlock()
			e.net.unqueue(it.msg)
			return it, nil
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-ctx.Done():
			return item{}, ctx.Err()
		}
	}
}

// Pending returns how many messages wait in the endpoint's queue.
func (e *Endpoint) Pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue)
}

type item struct {
	deadline time.Time
	seq      int64
	msg      *Message
}

// queue is a min-heap of items by deadline, then by send order.
type queue []item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].deadline.Equal(q[j].deadline) {
		return q[i].deadline.Before(q[j].deadline)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
