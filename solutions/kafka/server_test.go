package kafka_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/kafka"
)

// start runs one kafka node named id among ids.
func start(t testing.TB, id string, ids []string) *nodetest.Conn {
	t.Helper()
	n := node.New(node.WithLogOutput(t.Output()))
	kafka.Register(n)
	c := nodetest.Start(t, n)
	c.Init(id, ids)
	return c
}

// call sends body from client src and returns the reply body, failing the
// test on error replies.
func call(t *testing.T, c *nodetest.Conn, src string, body map[string]any) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Call(ctx, src, body)
	if err != nil {
		t.Fatalf("%v: %v", body, err)
	}
	if e := m.RPCError(); e != nil {
		t.Fatalf("%v: error reply %v", body, e)
	}
	var out map[string]any
	if err := json.Unmarshal(m.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sendMsg(t *testing.T, c *nodetest.Conn, key string, msg int) int64 {
	t.Helper()
	r := call(t, c, "c1", map[string]any{"type": "send", "key": key, "msg": msg})
	if r["type"] != "send_ok" {
		t.Fatalf("send: %v", r)
	}
	return int64(r["offset"].(float64))
}

// pollMsgs polls and returns key → [[offset, msg]…] as int64 pairs.
func pollMsgs(t *testing.T, c *nodetest.Conn, offsets map[string]int64) map[string][][2]int64 {
	t.Helper()
	r := call(t, c, "c1", map[string]any{"type": "poll", "offsets": offsets})
	if r["type"] != "poll_ok" {
		t.Fatalf("poll: %v", r)
	}
	out := map[string][][2]int64{}
	for k, v := range r["msgs"].(map[string]any) {
		for _, pair := range v.([]any) {
			p := pair.([]any)
			if len(p) != 2 {
				t.Fatalf("pair %v has %d elements", p, len(p))
			}
			out[k] = append(out[k], [2]int64{int64(p[0].(float64)), int64(p[1].(float64))})
		}
	}
	return out
}

func TestSingleNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := start(t, "n0", []string{"n0"})
		var offs []int64
		for i := 1; i <= 3; i++ {
			offs = append(offs, sendMsg(t, c, "a", 10+i))
		}
		sendMsg(t, c, "b", 99)
		if offs[0] >= offs[1] || offs[1] >= offs[2] {
			t.Fatalf("offsets %v do not increase", offs)
		}
		got := pollMsgs(t, c, map[string]int64{"a": 0, "b": 0, "z": 0})
		want := map[string][][2]int64{
			"a": {{offs[0], 11}, {offs[1], 12}, {offs[2], 13}},
			"b": {{0, 99}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("poll from 0 = %v, want %v (a single node shows its sends at once; empty keys are omitted)", got, want)
		}
		got = pollMsgs(t, c, map[string]int64{"a": offs[1]})
		if want := (map[string][][2]int64{"a": {{offs[1], 12}, {offs[2], 13}}}); !reflect.DeepEqual(got, want) {
			t.Fatalf("poll from %d = %v, want %v", offs[1], got, want)
		}
		if got := pollMsgs(t, c, map[string]int64{}); len(got) != 0 {
			t.Fatalf("empty poll = %v", got)
		}

		call(t, c, "c1", map[string]any{"type": "commit_offsets", "offsets": map[string]any{"a": offs[1]}})
		call(t, c, "c1", map[string]any{"type": "commit_offsets", "offsets": map[string]any{"a": offs[0]}}) // older: ignored
		r := call(t, c, "c2", map[string]any{"type": "list_committed_offsets", "keys": []string{"a", "b"}})
		if want := map[string]any{"a": float64(offs[1])}; !reflect.DeepEqual(r["offsets"], want) {
			t.Fatalf("committed offsets %v, want %v: commits never go back, unknown keys are omitted", r["offsets"], want)
		}

		// A single node has nobody to talk to.
		time.Sleep(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if m, err := c.Recv(ctx); err == nil {
			t.Fatalf("single node sent %s to %s", m.Body, m.Dest)
		}
	})
}

func TestMalformedRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := start(t, "n0", []string{"n0"})
		for _, body := range []map[string]any{
			{"type": "send", "key": 5, "msg": 1},
			{"type": "send", "key": "a"},
			{"type": "poll", "offsets": []int{1}},
			{"type": "commit_offsets", "offsets": map[string]any{"a": "x"}},
			{"type": "list_committed_offsets", "keys": "a"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			m, err := c.Call(ctx, "c1", body)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if e := m.RPCError(); e == nil || e.Code != node.MalformedRequest {
				t.Errorf("%v: reply %s, want malformed-request", body, m.Body)
			}
		}
	})
}

// nextSync receives the next message c's node sent, which must be a sync
// to dest, and returns it.
func nextSync(t *testing.T, c *nodetest.Conn, dest string) node.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("waiting for a sync to %s: %v", dest, err)
	}
	if m.Dest != dest || m.Type() != "kafka_sync" {
		t.Fatalf("got %s to %s, want a kafka_sync to %s", m.Body, m.Dest, dest)
	}
	return m
}

// deliver hands m to the node behind c.
func deliver(t *testing.T, c *nodetest.Conn, m node.Message) {
	t.Helper()
	if err := c.Send(m.Src, m.Body); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
}

// quiet fails if c's node sends anything within d.
func quiet(t *testing.T, c *nodetest.Conn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.Recv(ctx); err == nil {
		t.Fatalf("node sent %s to %s, want silence", m.Body, m.Dest)
	}
}

// TestTwoNodesWatermark steps two nodes by hand: a message becomes
// visible to polls only once no smaller offset can appear, one sync in
// each direction makes it visible everywhere, and idle nodes fall silent.
func TestTwoNodesWatermark(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"n0", "n1"}
		c0, c1 := start(t, "n0", ids), start(t, "n1", ids)

		o0 := sendMsg(t, c0, "k", 1)
		o1 := sendMsg(t, c1, "k", 2) // concurrent: neither knows the other's
		if o0 == o1 {
			t.Fatalf("both nodes assigned offset %d", o0)
		}
		// Neither may show its own message yet: the other may still
		// assign a smaller offset.
		if got := pollMsgs(t, c0, map[string]int64{"k": 0}); len(got) != 0 {
			t.Fatalf("n0 showed %v before hearing from n1", got)
		}

		s0 := nextSync(t, c0, "n1")
		s1 := nextSync(t, c1, "n0")
		deliver(t, c1, s0)
		deliver(t, c0, s1)
		want := map[string][][2]int64{"k": {{o0, 1}, {o1, 2}}}
		if o1 < o0 {
			want = map[string][][2]int64{"k": {{o1, 2}, {o0, 1}}}
		}
		for _, c := range []*nodetest.Conn{c0, c1} {
			if got := pollMsgs(t, c, map[string]int64{"k": 0}); !reflect.DeepEqual(got, want) {
				t.Fatalf("after one sync each way: %v, want %v", got, want)
			}
		}
		// Each owes the other an acknowledgement; after that, silence.
		deliver(t, c1, nextSync(t, c0, "n1"))
		deliver(t, c0, nextSync(t, c1, "n0"))
		quiet(t, c0, 3*time.Second)
		quiet(t, c1, 3*time.Second)

		// A send on n0 alone: n1 sees it on the first sync, n0 once n1
		// acknowledges it.
		o2 := sendMsg(t, c0, "k", 3)
		if got := pollMsgs(t, c0, map[string]int64{"k": o2}); len(got) != 0 {
			t.Fatalf("n0 showed %v before n1 acknowledged it", got)
		}
		deliver(t, c1, nextSync(t, c0, "n1"))
		if got, want := pollMsgs(t, c1, map[string]int64{"k": o2}), (map[string][][2]int64{"k": {{o2, 3}}}); !reflect.DeepEqual(got, want) {
			t.Fatalf("n1 after the sync: %v, want %v", got, want)
		}
		ack := nextSync(t, c1, "n0")
		var body struct {
			Ops []json.RawMessage `json:"ops"`
		}
		if err := ack.Unmarshal(&body); err != nil || len(body.Ops) != 0 {
			t.Fatalf("acknowledgement %s carries ops (%v)", ack.Body, err)
		}
		deliver(t, c0, ack)
		if got, want := pollMsgs(t, c0, map[string]int64{"k": o2}), (map[string][][2]int64{"k": {{o2, 3}}}); !reflect.DeepEqual(got, want) {
			t.Fatalf("n0 after the acknowledgement: %v, want %v", got, want)
		}
		quiet(t, c0, 3*time.Second)
		quiet(t, c1, 3*time.Second)
	})
}

// TestRetransmit loses a sync: the entries travel again after
// RetransmitAfter, and a duplicate delivery changes nothing.
func TestRetransmit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"n0", "n1"}
		c0, c1 := start(t, "n0", ids), start(t, "n1", ids)
		o := sendMsg(t, c0, "k", 7)
		lost := nextSync(t, c0, "n1") // dropped
		start := time.Now()
		again := nextSync(t, c0, "n1")
		if d := time.Since(start); d < kafka.DefaultRetransmitAfter-kafka.DefaultSyncInterval {
			t.Fatalf("retransmitted after %v, want about %v", d, kafka.DefaultRetransmitAfter)
		}
		deliver(t, c1, again)
		deliver(t, c1, lost) // late duplicate
		want := map[string][][2]int64{"k": {{o, 7}}}
		if got := pollMsgs(t, c1, map[string]int64{"k": 0}); !reflect.DeepEqual(got, want) {
			t.Fatalf("n1: %v, want %v", got, want)
		}
		deliver(t, c0, nextSync(t, c1, "n0"))
		if got := pollMsgs(t, c0, map[string]int64{"k": 0}); !reflect.DeepEqual(got, want) {
			t.Fatalf("n0: %v, want %v", got, want)
		}
	})
}

// TestListSeesCommitsElsewhere: list_committed_offsets on one node waits
// for the other node's answer, so a commit acknowledged there is listed.
func TestListSeesCommitsElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := []string{"n0", "n1"}
		c0, c1 := start(t, "n0", ids), start(t, "n1", ids)
		call(t, c0, "c1", map[string]any{"type": "commit_offsets", "offsets": map[string]any{"k": 4}})
		done := make(chan map[string]any)
		go func() {
			done <- call(t, c1, "c2", map[string]any{"type": "list_committed_offsets", "keys": []string{"k"}})
		}()
		synctest.Wait()
		select {
		case r := <-done:
			t.Fatalf("list answered %v before hearing from n0", r)
		default:
		}
		// n0's commit is on its way; n1 asks n0 for a barrier; n0 answers.
		deliver(t, c1, nextSync(t, c0, "n1"))
		deliver(t, c0, nextSync(t, c1, "n0"))
		deliver(t, c1, nextSync(t, c0, "n1"))
		r := <-done
		if want := map[string]any{"k": float64(4)}; !reflect.DeepEqual(r["offsets"], want) {
			t.Fatalf("list = %v, want %v", r["offsets"], want)
		}
	})
}

// TestListTimesOut: with its peer silent, list_committed_offsets is
// refused with a definite error before the client gives up.
func TestListTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := start(t, "n0", []string{"n0", "n1"})
		go func() { // swallow the syncs to n1
			for {
				if _, err := c.Recv(context.Background()); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m, err := c.Call(ctx, "c1", map[string]any{"type": "list_committed_offsets", "keys": []string{"k"}})
		if err != nil {
			t.Fatal(err)
		}
		if e := m.RPCError(); e == nil || e.Code != node.TemporarilyUnavailable {
			t.Fatalf("reply %s, want temporarily-unavailable", m.Body)
		}
		if d := time.Since(start); d != kafka.DefaultListTimeout {
			t.Fatalf("refused after %v, want %v", d, kafka.DefaultListTimeout)
		}
	})
}
