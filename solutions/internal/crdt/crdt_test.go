package crdt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/internal/crdt"
)

// maxes is a small lattice for the tests: a register per key holding the
// largest value written, merged key by key with max.
type maxes map[string]int

func (s maxes) Merge(o maxes) bool {
	changed := false
	for k, v := range o {
		if cur, ok := s[k]; !ok || v > cur {
			s[k] = v
			changed = true
		}
	}
	return changed
}

func (s maxes) Missing(known maxes) (maxes, bool) {
	d := maxes{}
	for k, v := range s {
		if kv, ok := known[k]; !ok || kv < v {
			d[k] = v
		}
	}
	return d, len(d) > 0
}

const pushType = "t_push"

// start runs a node with a replicator of maxes, initialised as n0 among
// ids, and returns the connection and the replicator.
func start(t *testing.T, cfg crdt.Config[maxes], ids ...string) (*nodetest.Conn, *crdt.Replicator[maxes]) {
	t.Helper()
	cfg.Type, cfg.Field, cfg.Empty = pushType, "state", func() maxes { return maxes{} }
	n := node.New(node.WithLogOutput(t.Output()))
	r := crdt.New(n, cfg)
	c := nodetest.Start(t, n)
	c.Init("n0", ids)
	return c, r
}

// set raises key k to at least v locally.
func set(r *crdt.Replicator[maxes], k string, v int) {
	r.Update(func(s maxes) { s.Merge(maxes{k: v}) })
}

// snapshot copies the replicator's state.
func snapshot(r *crdt.Replicator[maxes]) maxes {
	var out maxes
	r.View(func(s maxes) { out = maps.Clone(s) })
	return out
}

// push is one push the node sent.
type push struct {
	dest  string
	id    int
	state maxes
}

// recvPush waits up to wait for the node's next message, which must be a
// push.
func recvPush(t *testing.T, c *nodetest.Conn, wait time.Duration) push {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("expected a push within %v: %v", wait, err)
	}
	var body struct {
		Type  string `json:"type"`
		State maxes  `json:"state"`
	}
	id, hasID := m.MsgID()
	if err := m.Unmarshal(&body); err != nil || body.Type != pushType || !hasID || body.State == nil {
		t.Fatalf("expected a push, got %s to %s", m.Body, m.Dest)
	}
	return push{m.Dest, id, body.State}
}

// ack acknowledges p as its destination would.
func ack(t *testing.T, c *nodetest.Conn, p push) {
	t.Helper()
	if err := c.Send(p.dest, map[string]any{"type": pushType + "_ok", "in_reply_to": p.id}); err != nil {
		t.Fatal(err)
	}
}

// settle expects a push of exactly want within a second, acknowledges
// it, and expects no further message: the peer now has everything.
func settle(t *testing.T, c *nodetest.Conn, want maxes) {
	t.Helper()
	p := recvPush(t, c, time.Second)
	if !maps.Equal(p.state, want) {
		t.Fatalf("push %v to %s, want %v", p.state, p.dest, want)
	}
	ack(t, c, p)
	quiet(t, c, 5*time.Second)
}

// quiet fails t if the node sends anything within d.
func quiet(t *testing.T, c *nodetest.Conn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.Recv(ctx); err == nil {
		t.Fatalf("sent %s to %s, want silence", m.Body, m.Dest)
	}
}

// A peer gets what it lacks every interval until it acknowledges; a
// retry carries what was added meanwhile, and after an acknowledgement
// only what changed since is pushed.
func TestPushesTheDeltaUntilAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1")
		quiet(t, c, 2*time.Second) // nothing to say yet
		set(r, "a", 1)
		set(r, "b", 2)
		first := recvPush(t, c, time.Second)
		if first.dest != "n1" || !maps.Equal(first.state, maxes{"a": 1, "b": 2}) {
			t.Fatalf("first push %v to %s, want {a:1 b:2} to n1", first.state, first.dest)
		}
		again := recvPush(t, c, 2*time.Second)
		if !maps.Equal(again.state, first.state) || again.id == first.id {
			t.Fatalf("unacknowledged push repeated as %+v, want the same state in a new request", again)
		}
		set(r, "c", 3)
		third := recvPush(t, c, 2*time.Second)
		if !maps.Equal(third.state, maxes{"a": 1, "b": 2, "c": 3}) {
			t.Fatalf("retry %v, want everything still missing, c included", third.state)
		}
		ack(t, c, third)
		quiet(t, c, 5*time.Second)
		set(r, "a", 5)
		set(r, "b", 1) // below what n1 has: nothing new
		settle(t, c, maxes{"a": 5})
	})
}

// A peer's push is merged as a join and acknowledged, and what it carried
// is never pushed back to that peer, though other peers still get it.
func TestReceivedPushIsMergedAckedAndNotSentBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1", "n2")
		set(r, "x", 9)
		ctx := context.Background()
		for _, st := range []maxes{{"x": 3, "y": 4}, {"y": 2}} {
			m, err := c.Call(ctx, "n1", map[string]any{"type": pushType, "state": st})
			if err != nil || m.Type() != pushType+"_ok" {
				t.Fatalf("push %v answered %s, %v; want %s_ok", st, m.Body, err, pushType)
			}
		}
		if got := snapshot(r); !maps.Equal(got, maxes{"x": 9, "y": 4}) {
			t.Fatalf("state %v, want the join {x:9 y:4}", got)
		}
		// n1 sent x:3 and y:4, so it lacks only x:9; n2 lacks both.
		want := map[string]maxes{"n1": {"x": 9}, "n2": {"x": 9, "y": 4}}
		for len(want) > 0 {
			p := recvPush(t, c, time.Second)
			w, ok := want[p.dest]
			if !ok {
				t.Fatalf("unexpected push %v to %s", p.state, p.dest)
			}
			if !maps.Equal(p.state, w) {
				t.Fatalf("push to %s %v, want %v", p.dest, p.state, w)
			}
			ack(t, c, p)
			delete(want, p.dest)
		}
		quiet(t, c, 5*time.Second)
		// A push from a client is merged too, but a client is no peer: it
		// is neither pushed to nor recorded.
		if m, err := c.Call(ctx, "c1", map[string]any{"type": pushType, "state": maxes{"z": 1}}); err != nil || m.Type() != pushType+"_ok" {
			t.Fatalf("client push answered %s, %v", m.Body, err)
		}
		got := map[string]maxes{}
		for range 2 {
			p := recvPush(t, c, time.Second)
			got[p.dest] = p.state
			ack(t, c, p)
		}
		if !maps.Equal(got["n1"], maxes{"z": 1}) || !maps.Equal(got["n2"], maxes{"z": 1}) {
			t.Fatalf("pushes after the client's %v, want {z:1} to n1 and n2", got)
		}
	})
}

// Pushes without a usable state are refused and change nothing.
func TestMalformedPushesAreRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1")
		for _, body := range []map[string]any{
			{"type": pushType},
			{"type": pushType, "state": nil},
			{"type": pushType, "state": "x"},
			{"type": pushType, "state": map[string]any{"x": "not a number"}},
			{"type": pushType, "elements": maxes{"x": 1}},
		} {
			m, err := c.Call(context.Background(), "n1", body)
			if err != nil {
				t.Fatal(err)
			}
			if e := m.RPCError(); e == nil || e.Code != node.MalformedRequest {
				t.Errorf("push %v answered %s, want error %d", body, m.Body, node.MalformedRequest)
			}
		}
		if got := snapshot(r); len(got) != 0 {
			t.Errorf("state %v after refused pushes, want empty", got)
		}
		// A valid one is accepted, so the refusals were about the bodies.
		if m, err := c.Call(context.Background(), "n1", map[string]any{"type": pushType, "state": maxes{"x": 1}}); err != nil || m.RPCError() != nil {
			t.Fatalf("valid push answered %s, %v", m.Body, err)
		}
	})
}

// Only a reply of the acknowledgement type counts: after an error reply
// or an unexpected one the same delta is pushed again.
func TestOnlyAnAcknowledgementCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1")
		set(r, "a", 1)
		for _, reply := range []map[string]any{
			{"type": "error", "code": node.TemporarilyUnavailable, "text": "busy"},
			{"type": "something_else"},
		} {
			p := recvPush(t, c, time.Second)
			reply["in_reply_to"] = p.id
			if err := c.Send("n1", reply); err != nil {
				t.Fatal(err)
			}
		}
		settle(t, c, maxes{"a": 1}) // the refused delta again
	})
}

// Each peer has its own loop: a peer that never answers (partitioned)
// keeps getting retries without holding back the others.
func TestPeersAreIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1", "n2")
		set(r, "a", 1)
		for range 2 {
			if p := recvPush(t, c, time.Second); p.dest == "n1" {
				ack(t, c, p)
			}
		}
		set(r, "b", 2)
		deadline := time.Now().Add(10 * time.Second)
		n2 := 0
		for time.Now().Before(deadline) {
			p := recvPush(t, c, 2*time.Second)
			switch {
			case p.dest == "n1" && maps.Equal(p.state, maxes{"b": 2}):
				ack(t, c, p)
			case p.dest == "n2" && maps.Equal(p.state, maxes{"a": 1, "b": 2}) || n2 == 0 && maps.Equal(p.state, maxes{"a": 1}):
				n2++
			default:
				t.Fatalf("unexpected push %v to %s", p.state, p.dest)
			}
		}
		if n2 < 5 {
			t.Errorf("%d retries to the silent n2 in 10 s, want one per second or so", n2)
		}
	})
}

// When the round trip exceeds Timeout the push is repeated, but the
// first push's late acknowledgement still counts: the node goes quiet
// without the repeat being answered. Later repeats wait twice the round
// trip seen, not just Timeout.
func TestLateAcknowledgementsCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1")
		set(r, "a", 1)
		first := recvPush(t, c, time.Second)
		sent := time.Now()
		repeat := recvPush(t, c, 2*time.Second)
		if d := time.Since(sent); d != crdt.DefaultTimeout {
			t.Errorf("repeat after %v, want the timeout, %v", d, crdt.DefaultTimeout)
		}
		if !maps.Equal(repeat.state, first.state) || repeat.id == first.id {
			t.Fatalf("repeat %+v, want the same state in a new request", repeat)
		}
		time.Sleep(time.Until(sent.Add(1500 * time.Millisecond)))
		ack(t, c, first) // 1.5 s after it was sent
		quiet(t, c, 10*time.Second)

		set(r, "b", 2)
		p := recvPush(t, c, time.Second)
		sent = time.Now()
		repeat = recvPush(t, c, 10*time.Second)
		if d := time.Since(sent); d != 3*time.Second {
			t.Errorf("repeat after %v, want twice the last round trip, 3s", d)
		}
		if !maps.Equal(p.state, maxes{"b": 2}) || !maps.Equal(repeat.state, maxes{"b": 2}) {
			t.Fatalf("pushed %v then %v, want {b:2}: a is known to n1", p.state, repeat.state)
		}
		ack(t, c, repeat)
		quiet(t, c, 10*time.Second)
	})
}

// A push waits for its acknowledgement 8 × Timeout and no longer: an
// older one's acknowledgement is ignored, a younger one's counts.
func TestAcknowledgementsExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r := start(t, crdt.Config[maxes]{}, "n0", "n1")
		set(r, "a", 1)
		var pushes []push
		t0 := time.Now()
		for range 9 {
			pushes = append(pushes, recvPush(t, c, 2*time.Second))
		}
		// One per Timeout to a silent peer: at 0.25 s, 1.25 s, …, 8.25 s.
		if d := time.Since(t0); d != 8250*time.Millisecond {
			t.Errorf("9 pushes to a silent peer took %v, want 8.25s: one a second", d)
		}
		time.Sleep(500 * time.Millisecond)
		ack(t, c, pushes[0]) // 8.5 s old
		next := recvPush(t, c, 2*time.Second)
		if !maps.Equal(next.state, maxes{"a": 1}) {
			t.Fatalf("pushed %v, want {a:1} again: the acknowledgement came after 8 s", next.state)
		}
		ack(t, c, pushes[2]) // 7 s old
		quiet(t, c, 10*time.Second)
	})
}

// Config sets the cadence; zero values fall back to the defaults.
func TestIntervalAndTimeout(t *testing.T) {
	for _, tc := range []struct {
		cfg                     crdt.Config[maxes]
		wantInterval, wantRetry time.Duration
	}{
		{crdt.Config[maxes]{}, crdt.DefaultInterval, crdt.DefaultTimeout},
		{crdt.Config[maxes]{Interval: time.Second, Timeout: 3 * time.Second}, time.Second, 3 * time.Second},
	} {
		synctest.Test(t, func(t *testing.T) {
			c, r := start(t, tc.cfg, "n0", "n1")
			set(r, "a", 1)
			t0 := time.Now()
			recvPush(t, c, time.Minute)
			if d := time.Since(t0); d != tc.wantInterval {
				t.Errorf("first push after %v, want %v", d, tc.wantInterval)
			}
			t1 := time.Now()
			recvPush(t, c, time.Minute)
			if d := time.Since(t1); d != tc.wantRetry {
				t.Errorf("retry after %v, want the timeout, %v (a tick missed meanwhile fires at once)", d, tc.wantRetry)
			}
		})
	}
}

// Stopping the node, with a push in flight to each silent peer, stops
// every loop: Run returns only once they have all returned.
//
// This test runs in real time, with a 1 ms interval, rather than in a
// synctest bubble: if a loop ignored its context, the bubble could never
// end (its ticker would advance virtual time forever) and the test would
// hang instead of failing.
func TestLoopsStopWhenTheNodeStops(t *testing.T) {
	n := node.New(node.WithLogOutput(t.Output()))
	r := crdt.New(n, crdt.Config[maxes]{
		Type: pushType, Field: "state", Empty: func() maxes { return maxes{} },
		Interval: time.Millisecond, Timeout: time.Hour,
	})
	set(r, "a", 1)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ran := make(chan error, 1)
	go func() {
		ran <- n.Run(inR, outW)
		outW.Close()
	}()
	pushedTo := make(chan string)
	go func() {
		defer close(pushedTo)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var m node.Message
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Type() == pushType {
				pushedTo <- m.Dest
			}
		}
	}()
	if _, err := io.WriteString(inW, `{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0","n1","n2"]}}`+"\n"); err != nil {
		t.Fatal(err)
	}
	waiting := map[string]bool{"n1": true, "n2": true}
	for len(waiting) > 0 {
		select {
		case p := <-pushedTo:
			delete(waiting, p)
		case <-time.After(5 * time.Second):
			t.Fatalf("no push to %v", waiting)
		}
	}
	inW.Close()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of the input's end: a push loop ignores its context")
	}
	for p := range pushedTo {
		t.Errorf("pushed to %s again, though a push to it was still in flight", p)
	}
}

func TestNewNeedsACompleteConfig(t *testing.T) {
	empty := func() maxes { return maxes{} }
	for _, cfg := range []crdt.Config[maxes]{
		{Field: "state", Empty: empty},
		{Type: pushType, Empty: empty},
		{Type: pushType, Field: "state"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New accepted %+v", cfg)
				}
			}()
			crdt.New(node.New(), cfg)
		}()
	}
}
