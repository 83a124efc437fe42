package netsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func mustNet(t testing.TB, cfg Config) *Network {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustRegister(t testing.TB, n *Network, ids ...string) []*Endpoint {
	t.Helper()
	var eps []*Endpoint
	for _, id := range ids {
		ep, err := n.Register(id)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep)
	}
	return eps
}

func TestLatencyAppliesBetweenServersOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{Latency: 100 * time.Millisecond})
		eps := mustRegister(t, n, "n0", "n1", "c0")
		start := time.Now()
		if _, err := n.Send("n0", "n1", json.RawMessage(`{"type":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Send("n0", "c0", json.RawMessage(`{"type":"y"}`)); err != nil {
			t.Fatal(err)
		}
		m, err := eps[2].Recv(t.Context())
		if err != nil || m.Dest != "c0" {
			t.Fatalf("client recv = %v, %v", m, err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("client message took %v, want 0", d)
		}
		m, err = eps[1].Recv(t.Context())
		if err != nil || m.Dest != "n1" {
			t.Fatalf("server recv = %v, %v", m, err)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("server message took %v, want 100ms", d)
		}
		if m.ID != 0 {
			t.Errorf("first message id = %d, want 0", m.ID)
		}
	})
}

// A message due earlier that arrives while the receiver sleeps on the
// head is delivered after the head: Maelstrom's head-of-line effect.
func TestHeadOfLineBlocking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{Latency: 100 * time.Millisecond})
		eps := mustRegister(t, n, "n0", "n1", "c0")
		start := time.Now()
		n.Send("n0", "n1", json.RawMessage(`1`)) // due at 100 ms
		got := make(chan *Message, 2)
		go func() {
			for range 2 {
				m, err := eps[1].Recv(t.Context())
				if err != nil {
					return
				}
				got <- m
			}
		}()
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		n.Send("c0", "n1", json.RawMessage(`2`)) // due at 10 ms, but the receiver sleeps on the head
		first, second := <-got, <-got
		if string(first.Body) != "1" || string(second.Body) != "2" {
			t.Fatalf("order = %s, %s; want 1, 2", first.Body, second.Body)
		}
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("client message delivered at %v, want 100ms (behind the head)", d)
		}
	})
}

func TestFIFOWithConstantLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{Latency: 50 * time.Millisecond})
		eps := mustRegister(t, n, "n0", "n1")
		for i := range 100 {
			n.Send("n0", "n1", json.RawMessage(json.Number(string(rune('0'+i%10)))))
			if i%7 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		var last int64 = -1
		for range 100 {
			m, err := eps[1].Recv(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if m.ID <= last {
				t.Fatalf("message %d delivered after %d", m.ID, last)
			}
			last = m.ID
		}
	})
}

// A partition is checked when the receiver takes a message off its
// queue, before it sleeps until the message is due (Maelstrom's net.clj,
// recv!): a message from a cut-off sender is dropped without costing the
// receiver its latency, and one taken before the partition began is
// delivered even though the partition is in force when it is due.
func TestPartitionCheckedBeforeTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{Latency: 100 * time.Millisecond})
		eps := mustRegister(t, n, "n0", "n1", "n2", "c0")
		start := time.Now()
		n.Partition(map[string][]string{"n1": {"n0"}})
		n.Send("n0", "n1", json.RawMessage(`"cut"`)) // due at 100 ms, from a cut-off sender
		first := make(chan *Message)
		go func() {
			m, _ := eps[1].Recv(t.Context())
			first <- m
		}()
		synctest.Wait()                                 // the receiver has taken "cut" as its head
		n.Send("c0", "n1", json.RawMessage(`"client"`)) // due at once
		if m := <-first; m == nil || string(m.Body) != `"client"` {
			t.Fatalf("got %v, want the client message only (n0's is dropped)", m)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("client message delivered after %v; the dropped head must cost no wait", d)
		}

		// Taken while the link is whole, delivered though a partition
		// starts during the wait.
		n.Heal()
		n.Send("n0", "n1", json.RawMessage(`"taken"`))
		got := make(chan *Message)
		go func() {
			m, _ := eps[1].Recv(t.Context())
			got <- m
		}()
		synctest.Wait() // the receiver now sleeps on "taken"
		n.Partition(map[string][]string{"n1": {"n0"}})
		if m := <-got; m == nil || string(m.Body) != `"taken"` {
			t.Fatalf("got %v, want the message taken before the partition", m)
		}
		n.Heal()
		n.Send("n2", "n1", json.RawMessage(`"after"`))
		m, err := eps[1].Recv(t.Context())
		if err != nil || string(m.Body) != `"after"` {
			t.Fatalf("after heal got %v %v", m, err)
		}
		// Sends are journaled even when dropped; the drop has no recv,
		// but a drop event naming the partition.
		var sends, recvs int
		var drops []string
		for _, e := range n.Journal() {
			switch {
			case e.Drop != "":
				drops = append(drops, e.Drop+" "+string(e.Msg.Body))
			case e.Recv:
				recvs++
			default:
				sends++
			}
		}
		if sends != 4 || recvs != 3 {
			t.Errorf("journal: %d sends, %d recvs; want 4, 3", sends, recvs)
		}
		if len(drops) != 1 || drops[0] != DropPartition+` "cut"` {
			t.Errorf("drops %q, want the one message dropped by the partition", drops)
		}
	})
}

func TestUnknownAndClosedDestinations(t *testing.T) {
	n := mustNet(t, Config{})
	mustRegister(t, n, "n0", "c0")
	if _, err := n.Send("n0", "n9", json.RawMessage(`{}`)); !errors.Is(err, ErrUnknownDest) {
		t.Errorf("send to n9: %v, want ErrUnknownDest", err)
	}
	n.Close("c0")
	if _, err := n.Send("n0", "c0", json.RawMessage(`{}`)); !errors.Is(err, ErrClosedDest) {
		t.Errorf("send to closed c0: %v, want ErrClosedDest", err)
	}
	var got []string
	for _, e := range n.Journal() {
		got = append(got, fmt.Sprintf("%v %s→%s %s", e.Recv, e.Msg.Src, e.Msg.Dest, e.Drop))
	}
	want := []string{"false n0→n9 " + DropNoSuchNode, "false n0→c0 " + DropClosed}
	if !slices.Equal(got, want) {
		t.Errorf("journal %q, want only the two drops %q: refused sends are not journaled as sent", got, want)
	}
}

func TestUniformLatencyStaysInRange(t *testing.T) {
	n := mustNet(t, Config{Latency: 10 * time.Millisecond, Dist: Uniform, Seed: 1})
	seen := map[time.Duration]bool{}
	for range 5000 {
		n.mu.Lock()
		d := n.latency("n0", "n1")
		n.mu.Unlock()
		if d < 0 || d >= 20*time.Millisecond {
			t.Fatalf("uniform latency %v outside [0, 20ms)", d)
		}
		seen[d] = true
	}
	if len(seen) != 20 {
		t.Errorf("saw %d distinct whole-ms latencies, want all 20 of 0..19", len(seen))
	}
}

func TestExponentialLatencyMean(t *testing.T) {
	n := mustNet(t, Config{Latency: 100 * time.Millisecond, Dist: Exponential, Seed: 2})
	var sum time.Duration
	const draws = 20000
	for range draws {
		n.mu.Lock()
		sum += n.latency("n0", "n1")
		n.mu.Unlock()
	}
	mean := sum / draws
	// Truncation to whole ms lowers the mean by about 0.5 ms.
	if mean < 95*time.Millisecond || mean > 104*time.Millisecond {
		t.Errorf("exponential mean %v, want about 99.5ms", mean)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{{Dist: "normal"}, {Dist: Exponential}, {Latency: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{Latency: 5, Dist: Uniform}).Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestClientMatchesRepliesAndTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{})
		eps := mustRegister(t, n, "n0")
		c, err := n.NewClient("c0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// A server that answers the first request late and the second at once,
		// preceded by a stray message.
		go func() {
			for {
				m, err := eps[0].Recv(ctx)
				if err != nil {
					return
				}
				var req struct {
					MsgID int `json:"msg_id"`
				}
				json.Unmarshal(m.Body, &req)
				if req.MsgID == 1 {
					time.Sleep(2 * time.Second)
				}
				n.Send("n0", "c0", json.RawMessage(`{"type":"noise"}`))
				body, _ := json.Marshal(map[string]any{"type": "x_ok", "in_reply_to": req.MsgID})
				n.Send("n0", "c0", body)
			}
		}()
		if _, err := c.Call(ctx, "n0", map[string]any{"type": "x"}, time.Second); !errors.Is(err, ErrTimeout) {
			t.Fatalf("first call: %v, want ErrTimeout", err)
		}
		time.Sleep(2 * time.Second) // the late reply to msg 1 arrives and must be skipped
		r, err := c.Call(ctx, "n0", map[string]any{"type": "x"}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Body["in_reply_to"].(json.Number); got != "2" {
			t.Errorf("reply in_reply_to = %v, want 2", r.Body["in_reply_to"])
		}
		cancel()
	})
}

func TestDeliveredLineFormat(t *testing.T) {
	m := &Message{ID: 3, Src: "c3", Dest: "n1", Body: json.RawMessage(`{"type":"echo","echo":"Please echo 35","msg_id":1}`)}
	want := `{"id":3,"src":"c3","dest":"n1","body":{"type":"echo","echo":"Please echo 35","msg_id":1}}`
	if got := string(m.AppendJSON(nil)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	odd := &Message{ID: 1, Src: `a"b`, Dest: "é", Body: json.RawMessage(`1`)}
	var back map[string]any
	if err := json.Unmarshal(odd.AppendJSON(nil), &back); err != nil || back["src"] != `a"b` || back["dest"] != "é" {
		t.Errorf("escaping broken: %s (%v)", odd.AppendJSON(nil), err)
	}
}

// BenchmarkRoute measures messages routed per second with the journal on:
// one sender per destination, zero latency, 8 destinations, each drained
// by its own receiver.
func BenchmarkRoute(b *testing.B) {
	n := mustNet(b, Config{})
	const dests = 8
	ids := []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"}
	eps := mustRegister(b, n, ids...)
	body := json.RawMessage(`{"type":"gossip","messages":[1,2,3,4,5],"msg_id":12}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, dests)
	per := b.N/dests + 1
	for _, ep := range eps {
		go func() {
			for i := 0; i < per; i++ {
				if _, err := ep.Recv(ctx); err != nil {
					break
				}
			}
			done <- 1
		}()
	}
	b.ResetTimer()
	for i := range dests {
		go func() {
			for j := 0; j < per; j++ {
				n.Send(ids[(i+1)%dests], ids[i], body)
			}
		}()
	}
	for range dests {
		<-done
	}
	b.StopTimer()
	b.ReportMetric(float64(per*dests)/b.Elapsed().Seconds(), "msgs/s")
}

func TestIntLiteral(t *testing.T) {
	for raw, want := range map[string]bool{"1": true, " 42 ": true, "-3": true, `"1"`: false, "1.0": false, "1e2": false, "null": false, "": false} {
		if _, ok := IntLiteral(json.RawMessage(raw)); ok != want {
			t.Errorf("IntLiteral(%q) ok = %v, want %v", raw, ok, want)
		}
	}
}

// A reply whose in_reply_to is the string "1" is not a reply to request
// 1: Maelstrom would never match it, so the call times out.
func TestClientIgnoresQuotedInReplyTo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{})
		eps := mustRegister(t, n, "n0")
		c, _ := n.NewClient("c0")
		go func() {
			if _, err := eps[0].Recv(t.Context()); err == nil {
				n.Send("n0", "c0", json.RawMessage(`{"type":"x_ok","in_reply_to":"1"}`))
			}
		}()
		if _, err := c.Call(t.Context(), "n0", map[string]any{"type": "x"}, time.Second); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
	})
}

// RecvIf drops a message its receiver refuses once it is due (a node that
// is down): the message is journalled as sent but never as received, and
// the next one is delivered.
func TestRecvIfRefusedMessagesAreNotDelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mustNet(t, Config{Latency: 10 * time.Millisecond})
		eps := mustRegister(t, n, "n0", "n1")
		n.Send("n0", "n1", json.RawMessage(`"lost"`))
		n.Send("n0", "n1", json.RawMessage(`"kept"`))
		var refused []string
		keep := func(m *Message) bool {
			if string(m.Body) == `"lost"` {
				refused = append(refused, string(m.Body))
				return false
			}
			return true
		}
		m, err := eps[1].RecvIf(t.Context(), keep)
		if err != nil || string(m.Body) != `"kept"` {
			t.Fatalf("got %v %v, want the second message", m, err)
		}
		if len(refused) != 1 {
			t.Errorf("keep saw the refused message %d times", len(refused))
		}
		var recvs, drops []string
		sends := 0
		for _, e := range n.Journal() {
			switch {
			case e.Drop != "":
				drops = append(drops, e.Drop+" "+string(e.Msg.Body))
			case e.Recv:
				recvs = append(recvs, string(e.Msg.Body))
			default:
				sends++
			}
		}
		if sends != 2 || len(recvs) != 1 || recvs[0] != `"kept"` {
			t.Errorf("journal: %d sends, receptions %v; want 2 sends and only \"kept\" received", sends, recvs)
		}
		if len(drops) != 1 || drops[0] != DropDown+` "lost"` {
			t.Errorf("drops %q, want the refused message as dropped, its receiver down", drops)
		}
	})
}
