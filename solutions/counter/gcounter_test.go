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

// The sync protocol, step by step, against a hand-played seq-kv.
func TestGCounterSyncWritesFirstThenReadsPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := node.New(node.WithLogOutput(t.Output()))
		counter.Register(n)
		c := nodetest.Start(t, n)
		c.Init("n0", []string{"n0", "n1", "n2"})
		kv := fakeSeqKV{t, c}

		// Adds are acknowledged at once, without touching seq-kv.
		if m := add(t, c, 3); m.Type() != "add_ok" {
			t.Fatalf("add: %s", m.Body)
		}
		if m := add(t, c, -1); node.ErrorCode(m.RPCError()) != node.MalformedRequest {
			t.Fatalf("a negative delta should be refused with malformed-request, got %s", m.Body)
		}

		// A read with no fresh view waits for a sync: first a write of
		// our total (which moves us to seq-kv's newest state), then one
		// read per peer.
		got := asyncRead(c, "c2")
		w := kv.expect("write", "g-counter/n0")
		if total, seq := entryOf(t, w.Value); total != 3 || seq != 1 {
			t.Fatalf("first write holds total %d seq %d, want 3 and 1", total, seq)
		}
		kv.reply(w, map[string]any{"type": "write_ok"})
		r1 := kv.expect("read", "g-counter/n1")
		kv.reply(r1, map[string]any{"type": "read_ok", "value": map[string]any{"total": 5, "seq": 9}})
		r2 := kv.expect("read", "g-counter/n2")
		kv.reply(r2, map[string]any{"type": "error", "code": node.KeyDoesNotExist, "text": "key does not exist"})
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
		r1 = kv.expect("read", "g-counter/n1")
		kv.reply(r1, map[string]any{"type": "read_ok", "value": map[string]any{"total": 4, "seq": 8}})
		r2 = kv.expect("read", "g-counter/n2")
		kv.reply(r2, map[string]any{"type": "read_ok", "value": map[string]any{"total": 1, "seq": 1}})
		synctest.Wait()
		if r := <-asyncRead(c, "c2"); r.err != nil || r.value != 11 {
			t.Fatalf("read = %d, %v; want 5 + max(5, 4) + 1 = 11", r.value, r.err)
		}

		// Nothing new: the node stays silent however long it waits.
		kv.quiet(5 * time.Second)

		// While a write is unanswered the node sends nothing else, even
		// when reads ask for a sync: two writes of ours in flight could
		// land out of order. The reads give up waiting and answer from
		// what they have.
		add(t, c, 1)
		w = kv.expect("write", "g-counter/n0")
		if r := <-asyncRead(c, "c3"); r.err != nil || r.value != 12 {
			t.Fatalf("read during an unanswered write = %d, %v; want 12", r.value, r.err)
		}
		add(t, c, 1)
		kv.quiet(10 * time.Second)
		kv.reply(w, map[string]any{"type": "write_ok"})
		kv.expect("read", "g-counter/n1")
	})
}

// An idle node asked for a read after a long quiet spell still writes
// first: with nothing new to add, the write changes only seq, which is
// what lets seq-kv serve the following reads from its newest state.
func TestGCounterIdleReadStillWritesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := node.New(node.WithLogOutput(t.Output()))
		counter.Register(n)
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n0", "n1"})
		kv := fakeSeqKV{t, c}
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
