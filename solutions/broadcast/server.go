package broadcast

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// Server is one broadcast node: the set of values it knows, and a link
// to each peer it exchanges values with.
type Server struct {
	n    *node.Node
	opts Options
	// kick wakes the flusher after a handler queued something.
	kick chan struct{}

	mu sync.Mutex
	// Set up on first use, once the node knows its id (see setup).
	self  string
	hub   string
	peers []string // every node but self, in node_ids order
	links map[string]*link
	order []*link // links in creation order, for a repeatable poll order
	// seen holds the compact JSON of every value known.
	seen map[string]struct{}
	// list is the JSON array of the known values without its closing
	// bracket, kept up to date so that a read costs one copy.
	list []byte
	// planned is when the flusher will next look at the links by itself
	// (zero: not before it is woken); handlers wake it only for earlier
	// deadlines.
	planned time.Time
}

// Register wires a broadcast server with the default options (efficient
// mode) onto n and returns it.
func Register(n *node.Node) *Server { return RegisterWith(n, Options{}) }

// RegisterWith wires a broadcast server onto n: handlers for topology,
// broadcast, read and the node-to-node gossip messages, and a background
// flusher that sends batches, acknowledgements and retransmissions. Call
// it before n runs.
func RegisterWith(n *node.Node, opts Options) *Server {
	s := &Server{
		n:    n,
		opts: opts.withDefaults(),
		kick: make(chan struct{}, 1),
		seen: map[string]struct{}{},
		list: []byte{'['},
	}
	n.Handle("topology", s.handleTopology)
	n.Handle("broadcast", s.handleBroadcast)
	n.Handle("read", s.handleRead)
	// Batches are applied in arrival order, before any later message is
	// handled, so a read delivered right behind a batch sees its values.
	n.HandleInline("gossip", s.handleGossip)
	n.Go(s.flusher)
	return s
}

// Mode returns the mode the server runs in.
func (s *Server) Mode() Mode { return s.opts.Mode }

// Values returns the JSON encodings of every value the server knows, in
// the order it learned them.
func (s *Server) Values() []json.RawMessage {
	s.mu.Lock()
	list := append(bytes.Clone(s.list), ']')
	s.mu.Unlock()
	var vs []json.RawMessage
	_ = json.Unmarshal(list, &vs) // list is always a valid array
	return vs
}

// handleTopology acknowledges the suggested topology and ignores it: the
// mode decides who talks to whom.
func (s *Server) handleTopology(msg node.Message) error {
	return s.n.Reply(msg, node.Body{Type: "topology_ok"})
}

// handleBroadcast learns a client's value and acknowledges it at once:
// the value is safe from then on, since the node retransmits it until
// every peer it goes to has acknowledged it.
func (s *Server) handleBroadcast(msg node.Message) error {
	var req struct {
		Message json.RawMessage `json:"message"`
	}
	if err := msg.Unmarshal(&req); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	if len(req.Message) == 0 {
		return node.NewRPCError(node.MalformedRequest, `broadcast without "message"`)
	}
	v, ok := integer(req.Message)
	if !ok {
		return node.Errorf(node.MalformedRequest, "broadcast: message must be an integer, got %.100s", req.Message)
	}
	s.mu.Lock()
	s.setup()
	queued := s.learn(v, "")
	s.mu.Unlock()
	if queued {
		s.wake()
	}
	return s.n.Reply(msg, node.Body{Type: "broadcast_ok"})
}

// readOK is the reply to read: exactly the keys the workload's schema
// allows.
type readOK struct {
	Type     string          `json:"type"`
	Messages json.RawMessage `json:"messages"`
}

// handleRead returns every value known, as a JSON array.
func (s *Server) handleRead(msg node.Message) error {
	s.mu.Lock()
	list := make([]byte, len(s.list)+1)
	copy(list, s.list)
	s.mu.Unlock()
	list[len(list)-1] = ']'
	return s.n.Reply(msg, readOK{Type: "read_ok", Messages: list})
}

// handleGossip merges a peer's batch and acknowledgement.
func (s *Server) handleGossip(msg node.Message) error {
	var g gossip
	if err := msg.Unmarshal(&g); err != nil {
		// Answered only if it carries a msg_id; logged either way.
		return node.Errorf(node.MalformedRequest, "broadcast: malformed gossip from %s: %v", msg.Src, err)
	}
	s.mu.Lock()
	s.setup()
	now, t := time.Now(), s.timing()
	l := s.link(msg.Src)
	l.receive(&g, now, t)
	soon := s.dueSoon(l)
	for id, n := range g.Relay { // from the hub: acks from other nodes
		if id != s.self {
			s.link(id).acknowledged(n)
		}
	}
	for id, n := range g.Acks { // to the hub: acks to pass on
		switch id {
		case s.self:
			l.acknowledged(n)
		case msg.Src:
		default:
			r := s.link(id)
			r.queueRelay(msg.Src, n, now, t)
			soon = soon || s.dueSoon(r)
		}
	}
	for _, v := range g.Values {
		// Values from peers were compacted by their first node.
		soon = s.learn(v, msg.Src) || soon
	}
	s.mu.Unlock()
	if soon {
		s.wake()
	}
	// Peers send gossip without a msg_id; anyone who adds one is
	// answered rather than left waiting (Reply sends nothing otherwise).
	return s.n.Reply(msg, node.Body{Type: "gossip_ok"})
}

// dueSoon reports whether l needs polling before the flusher's planned
// wake-up. The caller holds mu.
func (s *Server) dueSoon(l *link) bool {
	due := l.nextPoll(s.opts.RetransmitTimeout)
	return !due.IsZero() && (s.planned.IsZero() || due.Before(s.planned))
}

// setup fills in the node's identity and routing on first use; handlers
// run only after init, so the ids are known. The caller holds mu.
func (s *Server) setup() {
	if s.links != nil {
		return
	}
	s.self = s.n.ID()
	ids := s.n.NodeIDs()
	s.hub = s.self
	if len(ids) > 0 {
		s.hub = ids[0]
	}
	for _, id := range ids {
		if id != s.self {
			s.peers = append(s.peers, id)
		}
	}
	s.links = map[string]*link{}
}

// link returns the link to peer, creating it on first use. The caller
// holds mu.
func (s *Server) link(peer string) *link {
	if l, ok := s.links[peer]; ok {
		return l
	}
	l := &link{peer: peer}
	// Batch where batching pays: on every link in fast mode, on the
	// hub's links in efficient mode. A node's values go to the hub at
	// once, since a wait there would add to every value's latency.
	if s.opts.Mode == Fast || s.self == s.hub {
		l.interval = s.opts.FlushInterval
	}
	s.links[peer] = l
	s.order = append(s.order, l)
	return l
}

// learn adds v, the compact JSON encoding of a value that came from peer
// from ("" for a client), and queues it for the peers the mode routes it
// to. It reports whether v was new and queued anywhere. The caller holds
// mu.
func (s *Server) learn(v json.RawMessage, from string) bool {
	if _, ok := s.seen[string(v)]; ok {
		return false
	}
	s.seen[string(v)] = struct{}{}
	if len(s.list) > 1 {
		s.list = append(s.list, ',')
	}
	s.list = append(s.list, v...)
	targets := s.routes(from)
	for _, p := range targets {
		s.link(p).enqueue(v)
	}
	return len(targets) > 0
}

// routes lists the peers a value learned from from ("" for a client)
// goes to. Fast: a client's value goes to every peer, and nothing is
// forwarded. Efficient: the hub forwards every value to everyone but its
// source, any other node sends what did not come from the hub to the hub.
func (s *Server) routes(from string) []string {
	switch {
	case s.opts.Mode == Fast:
		if from == "" {
			return s.peers
		}
		return nil
	case s.self == s.hub:
		out := make([]string, 0, len(s.peers))
		for _, p := range s.peers {
			if p != from {
				out = append(out, p)
			}
		}
		return out
	case from != s.hub:
		return []string{s.hub}
	}
	return nil
}

// timing returns the acknowledgement settings; the hub may hold a
// relayed acknowledgement for half the AckDelay.
func (s *Server) timing() timing {
	return timing{ackDelay: s.opts.AckDelay, relayDelay: s.opts.AckDelay / 2, rto: s.opts.RetransmitTimeout}
}

// wake tells the flusher to look at the links again.
func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// outgoing is a message the flusher sends after releasing the lock.
type outgoing struct {
	dest string
	body *gossip
}

// poll collects what every link must send at now and the earliest
// instant something else falls due (zero: nothing scheduled).
//
// Acknowledgements that fall due with no batch to ride on are bundled:
// a node other than the hub sends them all to the hub in one message,
// and the hub passes each on with its next message to the node it
// concerns. When everyone falls quiet at the end of a run this costs
// about two messages per node instead of one per pair of nodes.
func (s *Server) poll(now time.Time) (out []outgoing, next time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.planned = next }()
	later := func(due time.Time) {
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	t := s.timing()
	bundle := false
	for _, l := range s.order {
		delegate := s.self != s.hub && l.peer != s.hub
		g, due, delegated := l.poll(now, t, delegate)
		if g != nil {
			out = append(out, outgoing{dest: l.peer, body: g})
		}
		bundle = bundle || delegated
		later(due)
	}
	if !bundle {
		return out, next
	}
	// Bundle every acknowledgement owed, due or not, since a message goes
	// to the hub anyway, and attach the bundle to the hub's message. The
	// links' next polls computed above may be early now; that costs one
	// empty poll.
	acks := map[string]int{}
	for _, l := range s.order {
		if l.peer == s.hub {
			continue
		}
		if l.in.Owed() {
			acks[l.peer] = l.in.Next
			l.in.Acked()
		}
	}
	hub := s.link(s.hub)
	for _, o := range out {
		if o.dest == s.hub {
			o.body.Acks = acks
			return out, next
		}
	}
	g := &gossip{Type: "gossip", Ack: hub.in.Next, Acks: acks}
	hub.in.AckDue = time.Time{}
	return append(out, outgoing{dest: s.hub, body: g}), next
}

// flusher is the one goroutine that sends node-to-node messages, so
// batches on a link leave in stream order. It sleeps until the next
// deadline of any link or until a handler wakes it, and stops with the
// node.
func (s *Server) flusher(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		now := time.Now()
		out, next := s.poll(now)
		for _, o := range out {
			if err := s.n.Send(o.dest, o.body); err != nil {
				s.n.Logf("broadcast: send to %s: %v", o.dest, err)
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

// integer returns the canonical encoding of v, a JSON value, when it is
// an integer literal (any number of digits, no fraction, no exponent: 1.0
// and 1e3 are not integers to the bench), which is how the server
// recognises a value it already knows; ok is false for anything else.
func integer(v json.RawMessage) (json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	digits := bytes.TrimPrefix(v, []byte("-"))
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return nil, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	if string(v) == "-0" {
		return json.RawMessage("0"), true
	}
	return bytes.Clone(v), true
}
