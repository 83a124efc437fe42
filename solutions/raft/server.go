package raft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/raft/core"
)

// Options tune a node. The zero value means the defaults.
type Options struct {
	// Tick is the period of the core's clock (default 10 ms).
	Tick time.Duration
	// HeartbeatTicks is the number of ticks between heartbeats (default 5).
	HeartbeatTicks int
	// ElectionTicks is the election timeout E in ticks (default 30): a
	// follower campaigns after a random [E, 2E) ticks without a leader.
	ElectionTicks int
	// RequestTimeout bounds how long a request waits for its entry to
	// commit or for a forwarded answer (default 900 ms, under the
	// clients' 1 s).
	RequestTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Tick <= 0 {
		o.Tick = 10 * time.Millisecond
	}
	if o.HeartbeatTicks <= 0 {
		o.HeartbeatTicks = 5
	}
	if o.ElectionTicks <= 0 {
		o.ElectionTicks = 30
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 900 * time.Millisecond
	}
	return o
}

// Register installs a lin-kv Raft node on n with the default options.
func Register(n *node.Node) { RegisterWith(n, Options{}) }

// RegisterWith installs a lin-kv Raft node on n.
func RegisterWith(n *node.Node, opts Options) {
	s := &server{n: n, opts: opts.withDefaults(), kv: map[string]json.RawMessage{},
		proposals: map[uint64]proposal{}, reads: map[uint64]chan error{}}
	n.Handle("init", func(node.Message) error {
		s.start()
		return nil
	})
	for _, t := range []core.MsgType{core.MsgHello, core.MsgHelloResp, core.MsgPreVote, core.MsgPreVoteResp,
		core.MsgVote, core.MsgVoteResp, core.MsgApp, core.MsgAppResp, core.MsgHeartbeat, core.MsgHeartbeatResp} {
		n.HandleInline(string(t), s.onPeer)
	}
	n.Handle("read", s.onClient)
	n.Handle("write", s.onClient)
	n.Handle("cas", s.onClient)
}

// server is one node: the Raft core, the key-value state machine it
// drives, and the requests waiting on either. mu guards everything; it
// is held only for short, non-blocking work, and messages are sent after
// it is released.
type server struct {
	n    *node.Node
	opts Options

	mu        sync.Mutex
	r         *core.Raft // nil before init
	kv        map[string]json.RawMessage
	proposals map[uint64]proposal   // log index → the request waiting on it
	reads     map[uint64]chan error // read id → the request waiting on it
	pending   []core.ReadState      // granted reads whose index is not applied yet
	nextRead  uint64
}

// proposal is a client write or cas waiting for its entry.
type proposal struct {
	term uint64
	done chan result
}

type result struct {
	err error
}

// command is what a log entry carries.
type command struct {
	Op    string          `json:"op"`
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value,omitempty"`
	From  json.RawMessage `json:"from,omitempty"`
	To    json.RawMessage `json:"to,omitempty"`
}

// request is a client's read, write or cas, as Maelstrom's lin-kv sends
// it. Forwarded marks a request one node passed to the leader it knew,
// which must not pass it on again.
type request struct {
	node.Body
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value,omitempty"`
	From      json.RawMessage `json:"from,omitempty"`
	To        json.RawMessage `json:"to,omitempty"`
	Forwarded bool            `json:"forwarded,omitempty"`
}

// start makes the core once the node knows its id and its peers.
func (s *server) start() {
	rnd := newRand(uint64(time.Now().UnixNano()) ^ hashString(s.n.ID()))
	r := core.New(core.Config{
		ID: s.n.ID(), Peers: s.n.NodeIDs(), Incarnation: time.Now().UnixNano(),
		HeartbeatTicks: s.opts.HeartbeatTicks, ElectionTicks: s.opts.ElectionTicks, Rand: rnd.intN,
	})
	s.mu.Lock()
	s.r = r
	msgs := s.readyLocked()
	s.mu.Unlock()
	s.send(msgs)
	s.n.Every(s.opts.Tick, func(context.Context) { s.do(func(r *core.Raft) { r.Tick() }) })
}

// do runs fn on the core under the lock, carries out the Ready and sends
// its messages.
func (s *server) do(fn func(r *core.Raft)) {
	s.mu.Lock()
	if s.r == nil {
		s.mu.Unlock()
		return
	}
	fn(s.r)
	msgs := s.readyLocked()
	s.mu.Unlock()
	s.send(msgs)
}

func (s *server) send(msgs []core.Message) {
	for _, m := range msgs {
		if err := s.n.Send(m.To, m); err != nil {
			s.n.Logf("raft: send %s to %s: %v", m.Type, m.To, err)
		}
	}
}

// readyLocked applies committed entries, answers the requests waiting on
// them and on reads, and returns the messages to send.
func (s *server) readyLocked() []core.Message {
	rd := s.r.Ready()
	for _, e := range rd.Committed {
		err := s.applyLocked(e)
		if p, ok := s.proposals[e.Index]; ok {
			delete(s.proposals, e.Index)
			if p.term != e.Term {
				// Another entry took the index: ours is never committed.
				err = node.NewRPCError(node.TemporarilyUnavailable, "leadership changed before the write committed")
			}
			p.done <- result{err: err}
		}
	}
	for _, id := range rd.DroppedReads {
		if ch, ok := s.reads[id]; ok {
			delete(s.reads, id)
			ch <- node.NewRPCError(node.TemporarilyUnavailable, "leadership changed before the read was confirmed")
		}
	}
	s.pending = append(s.pending, rd.ReadStates...)
	applied := s.r.Status().Applied
	keep := s.pending[:0]
	for _, rs := range s.pending {
		if rs.Index > applied {
			keep = append(keep, rs)
			continue
		}
		if ch, ok := s.reads[rs.ID]; ok {
			delete(s.reads, rs.ID)
			ch <- nil
		}
	}
	s.pending = keep
	return rd.Messages
}

// applyLocked applies one committed entry to the key-value map and
// returns the answer its client gets.
func (s *server) applyLocked(e core.Entry) error {
	if len(e.Data) == 0 {
		return nil // a leader's no-op
	}
	var c command
	if err := json.Unmarshal(e.Data, &c); err != nil {
		return fmt.Errorf("raft: entry %d: %w", e.Index, err)
	}
	key := string(c.Key)
	switch c.Op {
	case "write":
		s.kv[key] = c.Value
	case "cas":
		cur, ok := s.kv[key]
		switch {
		case !ok:
			return node.Errorf(node.KeyDoesNotExist, "key %s does not exist", key)
		case !bytes.Equal(cur, c.From):
			return node.Errorf(node.PreconditionFailed, "key %s holds %s, not %s", key, cur, c.From)
		}
		s.kv[key] = c.To
	}
	return nil
}

// onPeer feeds a Raft message from another node to the core.
func (s *server) onPeer(msg node.Message) error {
	var m core.Message
	if err := msg.Unmarshal(&m); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	m.From, m.To = msg.Src, msg.Dest
	s.do(func(r *core.Raft) { r.Step(m) })
	// Peers send Raft messages without a msg_id; anyone who adds one is
	// answered rather than left waiting (Reply sends nothing otherwise).
	return s.n.Reply(msg, node.Body{Type: string(m.Type) + "_ok"})
}

var errUnavailable = errors.New("no leader")

// onClient serves read, write and cas: on the leader through the log
// (writes, cas) or a read index (reads); on a follower by forwarding to
// the leader it follows; with a definite error 11 when there is no
// leader, or the leader has not heard from a majority lately.
func (s *server) onClient(msg node.Message) error {
	var req request
	if err := msg.Unmarshal(&req); err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	ctx, cancel := context.WithTimeout(s.n.Context(), s.opts.RequestTimeout)
	defer cancel()
	lead, err := s.leader(ctx)
	if err != nil {
		return node.NewRPCError(node.TemporarilyUnavailable, "no leader: "+err.Error())
	}
	if lead != s.n.ID() {
		if req.Forwarded {
			return node.NewRPCError(node.TemporarilyUnavailable, "not the leader")
		}
		return s.forward(ctx, lead, msg, req)
	}
	switch req.Type {
	case "read":
		return s.read(ctx, msg, req)
	default:
		return s.propose(ctx, msg, req)
	}
}

// leader waits, for at most an election timeout, until this node knows
// a leader it heard from recently, and returns it.
func (s *server) leader(ctx context.Context) (string, error) {
	wait := time.Duration(s.opts.ElectionTicks) * s.opts.Tick
	deadline := time.Now().Add(wait)
	for {
		s.mu.Lock()
		var st core.Status
		if s.r != nil {
			st = s.r.Status()
		}
		s.mu.Unlock()
		if st.Lead != "" && st.LeadFresh {
			return st.Lead, nil
		}
		if !time.Now().Before(deadline) {
			return "", errUnavailable
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(s.opts.Tick):
		}
	}
}

// forward passes a request to the leader and relays its answer. A
// forwarded write or cas that gets no answer may still commit, so its
// failure is indefinite; a read's is not.
func (s *server) forward(ctx context.Context, lead string, msg node.Message, req request) error {
	req.Forwarded = true
	req.MsgID = 0
	reply, err := s.n.Call(ctx, lead, req)
	var rpcErr *node.RPCError
	switch {
	case errors.As(err, &rpcErr):
		return rpcErr
	case err != nil && req.Type == "read":
		return node.NewRPCError(node.TemporarilyUnavailable, "the leader did not answer: "+err.Error())
	case err != nil:
		return node.NewRPCError(node.Timeout, "the leader did not answer: "+err.Error())
	}
	return s.n.Reply(msg, json.RawMessage(reply.Body))
}

func (s *server) propose(ctx context.Context, msg node.Message, req request) error {
	c := command{Op: req.Type, Key: req.Key, Value: req.Value, From: req.From, To: req.To}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("raft: encode command: %w", err)
	}
	done := make(chan result, 1)
	var perr error
	var index uint64
	s.do(func(r *core.Raft) {
		var term uint64
		index, term, perr = r.Propose(data)
		if perr == nil {
			s.proposals[index] = proposal{term: term, done: done}
		}
	})
	if perr != nil {
		return node.NewRPCError(node.TemporarilyUnavailable, perr.Error())
	}
	select {
	case res := <-done:
		if res.err != nil {
			return res.err
		}
	case <-ctx.Done():
		s.mu.Lock()
		if p, ok := s.proposals[index]; ok && p.done == done {
			delete(s.proposals, index)
		}
		s.mu.Unlock()
		return node.NewRPCError(node.Timeout, "not committed in time; it may still be")
	}
	return s.n.Reply(msg, node.Body{Type: req.Type + "_ok"})
}

func (s *server) read(ctx context.Context, msg node.Message, req request) error {
	done := make(chan error, 1)
	var rerr error
	var id uint64
	s.do(func(r *core.Raft) {
		s.nextRead++
		id = s.nextRead
		s.reads[id] = done
		if rerr = r.ReadIndex(id); rerr != nil {
			delete(s.reads, id)
		}
	})
	if rerr != nil {
		return node.NewRPCError(node.TemporarilyUnavailable, rerr.Error())
	}
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.reads, id)
		s.mu.Unlock()
		return node.NewRPCError(node.TemporarilyUnavailable, "read not confirmed in time")
	}
	s.mu.Lock()
	v, ok := s.kv[string(req.Key)]
	s.mu.Unlock()
	if !ok {
		return node.Errorf(node.KeyDoesNotExist, "key %s does not exist", req.Key)
	}
	return s.n.Reply(msg, readOK{Body: node.Body{Type: "read_ok"}, Value: v})
}

type readOK struct {
	node.Body
	Value json.RawMessage `json:"value"`
}

// rng is a small splitmix64 generator for election timeouts: the core
// takes its randomness from the caller.
type rng struct{ state uint64 }

func newRand(seed uint64) *rng { return &rng{state: seed} }

func (r *rng) intN(n int) int {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(n))
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
