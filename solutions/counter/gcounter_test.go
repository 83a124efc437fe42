package counter_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/counter"
)

// kvRequest is a request the node sent to seq-kv.
type kvRequest struct {
	Type  string          `json:"type"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	MsgID int             `json:"msg_id"`
}

// fakeSeqKV plays seq-kv by hand against one node.
type fakeSeqKV struct {
	t *testing.T
	c *nodetest.Conn
}

// expect receives the node's next message, which must be a seq-kv request
// of the given type and key.
func (s fakeSeqKV) expect(typ, key string) kvRequest {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := s.c.Recv(ctx)
	if err != nil {
		s.t.Fatalf("waiting for %s %s: %v", typ, key, err)
	}
	var req kvRequest
	if err := m.Unmarshal(&req); err != nil {
		s.t.Fatal(err)
	}
	if m.Dest != node.SeqKV || req.Type != typ || req.Key != key {
		s.t.Fatalf("node sent %s to %s, want %s %s to seq-kv", m.Body, m.Dest, typ, key)
	}
	return req
}

// reply answers req with body.
func (s fakeSeqKV) reply(req kvRequest, body map[string]any) {
	s.t.Helper()
	body["in_reply_to"] = req.MsgID
	if err := s.c.Send(node.SeqKV, body); err != nil {
		s.t.Fatal(err)
	}
}

// quiet fails unless the node sends nothing more for d.
func (s fakeSeqKV) quiet(d time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := s.c.Recv(ctx); err == nil {
		s.t.Fatalf("node sent %s to %s, want silence", m.Body, m.Dest)
	}
}

// entryOf decodes a written value.
func entryOf(t *testing.T, raw json.RawMessage) (total, seq int64) {
	t.Helper()
	var e struct{ Total, Seq *int64 }
	if err := json.Unmarshal(raw, &e); err != nil || e.Total == nil || e.Seq == nil {
		t.Fatalf("written value %s is not {total, seq}: %v", raw, err)
	}
	return *e.Total, *e.Seq
}

type result struct {
	value int64
	err   error
}

// asyncRead starts a client read and returns where its value will arrive.
func asyncRead(c *nodetest.Conn, client string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		m, err := c.Call(context.Background(), client, map[string]any{"type": "read"})
		if err == nil && m.Type() != "read_ok" {
			err = m.RPCError()
		}
		var body struct{ Value int64 }
		if err == nil {
			err = m.Unmarshal(&body)
		}
		ch <- result{body.Value, err}
	}()
	return ch
}

func add(t *testing.T, c *nodetest.Conn, delta int64) node.Message {
	t.Helper()
	m, err := c.Call(context.Background(), "c1", map[string]any{"type": "add", "delta": delta})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expectReads receives the node's next len(keys) messages, which must be
// seq-kv reads of exactly those keys, in any order: a sync reads every
// peer at once. It fails unless all were sent at the same instant, before
// any of them was answered.
func (s fakeSeqKV) expectReads(keys ...string) map[string]kvRequest {
	s.t.Helper()
	t0 := time.Now()
	got := map[string]kvRequest{}
	for range keys {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m, err := s.c.Recv(ctx)
		cancel()
		if err != nil {
			s.t.Fatalf("waiting for reads of %v: %v (got %d)", keys, err, len(got))
		}
		var req kvRequest
		if err := m.Unmarshal(&req); err != nil {
			s.t.Fatal(err)
		}
		if m.Dest != node.SeqKV || req.Type != "read" {
			s.t.Fatalf("node sent %s to %s, want reads of %v", m.Body, m.Dest, keys)
		}
		got[req.Key] = req
	}
	if d := time.Since(t0); d != 0 {
		s.t.Errorf("the reads of %v went out over %v, want all at once", keys, d)
	}
	for _, k := range keys {
		if _, ok := got[k]; !ok {
			s.t.Fatalf("reads %v, want one of each of %v", got, keys)
		}
	}
	return got
}

// pending fails if ch already holds a result: the read must still wait.
func pending(t *testing.T, ch <-chan result, why string) {
	t.Helper()
	synctest.Wait()
	select {
	case r := <-ch:
		t.Fatalf("read answered %d, %v; want it still waiting: %s", r.value, r.err, why)
	default:
	}
}

// startCounter starts a g-counter node initialised as id among ids and
// returns its connection and the hand-played seq-kv it talks to.
func startCounter(t *testing.T, id string, ids []string) (*nodetest.Conn, fakeSeqKV) {
	t.Helper()
	n := node.New(node.WithLogOutput(t.Output()))
	counter.Register(n)
	c := nodetest.Start(t, n)
	c.Init(id, ids)
	return c, fakeSeqKV{t, c}
}

// The sync protocol, step by step, against a hand-played seq-kv.
func TestGCounterSyncWritesFirstThenReadsPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, kv := startCounter(t, "n0", []string{"n0", "n1", "n2"})

		// Adds are acknowledged at once, without touching seq-kv.
		if m := add(t, c, 3); m.Type() != "add_ok" {
			t.Fatalf("add: %s", m.Body)
		}
		if m := add(t, c, -1); node.ErrorCode(m.RPCError()) != node.MalformedRequest {
			t.Fatalf("a negative delta should be refused with malformed-request, got %s", m.Body)
		}

		// A read with no fresh view waits for a sync: first a write of
		// our total (which moves us to seq-kv's newest state), then, once
		// it is acknowledged, one read per peer, all at once.
		got := asyncRead(c, "c2")
		w := kv.expect("write", "g-counter/n0")
		if total, seq := entryOf(t, w.Value); total != 3 || seq != 1 {
			t.Fatalf("first write holds total %d seq %d, want 3 and 1", total, seq)
		}
		kv.quiet(time.Second) // no read before the write is acknowledged
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs := kv.expectReads("g-counter/n1", "g-counter/n2")
		kv.reply(rs["g-counter/n1"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 5, "seq": 9}})
		pending(t, got, "n2 has not answered")
		kv.reply(rs["g-counter/n2"], map[string]any{"type": "error", "code": node.KeyDoesNotExist, "text": "key does not exist"})
		if r := <-got; r.err != nil || r.value != 8 {
			t.Fatalf("read after sync = %d, %v; want 3 + 5 + 0 = 8", r.value, r.err)
		}

		// Within maxStaleness a read is answered locally, including adds
		// not yet flushed.
		add(t, c, 2)
		if r := <-asyncRead(c, "c2"); r.err != nil || r.value != 10 {
			t.Fatalf("fresh read = %d, %v; want 10", r.value, r.err)
		}

		// The ticker flushes the unflushed add: a write with the new total
		// and a new seq, then the peer reads again. A stale read that
		// returns a smaller total for n1 does not lower the view.
		w = kv.expect("write", "g-counter/n0")
		if total, seq := entryOf(t, w.Value); total != 5 || seq != 2 {
			t.Fatalf("flush holds total %d seq %d, want 5 and 2", total, seq)
		}
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs = kv.expectReads("g-counter/n1", "g-counter/n2")
		kv.reply(rs["g-counter/n2"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 1, "seq": 1}})
		kv.reply(rs["g-counter/n1"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 4, "seq": 8}})
		synctest.Wait()
		if r := <-asyncRead(c, "c2"); r.err != nil || r.value != 11 {
			t.Fatalf("read = %d, %v; want 5 + max(5, 4) + 1 = 11", r.value, r.err)
		}

		// Nothing new: the node stays silent however long it waits.
		kv.quiet(5 * time.Second)

		// While a write is unanswered the node sends nothing else, even
		// when reads ask for a sync: two writes of ours in flight could
		// land out of order. A read that cannot get a fresh view within
		// its budget is refused, never answered from the stale one.
		add(t, c, 1)
		w = kv.expect("write", "g-counter/n0")
		t0 := time.Now()
		r := <-asyncRead(c, "c3")
		if node.ErrorCode(r.err) != node.TemporarilyUnavailable {
			t.Fatalf("read during an unanswered write = %d, %v; want temporarily-unavailable", r.value, r.err)
		}
		if d := time.Since(t0); d < 4*time.Second || d >= 5*time.Second {
			t.Errorf("read refused after %v; want it to wait most of the client's 5 s", d)
		}
		add(t, c, 1)
		kv.quiet(10 * time.Second)
		// A read now waits for the sync after the one under way.
		got = asyncRead(c, "c3")
		synctest.Wait() // the read has arrived before the write is answered
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs = kv.expectReads("g-counter/n1", "g-counter/n2")
		for _, req := range rs {
			kv.reply(req, map[string]any{"type": "read_ok", "value": map[string]any{"total": 0, "seq": 0}})
		}
		pending(t, got, "the sync it saw completing began before the read arrived")
		w = kv.expect("write", "g-counter/n0")
		if total, _ := entryOf(t, w.Value); total != 7 {
			t.Fatalf("second write holds total %d, want 7", total)
		}
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs = kv.expectReads("g-counter/n1", "g-counter/n2")
		kv.reply(rs["g-counter/n1"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 6, "seq": 9}})
		kv.reply(rs["g-counter/n2"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 1, "seq": 1}})
		if r := <-got; r.err != nil || r.value != 14 {
			t.Fatalf("read = %d, %v; want 7 + 6 + 1 = 14", r.value, r.err)
		}
	})
}

// Peer reads have no timeout: seq-kv always answers, and a reply that
// takes longer than a second still counts (here both take 3 s).
func TestGCounterWaitsForSlowPeerReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, kv := startCounter(t, "n0", []string{"n0", "n1", "n2"})
		add(t, c, 3)
		got := asyncRead(c, "c1")
		w := kv.expect("write", "g-counter/n0")
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs := kv.expectReads("g-counter/n1", "g-counter/n2")
		kv.quiet(3 * time.Second) // no timeout, no second attempt
		pending(t, got, "its sync is not complete")
		kv.reply(rs["g-counter/n1"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 5, "seq": 1}})
		kv.reply(rs["g-counter/n2"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 7, "seq": 1}})
		if r := <-got; r.err != nil || r.value != 15 {
			t.Fatalf("read = %d, %v; want 3 + 5 + 7 = 15", r.value, r.err)
		}
	})
}

// A sync that fails does not release the reads waiting for it: the loop
// syncs again, at the next tick, and they are answered from that one.
func TestGCounterFailedSyncIsRetriedForWaitingReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, kv := startCounter(t, "n0", []string{"n0", "n1", "n2"})
		add(t, c, 3)
		got := asyncRead(c, "c1")
		w := kv.expect("write", "g-counter/n0")
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs := kv.expectReads("g-counter/n1", "g-counter/n2")
		kv.reply(rs["g-counter/n1"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 5, "seq": 1}})
		kv.reply(rs["g-counter/n2"], map[string]any{"type": "error", "code": node.Crash, "text": "boom"})
		pending(t, got, "its sync failed")
		t0 := time.Now()
		w = kv.expect("write", "g-counter/n0")
		if d := time.Since(t0); d > 500*time.Millisecond {
			t.Errorf("retry after %v, want it at the next tick", d)
		}
		if total, seq := entryOf(t, w.Value); total != 3 || seq != 2 {
			t.Fatalf("retry writes total %d seq %d, want 3 and 2", total, seq)
		}
		kv.reply(w, map[string]any{"type": "write_ok"})
		rs = kv.expectReads("g-counter/n1", "g-counter/n2")
		kv.reply(rs["g-counter/n1"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 5, "seq": 1}})
		kv.reply(rs["g-counter/n2"], map[string]any{"type": "read_ok", "value": map[string]any{"total": 7, "seq": 1}})
		if r := <-got; r.err != nil || r.value != 15 {
			t.Fatalf("read = %d, %v; want 3 + 5 + 7 = 15", r.value, r.err)
		}
		kv.quiet(5 * time.Second) // served: nothing more to do
	})
}

// An idle node asked for a read after a long quiet spell still writes
// first: with nothing new to add, the write changes only seq, which is
// what lets seq-kv serve the following reads from its newest state.
func TestGCounterIdleReadStillWritesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, kv := startCounter(t, "n1", []string{"n0", "n1"})
		var lastSeq int64
		for round := range 3 {
			got := asyncRead(c, "c1")
			w := kv.expect("write", "g-counter/n1")
			total, seq := entryOf(t, w.Value)
			if total != 0 || seq <= lastSeq {
				t.Fatalf("round %d: wrote total %d seq %d after seq %d; want total 0 and a larger seq", round, total, seq, lastSeq)
			}
			lastSeq = seq
			kv.reply(w, map[string]any{"type": "write_ok"})
			r := kv.expect("read", "g-counter/n0")
			kv.reply(r, map[string]any{"type": "read_ok", "value": map[string]any{"total": 7 * (round + 1), "seq": round}})
			if res := <-got; res.err != nil || res.value != int64(7*(round+1)) {
				t.Fatalf("round %d: read %d, %v", round, res.value, res.err)
			}
			time.Sleep(3 * time.Second) // the view goes stale
		}
	})
}
