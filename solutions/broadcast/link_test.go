package broadcast

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var testTiming = timing{ackDelay: 2 * time.Second, relayDelay: time.Second, rto: 4 * time.Second}

func vals(vs ...int) []json.RawMessage {
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		out[i] = json.RawMessage(strconv.Itoa(v))
	}
	return out
}

// mustPoll polls l at now and fails unless a message goes out.
func mustPoll(t *testing.T, l *link, now time.Time) *gossip {
	t.Helper()
	g, _, delegated := l.poll(now, testTiming, false)
	if g == nil || delegated {
		t.Fatalf("poll at %v sent nothing", now.Sub(t0))
	}
	return g
}

// noPoll polls l at now, fails if a message goes out, and returns when
// l next wants polling.
func noPoll(t *testing.T, l *link, now time.Time) time.Time {
	t.Helper()
	g, next, _ := l.poll(now, testTiming, false)
	if g != nil {
		t.Fatalf("poll at %v sent %+v, want nothing", now.Sub(t0), g)
	}
	return next
}

func TestLinkSpacesBatches(t *testing.T) {
	l := &link{peer: "n1", interval: 100 * time.Millisecond}
	if next := noPoll(t, l, t0); !next.IsZero() {
		t.Fatalf("an idle link wants polling at %v", next)
	}
	l.enqueue(vals(1)[0])
	g := mustPoll(t, l, t0) // the first value after a quiet spell goes at once
	if g.From != 0 || !reflect.DeepEqual(g.Values, vals(1)) || g.Type != "gossip" || g.Urgent {
		t.Fatalf("first batch %+v", g)
	}
	l.enqueue(vals(2)[0])
	l.enqueue(vals(3)[0])
	if next := noPoll(t, l, t0.Add(10*time.Millisecond)); !next.Equal(t0.Add(100 * time.Millisecond)) {
		t.Fatalf("next poll %v, want 100ms after the last batch", next.Sub(t0))
	}
	g = mustPoll(t, l, t0.Add(100*time.Millisecond))
	if g.From != 1 || !reflect.DeepEqual(g.Values, vals(2, 3)) {
		t.Fatalf("second batch %+v, want from 1 values [2 3]", g)
	}
}

func TestLinkRetransmitsWhatIsUnacknowledged(t *testing.T) {
	l := &link{peer: "n1"}
	l.enqueue(vals(1)[0])
	mustPoll(t, l, t0)
	l.enqueue(vals(2)[0])
	mustPoll(t, l, t0.Add(time.Second))
	// The peer acknowledges the first batch only: the timeout now runs
	// from the second.
	l.acknowledged(1)
	if next := noPoll(t, l, t0.Add(4*time.Second)); !next.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("retransmission planned at %v, want 5s (second batch + rto)", next.Sub(t0))
	}
	l.enqueue(vals(3)[0]) // queued, not yet sent: goes along
	g := mustPoll(t, l, t0.Add(5*time.Second))
	// A retransmission wins over the (due) new batch and carries both.
	if !g.Urgent || g.From != 1 || !reflect.DeepEqual(g.Values, vals(2, 3)) {
		t.Fatalf("retransmission %+v, want urgent from 1 values [2 3]", g)
	}
	if next := noPoll(t, l, t0.Add(6*time.Second)); !next.Equal(t0.Add(9 * time.Second)) {
		t.Fatalf("next retransmission at %v, want 9s", next.Sub(t0))
	}
	l.acknowledged(3)
	if next := noPoll(t, l, t0.Add(20*time.Second)); !next.IsZero() {
		t.Fatalf("a fully acknowledged link wants polling at %v", next.Sub(t0))
	}
	if len(l.out.buf) != 0 || l.out.acked != 3 {
		t.Fatalf("acknowledged values kept: acked %d buf %v", l.out.acked, l.out.buf)
	}
}

func TestLinkIgnoresImpossibleAndStaleAcks(t *testing.T) {
	l := &link{peer: "n1"}
	l.enqueue(vals(1)[0])
	l.enqueue(vals(2)[0])
	mustPoll(t, l, t0)
	l.enqueue(vals(3)[0]) // never sent
	l.acknowledged(7)     // more than was sent: only what was sent counts
	if l.out.acked != 2 || !reflect.DeepEqual(l.out.buf, vals(3)) {
		t.Fatalf("after ack 7: acked %d buf %s", l.out.acked, l.out.buf)
	}
	l.acknowledged(1) // stale
	if l.out.acked != 2 {
		t.Fatalf("a stale ack moved acked back to %d", l.out.acked)
	}
}

func TestLinkOwesAcknowledgements(t *testing.T) {
	l := &link{peer: "n1"}
	l.receive(&gossip{From: 0, Values: vals(10, 11)}, t0, testTiming)
	l.receive(&gossip{From: 2, Values: vals(12)}, t0.Add(time.Second), testTiming)
	// The ack is due AckDelay after the oldest unacknowledged batch.
	if next := noPoll(t, l, t0.Add(time.Second)); !next.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("ack planned at %v, want 2s", next.Sub(t0))
	}
	g := mustPoll(t, l, t0.Add(2*time.Second))
	if g.Ack != 3 || len(g.Values) != 0 || g.Urgent {
		t.Fatalf("pure ack %+v, want ack 3 and no values", g)
	}
	// A pure ack is not acknowledged in turn.
	l.receive(&gossip{Ack: 0}, t0.Add(3*time.Second), testTiming)
	if next := noPoll(t, l, t0.Add(10*time.Second)); !next.IsZero() {
		t.Fatalf("a pure ack created an obligation at %v", next.Sub(t0))
	}
}

func TestLinkPiggybacksAcknowledgements(t *testing.T) {
	l := &link{peer: "n1"}
	l.receive(&gossip{From: 0, Values: vals(10)}, t0, testTiming)
	l.enqueue(vals(1)[0])
	g := mustPoll(t, l, t0.Add(time.Millisecond))
	if g.Ack != 1 || !reflect.DeepEqual(g.Values, vals(1)) {
		t.Fatalf("batch %+v, want it to carry ack 1", g)
	}
	if !l.in.AckDue.IsZero() {
		t.Fatal("the ack is still owed after riding on a batch")
	}
}

func TestLinkDelegatesAcknowledgements(t *testing.T) {
	l := &link{peer: "n2"}
	l.receive(&gossip{From: 0, Values: vals(10)}, t0, testTiming)
	g, _, delegated := l.poll(t0.Add(2*time.Second), testTiming, true)
	if g != nil || !delegated {
		t.Fatalf("poll sent %+v, delegated %v; want the ack delegated", g, delegated)
	}
	if l.in.AckDue.IsZero() {
		t.Fatal("a delegated ack must stay owed until the caller bundles it")
	}
	// Acks for retransmissions are never delegated: they go straight back.
	u := &link{peer: "n2"}
	u.receive(&gossip{From: 0, Values: vals(10), Urgent: true}, t0, testTiming)
	g, _, delegated = u.poll(t0, testTiming, true)
	if g == nil || delegated || g.Ack != 1 {
		t.Fatalf("urgent ack: sent %+v, delegated %v; want an immediate ack 1", g, delegated)
	}
}

func TestLinkRelaysAcknowledgements(t *testing.T) {
	l := &link{peer: "n1"}
	l.queueRelay("n2", 5, t0, testTiming)
	l.queueRelay("n3", 2, t0.Add(100*time.Millisecond), testTiming)
	l.queueRelay("n2", 4, t0.Add(200*time.Millisecond), testTiming) // stale: keep 5
	if next := noPoll(t, l, t0.Add(500*time.Millisecond)); !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("relay planned at %v, want relayDelay after the first", next.Sub(t0))
	}
	g := mustPoll(t, l, t0.Add(time.Second))
	if want := map[string]int{"n2": 5, "n3": 2}; !reflect.DeepEqual(g.Relay, want) {
		t.Fatalf("relay %v, want %v", g.Relay, want)
	}
	// Relays ride on a batch that leaves earlier.
	l.queueRelay("n2", 6, t0.Add(2*time.Second), testTiming)
	l.enqueue(vals(1)[0])
	g = mustPoll(t, l, t0.Add(2*time.Second))
	if g.Relay["n2"] != 6 || len(g.Values) != 1 {
		t.Fatalf("batch %+v, want it to carry the relay", g)
	}
}
