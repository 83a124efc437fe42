package txn

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// The defaults; see Options.
const (
	DefaultFlushInterval     = 25 * time.Millisecond
	DefaultAckDelay          = 100 * time.Millisecond
	DefaultRetransmitTimeout = 400 * time.Millisecond
)

// Options tunes a Server. The zero value means the defaults.
type Options struct {
	// FlushInterval is the least time between two batches to one peer: a
	// write goes out at once when the last batch to that peer left at
	// least FlushInterval ago, and otherwise waits, with everything else
	// written meanwhile, until FlushInterval after that batch. Zero means
	// DefaultFlushInterval (25 ms); a negative value sends every
	// transaction's writes at once.
	FlushInterval time.Duration
	// AckDelay is the longest a node holds back an acknowledgement,
	// waiting for a batch to the peer to carry it, before sending it on
	// its own. Zero means DefaultAckDelay (100 ms).
	AckDelay time.Duration
	// RetransmitTimeout is how long a batch may go unacknowledged before
	// everything unacknowledged on that link is sent again; while a peer
	// stays silent, it is also the spacing of those retransmissions. It
	// must exceed AckDelay plus a round trip, or batches are repeated for
	// nothing, and it bounds how long after a partition heals the nodes
	// hold each other's writes. Zero means DefaultRetransmitTimeout
	// (400 ms).
	RetransmitTimeout time.Duration
}

func (o Options) timing() timing {
	t := timing{interval: o.FlushInterval, ackDelay: o.AckDelay, rto: o.RetransmitTimeout}
	if t.interval == 0 {
		t.interval = DefaultFlushInterval
	}
	t.interval = max(t.interval, 0)
	if t.ackDelay <= 0 {
		t.ackDelay = DefaultAckDelay
	}
	if t.rto <= 0 {
		t.rto = DefaultRetransmitTimeout
	}
	return t
}

// syncType is the message type of node-to-node batches.
const syncType = "txn_sync"

// ownWrite is the node's newest write of a key and the stream position
// of the transaction that made it.
type ownWrite struct {
	v   version
	pos int64
}

// Server is one node of the transactional key/value store.
type Server struct {
	n    *node.Node
	t    timing
	kick chan struct{} // wakes the flusher

	mu sync.Mutex
	// Set up on first use, once the node knows its id (see setup).
	st     *store
	links  []*link // one per peer, in node_ids order
	byPeer map[string]*link
	// log[i] lists the keys written by the transaction at stream
	// position base+i. Positions every peer has acknowledged are
	// dropped. A single node keeps no log.
	base int64
	log  [][]string
	// own is the node's newest write of every key it wrote.
	own map[string]ownWrite
	// planned is when the flusher will next look at the links by itself
	// (zero: not before it is woken).
	planned time.Time
}

// Register wires a Server with the default options onto n and returns
// it.
func Register(n *node.Node) *Server { return RegisterWith(n, Options{}) }

// RegisterWith wires a Server onto n: the handler for client "txn"
// requests, the handler for the node-to-node "txn_sync" batches, and a
// background flusher that sends batches, acknowledgements and
// retransmissions. Call it before n runs.
func RegisterWith(n *node.Node, opts Options) *Server {
	s := &Server{n: n, t: opts.timing(), kick: make(chan struct{}, 1)}
	n.Handle("txn", s.handleTxn)
	// Batches are merged in arrival order, before any later message is
	// handled, so a transaction delivered right behind a batch sees it.
	n.HandleInline(syncType, s.handleSync)
	n.Go(s.flusher)
	return s
}

// Snapshot returns the value of every key the node holds, as compact
// JSON keyed by the key's compact JSON.
func (s *Server) Snapshot() map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]json.RawMessage{}
	if s.st != nil {
		for k, v := range s.st.data {
			out[k] = v.val
		}
	}
	return out
}

// setup fills in the node's identity and peers on first use; handlers
// run only after init, so the ids are known. The caller holds mu.
func (s *Server) setup() {
	if s.st != nil {
		return
	}
	self := s.n.ID()
	s.st = newStore(self)
	s.byPeer = map[string]*link{}
	s.own = map[string]ownWrite{}
	for _, id := range s.n.NodeIDs() {
		if id != self {
			l := &link{peer: id}
			s.links = append(s.links, l)
			s.byPeer[id] = l
		}
	}
}

// txnOK is the reply to txn: exactly the keys the workload's schema
// allows.
type txnOK struct {
	Type string          `json:"type"`
	Txn  json.RawMessage `json:"txn"`
}

// handleTxn runs a client's transaction against the local replica and
// answers at once: it never waits for another node.
func (s *Server) handleTxn(msg node.Message) error {
	var req struct {
		Txn []json.RawMessage `json:"txn"`
	}
	if err := msg.Unmarshal(&req); err != nil {
		return node.NewRPCError(node.MalformedRequest, "txn: "+err.Error())
	}
	ops, err := parseTxn(req.Txn)
	if err != nil {
		return node.NewRPCError(node.MalformedRequest, "txn: "+err.Error())
	}
	s.mu.Lock()
	s.setup()
	writes := s.st.apply(ops, time.Now().UnixNano())
	soon := false
	if len(writes) > 0 && len(s.links) > 0 {
		pos := s.base + int64(len(s.log))
		keys := make([]string, len(writes))
		for i, w := range writes {
			keys[i] = w.key
			s.own[w.key] = ownWrite{v: w.v, pos: pos}
		}
		s.log = append(s.log, keys)
		soon = s.dueSoon()
	}
	s.mu.Unlock()
	if soon {
		s.wake()
	}
	return s.n.Reply(msg, txnOK{Type: "txn_ok", Txn: encodeTxn(ops)})
}

// handleSync merges a peer's batch and acknowledgement. It runs inline
// (see RegisterWith), so it must not block.
func (s *Server) handleSync(msg node.Message) error {
	var m syncMsg
	if err := msg.Unmarshal(&m); err != nil {
		// Answered only if it carries a msg_id; logged either way.
		return node.Errorf(node.MalformedRequest, "txn: malformed %s from %s: %v", syncType, msg.Src, err)
	}
	writes := make([]keyVersion, 0, len(m.Writes))
	for _, w := range m.Writes {
		kv, err := fromWire(w, msg.Src)
		if err != nil {
			return node.Errorf(node.MalformedRequest, "txn: %s from %s with a bad write %v: %v", syncType, msg.Src, w, err)
		}
		writes = append(writes, kv)
	}
	s.mu.Lock()
	s.setup()
	l, ok := s.byPeer[msg.Src]
	if !ok {
		s.mu.Unlock()
		return node.Errorf(node.MalformedRequest, "txn: %s from %s, which is not a peer", syncType, msg.Src)
	}
	for _, w := range writes {
		s.st.merge(w.key, w.v)
	}
	l.acknowledged(m.Ack)
	if m.Hi > m.Lo {
		l.in.Add(m.Lo, m.Hi)
		l.in.Owe(time.Now(), m.Urgent, s.t.ackDelay)
	}
	s.trim()
	soon := s.dueSoon()
	s.mu.Unlock()
	if soon {
		s.wake()
	}
	// Peers send syncs without a msg_id; anyone who adds one is answered
	// rather than left waiting (Reply sends nothing otherwise).
	return s.n.Reply(msg, node.Body{Type: syncType + "_ok"})
}

// trim drops the log positions every peer has acknowledged. The caller
// holds mu.
func (s *Server) trim() {
	low := s.base + int64(len(s.log))
	for _, l := range s.links {
		low = min(low, l.out.acked)
	}
	if low > s.base {
		s.log = slices.Delete(s.log, 0, int(low-s.base))
		s.base = low
	}
}

// end is the stream position the next writing transaction will get. The
// caller holds mu.
func (s *Server) end() int64 { return s.base + int64(len(s.log)) }

// dueSoon reports whether some link needs polling before the flusher's
// planned wake-up. The caller holds mu.
func (s *Server) dueSoon() bool {
	end := s.end()
	for _, l := range s.links {
		due := l.nextPoll(end, s.t)
		if !due.IsZero() && (s.planned.IsZero() || due.Before(s.planned)) {
			return true
		}
	}
	return false
}

// writes returns the node's newest write of every key written at the
// stream positions [lo, hi), one per key, in order of first appearance.
// The caller holds mu, and base ≤ lo.
func (s *Server) writes(lo, hi int64) []wireWrite {
	seen := map[string]bool{}
	var out []wireWrite
	for pos := lo; pos < hi; pos++ {
		for _, k := range s.log[pos-s.base] {
			if !seen[k] {
				seen[k] = true
				out = append(out, toWire(keyVersion{key: k, v: s.own[k].v}))
			}
		}
	}
	return out
}

// outgoing is a message the flusher sends after releasing the lock.
type outgoing struct {
	dest string
	body *syncMsg
}

// poll collects what every link must send at now and the earliest
// instant something else falls due (zero: nothing scheduled).
func (s *Server) poll(now time.Time) (out []outgoing, next time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return nil, time.Time{} // not initialised: nothing to say yet
	}
	end := s.end()
	for _, l := range s.links {
		p, send, due := l.poll(now, end, s.t)
		if send {
			m := &syncMsg{Type: syncType, Ack: l.in.Next, Urgent: p.urgent}
			if p.lo < p.hi {
				m.Lo, m.Hi, m.Writes = p.lo, p.hi, s.writes(p.lo, p.hi)
			}
			out = append(out, outgoing{dest: l.peer, body: m})
		}
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	s.planned = next
	return out, next
}

// wake tells the flusher to look at the links again.
func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// flusher is the one goroutine that sends node-to-node messages, so the
// batches on a link leave in stream order. It sleeps until the next
// deadline of any link or until a handler wakes it, and stops with the
// node.
func (s *Server) flusher(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		out, next := s.poll(time.Now())
		for _, o := range out {
			if err := s.n.Send(o.dest, o.body); err != nil {
				s.n.Logf("txn: send to %s: %v", o.dest, err)
			}
		}
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(time.Until(next), 0))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-fire:
		}
	}
}
