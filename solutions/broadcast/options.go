package broadcast

import (
	"fmt"
	"time"
)

// Mode chooses the trade-off between node-to-node messages and latency.
// The zero Mode is [Efficient].
type Mode int

const (
	// Efficient routes every value through a hub (the first node of the
	// init message's node_ids): a node sends its clients' values to the
	// hub at once, and the hub sends each other node one batch at most
	// every FlushInterval. Two hops and few messages.
	Efficient Mode = iota
	// Fast sends every client value straight to every other node, one
	// hop, batching only values that arrive within FlushInterval of the
	// previous batch to the same peer.
	Fast
)

// String returns the mode's name as ParseMode and the broadcast
// command's --mode flag spell it.
func (m Mode) String() string {
	switch m {
	case Efficient:
		return "efficient"
	case Fast:
		return "fast"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode reads a mode name: "efficient" or "fast". The empty string
// means the default, [Efficient].
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "efficient":
		return Efficient, nil
	case "fast":
		return Fast, nil
	}
	return 0, fmt.Errorf("broadcast: unknown mode %q (want efficient or fast)", s)
}

// NoDelay, as a FlushInterval, sends every value as soon as it is known:
// no batching at all. (A zero FlushInterval means "the mode's default".)
const NoDelay time.Duration = -1

// The defaults; see Options. DefaultEfficientFlush comes from the flush
// interval sweep described in the package documentation.
const (
	DefaultEfficientFlush = 250 * time.Millisecond
	DefaultFastFlush      = 40 * time.Millisecond
	DefaultAckDelay       = 2 * time.Second
	// DefaultRetransmitMargin is what the default RetransmitTimeout
	// allows, beyond the longest an acknowledgement can be held back
	// (1.5 × AckDelay: AckDelay at the receiver, half of it at the hub
	// when it relays), for the round trips.
	DefaultRetransmitMargin = time.Second
)

// Options tunes a Server. The zero value is the default: efficient mode
// with the defaults below.
type Options struct {
	// Mode is Efficient (the default) or Fast.
	Mode Mode

	// FlushInterval is the least time between two batches of values on
	// one link: a value for a peer goes out at once when the last batch
	// to that peer left at least FlushInterval ago, and otherwise waits,
	// with everything else queued meanwhile, until FlushInterval after
	// that batch. In efficient mode it spaces the hub's batches (the
	// other nodes send to the hub at once); in fast mode it spaces every
	// link's. Zero means the mode's default, DefaultEfficientFlush
	// (250 ms) or DefaultFastFlush (40 ms); NoDelay turns batching off.
	FlushInterval time.Duration

	// AckDelay is the longest a node holds back an acknowledgement it
	// owes a peer, waiting for a batch to that peer to carry it. Then it
	// sends it on its own, to the peer directly if either of them is the
	// hub, otherwise bundled with its other due acknowledgements in one
	// message to the hub, which passes them on within AckDelay/2. Zero
	// means DefaultAckDelay (2 s). Longer saves messages and slows down
	// the recovery of values lost to a partition.
	AckDelay time.Duration

	// RetransmitTimeout is how long a node waits for the acknowledgement
	// of a batch before it sends everything unacknowledged on that link
	// again. It must exceed 1.5 × AckDelay plus a round trip, or values
	// are sent twice for nothing; it bounds how long after a partition
	// heals the nodes hold every value again. Zero means 1.5 × AckDelay +
	// DefaultRetransmitMargin (4 s with the default AckDelay).
	RetransmitTimeout time.Duration
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultEfficientFlush
		if o.Mode == Fast {
			o.FlushInterval = DefaultFastFlush
		}
	}
	if o.FlushInterval < 0 {
		o.FlushInterval = 0
	}
	if o.AckDelay <= 0 {
		o.AckDelay = DefaultAckDelay
	}
	if o.RetransmitTimeout <= 0 {
		o.RetransmitTimeout = o.AckDelay + o.AckDelay/2 + DefaultRetransmitMargin
	}
	return o
}
