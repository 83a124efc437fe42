package broadcast

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/glomers/glomers/solutions/internal/stream"
)

// gossip is the one node-to-node message. Each direction of a link is a
// stream: the sender numbers the values it queues for the peer 0, 1, 2,
// … and a batch carries a contiguous slice of that stream. Every
// message, batch or not, also acknowledges the reverse stream.
type gossip struct {
	Type string `json:"type"` // "gossip"
	// From is the stream position of Values[0].
	From int `json:"from"`
	// Values are stream positions From, From+1, …; empty in a pure
	// acknowledgement.
	Values []json.RawMessage `json:"values,omitempty"`
	// Ack says that the sender holds every position below Ack of the
	// recipient's stream to it (a cumulative acknowledgement).
	Ack int `json:"ack"`
	// Urgent marks a retransmission: the recipient acknowledges it at
	// once instead of waiting for a batch to piggy-back on, so the
	// sender stops retransmitting after one round trip.
	Urgent bool `json:"urgent,omitempty"`
	// Acks, only in messages to the hub, bundles the sender's
	// acknowledgements for other nodes: node id → how many positions of
	// that node's stream to the sender it holds. The hub relays them.
	Acks map[string]int `json:"acks,omitempty"`
	// Relay, only in messages from the hub, passes on acknowledgements
	// of the recipient's streams: node id → how many positions of the
	// recipient's stream to that node the node holds.
	Relay map[string]int `json:"relay,omitempty"`
}

// inbound is what a node knows about one peer's stream to it.
type inbound = stream.Inbound[int]

// outbound is one node's stream to one peer.
type outbound struct {
	// acked is the peer's cumulative acknowledgement: it holds every
	// position below acked, which are therefore forgotten.
	acked int
	// buf holds positions acked, acked+1, … of the stream.
	buf []json.RawMessage
	// sent: positions below sent went out at least once.
	sent int
	// lastData is when the last batch left, for the interval spacing.
	lastData time.Time
	// flights are the batches sent and not wholly acknowledged, oldest
	// first. Everything unacknowledged is sent again when the oldest is
	// older than the retransmission timeout.
	flights []flight
}

// flight is one batch in flight: it ended at stream position end and
// left at time at.
type flight struct {
	end int
	at  time.Time
}

// retransmitAt is when the unacknowledged positions are due to be sent
// again; zero when nothing is unacknowledged.
func (o *outbound) retransmitAt(rto time.Duration) time.Time {
	if len(o.flights) == 0 {
		return time.Time{}
	}
	return o.flights[0].at.Add(rto)
}

// end is the stream position the next queued value will get.
func (o *outbound) end() int { return o.acked + len(o.buf) }

// link is a node's view of one peer: its stream to the peer, the peer's
// stream to it, and the batching policy.
type link struct {
	peer string
	// interval is the least spacing between two batches (0: none): a
	// value goes out at once if the last batch left at least interval
	// ago, else with the batch that leaves interval after the last one.
	interval time.Duration
	out      outbound
	in       inbound
	// relay holds acknowledgements the hub owes this peer on behalf of
	// other nodes (see gossip.Relay), due by relayDue.
	relay    map[string]int
	relayDue time.Time
}

// timing holds the acknowledgement settings shared by every link.
type timing struct {
	ackDelay   time.Duration // longest wait for a batch to carry an ack
	relayDelay time.Duration // the hub's longest wait to pass acks on
	rto        time.Duration // retransmission timeout
}

// enqueue appends v to the stream to the peer.
func (l *link) enqueue(v json.RawMessage) {
	l.out.buf = append(l.out.buf, v)
}

// receive processes a gossip message from the peer: its acknowledgement
// of our stream and the stream positions it carries.
func (l *link) receive(g *gossip, now time.Time, t timing) {
	l.acknowledged(g.Ack)
	if len(g.Values) > 0 && g.From >= 0 {
		l.in.Add(g.From, g.From+len(g.Values))
		l.in.Owe(now, g.Urgent, t.ackDelay)
	}
}

// acknowledged applies the peer's cumulative acknowledgement ack.
func (l *link) acknowledged(ack int) {
	ack = min(ack, l.out.sent) // never trust a claim beyond what we sent
	if ack <= l.out.acked {
		return
	}
	clear(l.out.buf[:ack-l.out.acked]) // let the values be collected
	l.out.buf = l.out.buf[ack-l.out.acked:]
	l.out.acked = ack
	k := 0
	for k < len(l.out.flights) && l.out.flights[k].end <= ack {
		k++
	}
	l.out.flights = slices.Delete(l.out.flights, 0, k)
}

// poll returns the message the link must send now, if any, and when it
// next needs polling (zero: not until something changes). At most one
// message per call: a retransmission, a batch or a pure
// acknowledgement, in that order of preference, every one carrying the
// acknowledgement of the peer's stream and the relayed ones the peer is
// owed.
//
// With delegate set, an acknowledgement (other than an urgent one) that
// falls due with nothing to carry it is not sent: poll reports it as
// delegated and keeps it owed, for the caller to bundle with others in
// one message to the hub.
func (l *link) poll(now time.Time, t timing, delegate bool) (g *gossip, next time.Time, delegated bool) {
	o := &l.out
	switch end := o.end(); {
	case len(o.flights) > 0 && !now.Before(o.retransmitAt(t.rto)):
		g = &gossip{From: o.acked, Values: slices.Clone(o.buf), Urgent: true}
		o.sent, o.lastData = end, now
		o.flights = append(o.flights[:0], flight{end: end, at: now})
	case o.sent < end && !now.Before(o.lastData.Add(l.interval)):
		g = &gossip{From: o.sent, Values: slices.Clone(o.buf[o.sent-o.acked:])}
		o.sent, o.lastData = end, now
		o.flights = append(o.flights, flight{end: end, at: now})
	case len(l.relay) > 0 && !now.Before(l.relayDue):
		g = &gossip{}
	case l.in.Owed() && !now.Before(l.in.AckDue):
		if delegate && !l.in.Urgent {
			return nil, l.nextPoll(t.rto), true
		}
		g = &gossip{}
	}
	if g != nil {
		g.Type = "gossip"
		g.Ack = l.in.Next
		l.in.Acked()
		if len(l.relay) > 0 {
			g.Relay, l.relay, l.relayDue = l.relay, nil, time.Time{}
		}
	}
	return g, l.nextPoll(t.rto), false
}

// queueRelay records, at the hub, that node from holds n positions of
// this peer's stream to it, to be passed on to the peer.
func (l *link) queueRelay(from string, n int, now time.Time, t timing) {
	if l.relay == nil {
		l.relay = map[string]int{}
		l.relayDue = now.Add(t.relayDelay)
	}
	l.relay[from] = max(l.relay[from], n)
}

// nextPoll is the earliest instant at which poll would send something.
func (l *link) nextPoll(rto time.Duration) time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	o := &l.out
	if o.sent < o.end() {
		earliest(o.lastData.Add(l.interval))
	}
	if len(o.flights) > 0 {
		earliest(o.retransmitAt(rto))
	}
	if l.in.Owed() {
		earliest(l.in.AckDue)
	}
	if len(l.relay) > 0 {
		earliest(l.relayDue)
	}
	return next
}
