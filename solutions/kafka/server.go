package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// syncType is the body type of the node-to-node sync message.
const syncType = "kafka_sync"

// Register wires the kafka log onto n with the default Options: handlers
// for send, poll, commit_offsets and list_committed_offsets, the sync
// message between nodes, and a sync loop started at init.
func Register(n *node.Node) { RegisterWith(n, Options{}) }

// RegisterWith is Register with explicit Options.
func RegisterWith(n *node.Node, opts Options) {
	s := &server{
		n:        n,
		opts:     opts.withDefaults(),
		keys:     map[string]*keyState{},
		progress: make(chan struct{}),
	}
	n.Handle("send", s.send)
	n.Handle("poll", s.poll)
	n.Handle("commit_offsets", s.commitOffsets)
	n.Handle("list_committed_offsets", s.listCommittedOffsets)
	n.HandleInline(syncType, s.receiveSync)
	n.Handle("init", func(node.Message) error {
		if err := s.init(); err != nil {
			return err
		}
		if len(s.peers) > 0 {
			n.Every(s.opts.SyncInterval, s.sendDueSyncs)
		}
		return nil
	})
}

// entry is one message of a key's log.
type entry struct {
	off int64
	msg json.RawMessage
}

// keyState is everything a node knows about one key.
type keyState struct {
	log []entry // every entry known here, by increasing offset

	// clock is the node's logical clock for the key: every offset this
	// node assigns to the key from now on is at least clock·N.
	clock int64
	// floor[p] is a lower bound on peer p's clock for the key, learnt so
	// that every entry p assigned below floor[p]·N is already in log.
	floor []int64

	committed    int64 // the highest committed offset known
	hasCommitted bool
}

// visible returns the watermark of the key: every offset below it that
// will ever exist is already in the log, so polls may show them.
func (k *keyState) visible(nodes int64) int64 {
	w := k.clock
	for _, f := range k.floor {
		w = min(w, f)
	}
	return w * nodes
}

// insert adds e to the log, keeping it sorted; an offset already present
// is left alone (offsets are unique, so it is the same entry).
func (k *keyState) insert(e entry) {
	i := len(k.log)
	for i > 0 && k.log[i-1].off > e.off {
		i--
	}
	if i > 0 && k.log[i-1].off == e.off {
		return
	}
	k.log = slices.Insert(k.log, i, e)
}

// op is one replicated change, as a sync message carries it.
type op struct {
	Kind opKind          `json:"t,omitempty"`
	K    string          `json:"k"`
	O    int64           `json:"o"`
	M    json.RawMessage `json:"m,omitempty"`
}

// opKind says what an op means.
type opKind int

const (
	// opAppend: message M was appended to key K at offset O.
	opAppend opKind = iota
	// opCommit: offset O of key K was committed.
	opCommit
	// opClock: the sender's clock for key K reached O. A node announces
	// the clock it raised on learning another node's entry, so that a
	// third node learns that the sender will assign nothing below it.
	opClock
)

// peer is the replication state of the link to one other node.
type peer struct {
	id string

	pending  []op  // ops not yet acknowledged by the peer, oldest first
	first    int64 // sequence number of pending[0] (ops are numbered 1, 2, …)
	sent     int64 // the highest sequence number sent so far
	lastSend time.Time

	recv int64 // every op of the peer up to this number has been applied
	// owed: since our last sync to it, the peer sent new ops, asked for
	// a barrier, or retried (our answer may have been lost): it waits
	// for an answer.
	owed bool

	want  int64 // the highest barrier number the peer asked us for
	got   int64 // the highest of our barrier numbers the peer answered
	asked int64 // the highest of our barrier numbers sent to the peer
}

// server is one node of the log.
type server struct {
	n    *node.Node
	opts Options

	mu    sync.Mutex
	self  int64 // index of this node in node_ids: offsets ≡ self mod nodes
	nodes int64
	peers []*peer
	keys  map[string]*keyState

	barrier  int64         // barrier numbers issued by list_committed_offsets
	progress chan struct{} // closed (and replaced) when a peer answers a barrier
}

// init reads the node's place among the nodes.
func (s *server) init() error {
	ids := s.n.NodeIDs()
	i := slices.Index(ids, s.n.ID())
	if i < 0 {
		return node.Errorf(node.MalformedRequest, "node id %q is not among node_ids %q", s.n.ID(), ids)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.self, s.nodes = int64(i), int64(len(ids))
	for _, id := range ids {
		if id != s.n.ID() {
			s.peers = append(s.peers, &peer{id: id, first: 1})
		}
	}
	return nil
}

// key returns the state of key k, creating it. Callers hold s.mu.
func (s *server) key(k string) *keyState {
	ks := s.keys[k]
	if ks == nil {
		ks = &keyState{floor: make([]int64, len(s.peers))}
		s.keys[k] = ks
	}
	return ks
}

// record queues o for every peer. Callers hold s.mu.
func (s *server) record(o op) {
	for _, p := range s.peers {
		p.pending = append(p.pending, o)
	}
}

func (s *server) send(msg node.Message) error {
	var body struct {
		Key *string         `json:"key"`
		Msg json.RawMessage `json:"msg"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	if body.Key == nil || body.Msg == nil {
		return node.NewRPCError(node.MalformedRequest, "send needs a string key and a msg")
	}
	s.mu.Lock()
	ks := s.key(*body.Key)
	off := ks.clock*s.nodes + s.self
	ks.clock++
	ks.log = append(ks.log, entry{off: off, msg: body.Msg}) // above every known offset: clock passed them all
	s.record(op{K: *body.Key, O: off, M: body.Msg})
	s.mu.Unlock()
	return s.n.Reply(msg, struct {
		node.Body
		Offset int64 `json:"offset"`
	}{node.Body{Type: "send_ok"}, off})
}

func (s *server) poll(msg node.Message) error {
	var body struct {
		Offsets map[string]int64 `json:"offsets"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	keys := make([]string, 0, len(body.Offsets))
	for k := range body.Offsets {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var b bytes.Buffer
	b.WriteString(`{"type":"poll_ok","msgs":{`)
	firstKey := true
	s.mu.Lock()
	for _, k := range keys {
		ks := s.keys[k]
		if ks == nil {
			continue
		}
		from, upto := body.Offsets[k], ks.visible(s.nodes)
		i := sort.Search(len(ks.log), func(i int) bool { return ks.log[i].off >= from })
		if i == len(ks.log) || ks.log[i].off >= upto {
			continue
		}
		if !firstKey {
			b.WriteByte(',')
		}
		firstKey = false
		name, err := json.Marshal(k)
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("kafka: encoding key %q: %w", k, err)
		}
		b.Write(name)
		b.WriteString(":[")
		for j := i; j < len(ks.log) && ks.log[j].off < upto; j++ {
			if j > i {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			b.WriteString(strconv.FormatInt(ks.log[j].off, 10))
			b.WriteByte(',')
			b.Write(ks.log[j].msg)
			b.WriteByte(']')
		}
		b.WriteByte(']')
	}
	s.mu.Unlock()
	b.WriteString("}}")
	return s.n.Reply(msg, json.RawMessage(b.Bytes()))
}

func (s *server) commitOffsets(msg node.Message) error {
	var body struct {
		Offsets map[string]int64 `json:"offsets"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	s.mu.Lock()
	for k, o := range body.Offsets {
		ks := s.key(k)
		if ks.hasCommitted && ks.committed >= o {
			continue
		}
		ks.committed, ks.hasCommitted = o, true
		s.record(op{Kind: opCommit, K: k, O: o})
	}
	s.mu.Unlock()
	return s.n.Reply(msg, node.Body{Type: "commit_offsets_ok"})
}

// listCommittedOffsets answers from this node's committed offsets once
// every peer has answered a barrier issued after the request arrived: the
// peer's answer carries every commit it acknowledged before it saw the
// barrier, so the list includes every commit acknowledged anywhere before
// the request.
func (s *server) listCommittedOffsets(msg node.Message) error {
	var body struct {
		Keys []string `json:"keys"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	if err := s.awaitBarrier(); err != nil {
		return err
	}
	offsets := map[string]int64{}
	s.mu.Lock()
	for _, k := range body.Keys {
		if ks := s.keys[k]; ks != nil && ks.hasCommitted {
			offsets[k] = ks.committed
		}
	}
	s.mu.Unlock()
	return s.n.Reply(msg, struct {
		node.Body
		Offsets map[string]int64 `json:"offsets"`
	}{node.Body{Type: "list_committed_offsets_ok"}, offsets})
}

// awaitBarrier issues a barrier and waits until every peer has answered
// it, at most opts.ListTimeout. The next sync to each peer carries it.
func (s *server) awaitBarrier() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.peers) == 0 {
		return nil
	}
	s.barrier++
	b := s.barrier
	timer := time.NewTimer(s.opts.ListTimeout)
	defer timer.Stop()
	for {
		done := true
		for _, p := range s.peers {
			done = done && p.got >= b
		}
		if done {
			return nil
		}
		progress := s.progress
		s.mu.Unlock()
		select {
		case <-progress:
			s.mu.Lock()
		case <-timer.C: // also ends the wait when the node stops: no sync arrives then
			s.mu.Lock()
			return node.Errorf(node.TemporarilyUnavailable, "no answer from every peer within %v: committed offsets may be stale", s.opts.ListTimeout)
		}
	}
}

// syncBody is the message nodes exchange.
type syncBody struct {
	node.Body
	First int64 `json:"first"`          // sequence number of Ops[0]
	Ops   []op  `json:"ops,omitempty"`  // every op not yet acknowledged
	Ack   int64 `json:"ack"`            // the receiver's ops up to Ack are applied
	Want  int64 `json:"want,omitempty"` // the sender's newest barrier number, while unanswered
	Got   int64 `json:"got,omitempty"`  // the receiver's newest barrier number seen
	// Retry marks a sync sent because an answer is overdue: the
	// receiver answers it even if it brings nothing new, since the
	// answer it sent may have been lost.
	Retry bool `json:"retry,omitempty"`
}

// sendDueSyncs sends the syncs due now; it runs every SyncInterval until
// the node stops.
func (s *server) sendDueSyncs(context.Context) {
	for _, m := range s.dueSyncs(time.Now()) {
		if err := s.n.Send(m.dest, m.body); err != nil {
			s.n.Logf("kafka: sync to %s: %v", m.dest, err)
		}
	}
}

// outgoing is one sync message to send.
type outgoing struct {
	dest string
	body syncBody
}

// dueSyncs builds the sync message of every peer that has something to be
// told, and marks it told.
func (s *server) dueSyncs(now time.Time) []outgoing {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []outgoing
	for _, p := range s.peers {
		last := p.first + int64(len(p.pending)) - 1
		waiting := len(p.pending) > 0 || s.barrier > p.got // for an answer from p
		retry := waiting && now.Sub(p.lastSend) >= s.opts.RetransmitAfter
		if !retry && last <= p.sent && !p.owed && s.barrier <= p.asked {
			continue
		}
		body := syncBody{
			Body:  node.Body{Type: syncType},
			First: p.first,
			Ops:   slices.Clone(p.pending),
			Ack:   p.recv,
			Got:   p.want,
			Retry: retry,
		}
		if s.barrier > p.got {
			body.Want = s.barrier
		}
		out = append(out, outgoing{p.id, body})
		p.sent = max(p.sent, last)
		p.lastSend = now
		p.owed = false
		p.asked = s.barrier
	}
	return out
}

// receiveSync applies a peer's sync. It runs inline, so requests that
// arrive after it see its effect.
func (s *server) receiveSync(msg node.Message) error {
	var body syncBody
	if err := msg.Unmarshal(&body); err != nil {
		return fmt.Errorf("kafka: malformed sync from %s: %w", msg.Src, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := slices.IndexFunc(s.peers, func(p *peer) bool { return p.id == msg.Src })
	if pi < 0 {
		return fmt.Errorf("kafka: sync from %s, which is not a peer", msg.Src)
	}
	p := s.peers[pi]
	if body.First > p.recv+1 {
		// A gap: ops we never got come first. Everything unacknowledged
		// travels in every sync, so this cannot happen; ignore it rather
		// than learn a watermark from it.
		return fmt.Errorf("kafka: sync from %s starts at op %d, but only %d were applied", msg.Src, body.First, p.recv)
	}
	before := p.recv
	for i, o := range body.Ops {
		seq := body.First + int64(i)
		if seq <= p.recv {
			continue
		}
		ks := s.key(o.K)
		switch o.Kind {
		case opCommit:
			if !ks.hasCommitted || o.O > ks.committed {
				ks.committed, ks.hasCommitted = o.O, true
			}
		case opClock:
			ks.floor[pi] = max(ks.floor[pi], o.O)
		default:
			ks.insert(entry{off: o.O, msg: o.M})
			c := o.O/s.nodes + 1
			ks.floor[pi] = max(ks.floor[pi], c)
			if c > ks.clock {
				ks.clock = c
				for qi, q := range s.peers {
					if qi != pi {
						q.pending = append(q.pending, op{Kind: opClock, K: o.K, O: c})
					}
				}
			}
		}
		p.recv = seq
	}
	// The peer has applied our ops up to Ack, which moved its clocks past
	// their offsets; the ops it assigned before are the ones just applied.
	if n := body.Ack - p.first + 1; n > 0 {
		n = min(n, int64(len(p.pending)))
		for _, o := range p.pending[:n] {
			if o.Kind == opAppend {
				ks := s.key(o.K)
				ks.floor[pi] = max(ks.floor[pi], o.O/s.nodes+1)
			}
		}
		p.pending = slices.Delete(p.pending, 0, int(n))
		p.first += n
	}
	p.owed = p.owed || p.recv > before || body.Want > 0 || body.Retry
	p.want = max(p.want, body.Want)
	if body.Got > p.got {
		p.got = body.Got
		close(s.progress)
		s.progress = make(chan struct{})
	}
	// Peers send syncs without a msg_id; anyone who adds one is answered
	// rather than left waiting (Reply sends nothing otherwise).
	return s.n.Reply(msg, node.Body{Type: syncType + "_ok"})
}
