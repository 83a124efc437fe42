// Package stream keeps the receiving side of a numbered stream: a sender
// numbers what it queues for a peer 0, 1, 2, …, sends contiguous ranges
// of those positions in batches that may be lost, repeated or reordered,
// and the receiver answers with a cumulative acknowledgement — the length
// of the prefix it holds in full — owed within a delay, or at once for a
// retransmission. Broadcast's gossip and the transaction store's
// replication both run on it.
package stream

import (
	"slices"
	"time"
)

// Position is a stream position's type.
type Position interface{ ~int | ~int64 }

// Span is the half-open range [Lo, Hi) of stream positions.
type Span[P Position] struct{ Lo, Hi P }

// Inbound is what a node knows about one peer's stream to it.
type Inbound[P Position] struct {
	// Next is the length of the prefix of the stream held in full: the
	// cumulative acknowledgement to send back.
	Next P
	// Ahead holds the ranges received beyond Next (after a loss, or when
	// latency reorders batches): sorted, disjoint, not touching, every
	// Lo > Next. They join Next when the gap fills, so a reordered batch
	// costs no retransmission.
	Ahead []Span[P]
	// AckDue is when an acknowledgement must go out at the latest; zero
	// when none is owed.
	AckDue time.Time
	// Urgent says the acknowledgement owed is for a retransmission, which
	// the sender waits on: it goes out at once, straight to the peer.
	Urgent bool
}

// Add records that positions [lo, hi) arrived.
func (in *Inbound[P]) Add(lo, hi P) {
	if hi <= lo || hi <= in.Next {
		return
	}
	if lo > in.Next {
		in.insertAhead(Span[P]{lo, hi})
		return
	}
	in.Next = hi
	// Swallow the ranges the new prefix reaches.
	k := 0
	for k < len(in.Ahead) && in.Ahead[k].Lo <= in.Next {
		in.Next = max(in.Next, in.Ahead[k].Hi)
		k++
	}
	in.Ahead = slices.Delete(in.Ahead, 0, k)
}

// insertAhead adds s (with s.Lo > Next) to Ahead, merging the ranges it
// overlaps or touches.
func (in *Inbound[P]) insertAhead(s Span[P]) {
	i := 0
	for i < len(in.Ahead) && in.Ahead[i].Hi < s.Lo {
		i++
	}
	j := i
	for j < len(in.Ahead) && in.Ahead[j].Lo <= s.Hi {
		s.Lo = min(s.Lo, in.Ahead[j].Lo)
		s.Hi = max(s.Hi, in.Ahead[j].Hi)
		j++
	}
	in.Ahead = slices.Replace(in.Ahead, i, j, s)
}

// Owe schedules an acknowledgement: at once for an urgent batch (a
// retransmission), else within delay of the oldest batch not yet
// acknowledged.
func (in *Inbound[P]) Owe(now time.Time, urgent bool, delay time.Duration) {
	due := now.Add(delay)
	if urgent {
		due = now
		in.Urgent = true
	}
	if in.AckDue.IsZero() || due.Before(in.AckDue) {
		in.AckDue = due
	}
}

// Owed reports whether an acknowledgement is owed.
func (in *Inbound[P]) Owed() bool { return !in.AckDue.IsZero() }

// Acked records that an acknowledgement of Next went out: nothing is owed.
func (in *Inbound[P]) Acked() { in.AckDue, in.Urgent = time.Time{}, false }
