package txn

import (
	"slices"
	"time"

	"github.com/glomers/glomers/solutions/internal/stream"
)

// syncMsg is the one node-to-node message. A node numbers the transactions
// of its own that wrote something 0, 1, 2, … (stream positions); a batch
// covers the positions [Lo, Hi) and carries, for every key those
// transactions wrote, the sender's newest write of the key. Every sync
// message also acknowledges the reverse stream.
type syncMsg struct {
	Type string `json:"type"` // "txn_sync"
	// Lo and Hi bound the positions the batch covers, [Lo, Hi); Hi is 0
	// in a pure acknowledgement.
	Lo int64 `json:"lo,omitempty"`
	Hi int64 `json:"hi,omitempty"`
	// Writes are [key, value, ts] triples, one per key, written by the
	// sender (the version's origin).
	Writes []wireWrite `json:"writes,omitempty"`
	// Ack says that the sender holds the effect of every position below
	// Ack of the recipient's stream (a cumulative acknowledgement).
	Ack int64 `json:"ack"`
	// Urgent marks a retransmission: the recipient acknowledges it at
	// once, so a healed link settles after one round trip.
	Urgent bool `json:"urgent,omitempty"`
}

// inbound is what a node knows about one peer's stream to it. Writes of
// ranges received ahead of a gap are merged at once (merging is
// commutative); only the acknowledgement waits for the gap to fill.
type inbound = stream.Inbound[int64]

// flight is one batch in flight: it covered positions up to end and left
// at time at.
type flight struct {
	end int64
	at  time.Time
}

// outbound is a node's stream to one peer. The positions themselves live
// in the Server's log, shared by every peer.
type outbound struct {
	// acked is the peer's cumulative acknowledgement.
	acked int64
	// sent: positions below sent went out at least once.
	sent int64
	// lastData is when the last batch left, for the interval spacing.
	lastData time.Time
	// flights are the batches sent and not wholly acknowledged, oldest
	// first.
	flights []flight
	// probing is set by a retransmission and cleared by the next
	// acknowledgement that makes progress. While it is set the peer is
	// presumed cut off: no ordinary batches go out, only a
	// retransmission of everything unacknowledged once per
	// retransmission timeout, so a partition costs one message per
	// timeout instead of one per flush interval.
	probing bool
}

// link is a node's view of one peer.
type link struct {
	peer string
	out  outbound
	in   inbound
}

// timing holds the replication settings every link shares.
type timing struct {
	interval time.Duration // least spacing between two batches
	ackDelay time.Duration // longest wait for a batch to carry an ack
	rto      time.Duration // retransmission timeout
}

// acknowledged applies the peer's cumulative acknowledgement ack.
func (l *link) acknowledged(ack int64) {
	ack = min(ack, l.out.sent) // never trust a claim beyond what we sent
	if ack <= l.out.acked {
		return
	}
	l.out.acked = ack
	l.out.probing = false
	k := 0
	for k < len(l.out.flights) && l.out.flights[k].end <= ack {
		k++
	}
	l.out.flights = slices.Delete(l.out.flights, 0, k)
}

// plan is what a link must send now: a range of positions (lo < hi) or,
// with lo == hi, a pure acknowledgement.
type plan struct {
	lo, hi int64
	urgent bool
}

// poll decides what the link sends at now, given end, the next position
// the node's stream will use, and returns when it next needs polling
// (zero: not until something changes). At most one message per call: a
// retransmission, a batch or a pure acknowledgement, in that order of
// preference; each carries the acknowledgement of the peer's stream,
// which the caller fills in by calling sent.
func (l *link) poll(now time.Time, end int64, t timing) (p plan, send bool, next time.Time) {
	o := &l.out
	switch {
	case len(o.flights) > 0 && !now.Before(o.flights[0].at.Add(t.rto)):
		p, send = plan{lo: o.acked, hi: end, urgent: true}, true
		o.sent, o.lastData, o.probing = end, now, true
		o.flights = append(o.flights[:0], flight{end: end, at: now})
	case !o.probing && o.sent < end && !now.Before(o.lastData.Add(t.interval)):
		p, send = plan{lo: o.sent, hi: end}, true
		o.sent, o.lastData = end, now
		o.flights = append(o.flights, flight{end: end, at: now})
	case l.in.Owed() && !now.Before(l.in.AckDue):
		p, send = plan{lo: end, hi: end}, true
	}
	if send {
		l.in.Acked()
	}
	return p, send, l.nextPoll(end, t)
}

// nextPoll is the earliest instant at which poll would send something.
func (l *link) nextPoll(end int64, t timing) time.Time {
	var next time.Time
	earliest := func(at time.Time) {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	o := &l.out
	if !o.probing && o.sent < end {
		earliest(o.lastData.Add(t.interval))
	}
	if len(o.flights) > 0 {
		earliest(o.flights[0].at.Add(t.rto))
	}
	if l.in.Owed() {
		earliest(l.in.AckDue)
	}
	return next
}
