package broadcast_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/broadcast"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]broadcast.Mode{"": broadcast.Efficient, "efficient": broadcast.Efficient, "fast": broadcast.Fast} {
		got, err := broadcast.ParseMode(in)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
		if in != "" && got.String() != in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), in)
		}
	}
	for _, in := range []string{"Fast", "slow", " efficient"} {
		if _, err := broadcast.ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) accepted an unknown mode", in)
		}
	}
}

// start runs a broadcast server in-process as id among ids.
func start(t *testing.T, opts broadcast.Options, id string, ids ...string) (*nodetest.Conn, *broadcast.Server) {
	t.Helper()
	n := node.New(node.WithLogOutput(t.Output()))
	s := broadcast.RegisterWith(n, opts)
	c := nodetest.Start(t, n)
	c.Init(id, ids)
	return c, s
}

// call sends a client request and returns the reply body's keys.
func call(t *testing.T, c *nodetest.Conn, body map[string]any) map[string]json.RawMessage {
	t.Helper()
	m, err := c.Call(context.Background(), "c1", body)
	if err != nil {
		t.Fatalf("%v: %v", body, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(m.Body, &keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

func keysOf(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestRepliesFollowTheSchema checks the exact keys of every reply, since
// the bench rejects extra ones, that integers of any size are messages
// and that anything else is refused as malformed.
func TestRepliesFollowTheSchema(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := start(t, broadcast.Options{}, "n0", "n0")
		r := call(t, c, map[string]any{"type": "topology", "topology": map[string][]string{"n0": {}}})
		if got := keysOf(r); !reflect.DeepEqual(got, []string{"in_reply_to", "type"}) || string(r["type"]) != `"topology_ok"` {
			t.Errorf("topology reply %v", r)
		}
		values := []any{7, json.RawMessage("123456789012345678901234567890"), 7, json.RawMessage("-0"), 0, -8}
		for _, v := range values {
			r := call(t, c, map[string]any{"type": "broadcast", "message": v})
			if got := keysOf(r); !reflect.DeepEqual(got, []string{"in_reply_to", "type"}) || string(r["type"]) != `"broadcast_ok"` {
				t.Errorf("broadcast reply %v", r)
			}
		}
		r = call(t, c, map[string]any{"type": "read"})
		if got := keysOf(r); !reflect.DeepEqual(got, []string{"in_reply_to", "messages", "type"}) || string(r["type"]) != `"read_ok"` {
			t.Errorf("read reply %v", r)
		}
		if want := `[7,123456789012345678901234567890,0,-8]`; string(r["messages"]) != want {
			t.Errorf("messages %s, want %s (each value once, in arrival order)", r["messages"], want)
		}
		bad := map[string]map[string]any{
			"no message": {"type": "broadcast"},
			"null":       {"type": "broadcast", "message": nil},
			"an array":   {"type": "broadcast", "message": []int{1, 2}},
			"a string":   {"type": "broadcast", "message": "x"},
			"a fraction": {"type": "broadcast", "message": 1.5},
			"1.0":        {"type": "broadcast", "message": json.RawMessage("1.0")},
			"1e3":        {"type": "broadcast", "message": json.RawMessage("1e3")},
			"an object":  {"type": "broadcast", "message": map[string]int{"a": 1}},
		}
		for what, body := range bad {
			m, err := c.Call(context.Background(), "c1", body)
			if err != nil {
				t.Fatal(err)
			}
			if e := m.RPCError(); e == nil || e.Code != node.MalformedRequest {
				t.Errorf("broadcast of %s: %s, want a malformed-request error", what, m.Body)
			}
		}
		r = call(t, c, map[string]any{"type": "read"})
		if want := `[7,123456789012345678901234567890,0,-8]`; string(r["messages"]) != want {
			t.Errorf("after refused broadcasts, messages %s, want %s", r["messages"], want)
		}
	})
}

// recvAll collects what the node sends to peers until the bubble has been
// quiet for a while (virtual time).
func recvAll(t *testing.T, c *nodetest.Conn, quiet time.Duration) []node.Message {
	t.Helper()
	var out []node.Message
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		m, err := c.Recv(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

type gossipMsg struct {
	Type   string            `json:"type"`
	From   int               `json:"from"`
	Values []json.RawMessage `json:"values"`
	Ack    int               `json:"ack"`
	Urgent bool              `json:"urgent"`
	Acks   map[string]int    `json:"acks"`
	Relay  map[string]int    `json:"relay"`
}

func decode(t *testing.T, m node.Message) gossipMsg {
	t.Helper()
	var g gossipMsg
	if err := json.Unmarshal(m.Body, &g); err != nil || g.Type != "gossip" {
		t.Fatalf("not a gossip message: %s", m.Body)
	}
	return g
}

func dests(ms []node.Message) []string {
	var ds []string
	for _, m := range ms {
		ds = append(ds, m.Dest)
	}
	sort.Strings(ds)
	return ds
}

var four = []string{"n0", "n1", "n2", "n3"}

// TestEfficientLeafSendsToTheHubAtOnce: a node that is not the hub sends
// its clients' values to the hub only, without waiting, and forwards
// nothing it hears from the hub.
func TestEfficientLeafSendsToTheHubAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := start(t, broadcast.Options{}, "n2", four...)
		begin := time.Now()
		call(t, c, map[string]any{"type": "broadcast", "message": 1})
		m, err := c.Recv(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if g := decode(t, m); m.Dest != "n0" || time.Since(begin) != 0 || string(g.Values[0]) != "1" {
			t.Fatalf("got %s to %s after %v; want value 1 to the hub n0 at once", m.Body, m.Dest, time.Since(begin))
		}
		if err := c.Send("n0", map[string]any{"type": "gossip", "from": 0, "values": []int{5}, "ack": 1}); err != nil {
			t.Fatal(err)
		}
		// Nothing is forwarded; only an acknowledgement to the hub, after
		// AckDelay since nothing else went to the hub meanwhile.
		ms := recvAll(t, c, 10*time.Second)
		if len(ms) != 1 || ms[0].Dest != "n0" {
			t.Fatalf("after hearing from the hub the leaf sent %v", ms)
		}
		if g := decode(t, ms[0]); len(g.Values) != 0 || g.Ack != 1 {
			t.Fatalf("want a pure ack 1 to the hub, got %s", ms[0].Body)
		}
	})
}

// TestEfficientHubBatches: the hub sends a leaf's value to every other
// leaf, and values arriving within FlushInterval of a batch wait for the
// next one.
func TestEfficientHubBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		flush := 300 * time.Millisecond
		c, s := start(t, broadcast.Options{FlushInterval: flush}, "n0", four...)
		if err := c.Send("n1", map[string]any{"type": "gossip", "from": 0, "values": []int{1}, "ack": 0}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		firstAt := time.Now()
		first := recvAll(t, c, time.Millisecond)
		if got := dests(first); !reflect.DeepEqual(got, []string{"n2", "n3"}) {
			t.Fatalf("first batch went to %v, want n2 and n3 (not back to n1)", got)
		}
		// 100 ms after the first batch a client sends 2, and 50 ms later
		// n2 sends 3. Towards n2 and n3 both wait for the next batch,
		// FlushInterval after the first; 2 goes to n1 at once, as nothing
		// went to n1 for a while, so 3 waits for FlushInterval after that.
		type batch struct {
			dest   string
			at     time.Duration
			values string
		}
		var got []batch
		recv := func(n int) {
			for range n {
				m, err := c.Recv(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				vs, _ := json.Marshal(decode(t, m).Values)
				got = append(got, batch{m.Dest, time.Since(firstAt), string(vs)})
			}
		}
		time.Sleep(100*time.Millisecond - time.Since(firstAt))
		call(t, c, map[string]any{"type": "broadcast", "message": 2})
		recv(1)
		time.Sleep(150*time.Millisecond - time.Since(firstAt))
		if err := c.Send("n2", map[string]any{"type": "gossip", "from": 0, "values": []int{3}, "ack": 1}); err != nil {
			t.Fatal(err)
		}
		recv(3)
		want := []batch{
			{"n1", 100 * time.Millisecond, "[2]"},
			{"n2", flush, "[2]"},
			{"n3", flush, "[2,3]"},
			{"n1", 100*time.Millisecond + flush, "[3]"},
		}
		sort.SliceStable(got, func(i, j int) bool {
			return got[i].at < got[j].at || got[i].at == got[j].at && got[i].dest < got[j].dest
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("batches %v, want %v", got, want)
		}
		if vs := s.Values(); len(vs) != 3 {
			t.Errorf("hub knows %s, want 3 values", vs)
		}
	})
}

// TestFastSendsDirectly: in fast mode a client's value goes to every peer
// at once, and values from peers are not forwarded.
func TestFastSendsDirectly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := start(t, broadcast.Options{Mode: broadcast.Fast}, "n1", four...)
		call(t, c, map[string]any{"type": "broadcast", "message": 1})
		synctest.Wait()
		ms := recvAll(t, c, time.Millisecond)
		if got := dests(ms); !reflect.DeepEqual(got, []string{"n0", "n2", "n3"}) {
			t.Fatalf("value went to %v, want every peer", got)
		}
		if err := c.Send("n2", map[string]any{"type": "gossip", "from": 0, "values": []int{9}, "ack": 1}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if ms := recvAll(t, c, time.Millisecond); len(ms) != 0 {
			t.Fatalf("a peer's value was forwarded: %v", ms)
		}
	})
}

// TestRetransmitsUntilAcknowledged: values a peer does not acknowledge
// are sent again, marked urgent, every RetransmitTimeout; an ack stops it.
func TestRetransmitsUntilAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rto := 5 * time.Second
		c, _ := start(t, broadcast.Options{Mode: broadcast.Fast, RetransmitTimeout: rto}, "n1", "n0", "n1", "n2")
		begin := time.Now()
		call(t, c, map[string]any{"type": "broadcast", "message": 1})
		synctest.Wait()
		if got := dests(recvAll(t, c, time.Millisecond)); !reflect.DeepEqual(got, []string{"n0", "n2"}) {
			t.Fatalf("first send went to %v", got)
		}
		// n0 acknowledges; n2 stays silent.
		if err := c.Send("n0", map[string]any{"type": "gossip", "from": 0, "ack": 1}); err != nil {
			t.Fatal(err)
		}
		for round := 1; round <= 2; round++ {
			m, err := c.Recv(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			g := decode(t, m)
			if m.Dest != "n2" || !g.Urgent || g.From != 0 || len(g.Values) != 1 || time.Since(begin) != time.Duration(round)*rto {
				t.Fatalf("round %d: %s to %s after %v; want an urgent resend to n2 after %v", round, m.Body, m.Dest, time.Since(begin), time.Duration(round)*rto)
			}
		}
		if err := c.Send("n2", map[string]any{"type": "gossip", "from": 0, "ack": 1}); err != nil {
			t.Fatal(err)
		}
		if ms := recvAll(t, c, 3*rto); len(ms) != 0 {
			t.Fatalf("kept sending after the ack: %v", ms)
		}
	})
}

// TestAcknowledgementsAreBundledThroughTheHub: a quiet node that owes
// acks to several peers sends one bundle to the hub, and the hub passes
// each ack on to its node.
func TestAcknowledgementsAreBundledThroughTheHub(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := broadcast.Options{Mode: broadcast.Fast, AckDelay: 2 * time.Second}
		c, _ := start(t, opts, "n1", four...)
		for _, p := range []string{"n2", "n3"} {
			if err := c.Send(p, map[string]any{"type": "gossip", "from": 0, "values": []string{p}, "ack": 0}); err != nil {
				t.Fatal(err)
			}
		}
		ms := recvAll(t, c, 5*time.Second)
		if len(ms) != 1 || ms[0].Dest != "n0" {
			t.Fatalf("sent %v, want one bundle to the hub n0", ms)
		}
		if g := decode(t, ms[0]); !reflect.DeepEqual(g.Acks, map[string]int{"n2": 1, "n3": 1}) {
			t.Fatalf("bundle %s, want acks n2:1 n3:1", ms[0].Body)
		}

		hub, _ := start(t, opts, "n0", four...)
		if err := hub.Send("n1", map[string]any{"type": "gossip", "from": 0, "ack": 0, "acks": map[string]int{"n2": 1, "n3": 1}}); err != nil {
			t.Fatal(err)
		}
		relayed := recvAll(t, hub, 5*time.Second)
		if got := dests(relayed); !reflect.DeepEqual(got, []string{"n2", "n3"}) {
			t.Fatalf("hub relayed to %v, want n2 and n3", got)
		}
		for _, m := range relayed {
			if g := decode(t, m); !reflect.DeepEqual(g.Relay, map[string]int{"n1": 1}) {
				t.Errorf("relay to %s: %s, want n1:1", m.Dest, m.Body)
			}
		}
	})
}

// TestGossipBeforeInit: a peer's message that arrives before the node's
// own init is kept and counted once the node knows who it is.
func TestGossipBeforeInit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := node.New(node.WithLogOutput(t.Output()))
		broadcast.Register(n)
		c := nodetest.Start(t, n)
		if err := c.WriteLine(`{"src":"n0","dest":"n1","body":{"type":"gossip","from":0,"values":[42],"ack":0}}`); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		c.Init("n1", []string{"n0", "n1"})
		r := call(t, c, map[string]any{"type": "read"})
		if string(r["messages"]) != "[42]" {
			t.Fatalf("read after init: %s, want [42]", r["messages"])
		}
	})
}

// TestNoGoroutineOutlivesTheNode: the flusher stops with the node, with
// work still pending.
func TestNoGoroutineOutlivesTheNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := start(t, broadcast.Options{}, "n1", "n0", "n1")
		call(t, c, map[string]any{"type": "broadcast", "message": 1}) // unacknowledged: a retransmission is pending
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		// synctest.Test fails if a goroutine of the bubble is still alive.
	})
}
