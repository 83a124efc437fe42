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

// String returns the mode's name as ParseMode and GLOMERS_BROADCAST_MODE
// spell it.
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

// Defaults per mode; see Options. They were chosen with the flush
// interval sweep described in the package documentation.
const (
	DefaultEfficientFlush = 250 * time.Millisecond
	DefaultFastFlush      = 40 * time.Millisecond
	DefaultAckDelay       = 2 * time.Second
	// DefaultRetransmitMargin is added to 1.5 × AckDelay (the longest an
	// acknowledgement may take to be sent and relayed by the hub) to get
	// the default RetransmitTimeout: it covers the round trips.
	DefaultRetransmitMargin = time.Second
)

// Options tunes a Server. The zero value is the default: efficient mode
// with the defaults below.
type Options struct {
	// Mode is Efficient (the default) or Fast.
	Mode Mode

	// FlushInterval is the least time between two batches of values on
	// one link: a value for a peer goes out at once when the last batch to
	// that peer left at least FlushInterval ago, and otherwise waits,
	// together with everything else that arrives meanwhile, until then.
	// In efficient mode it applies to the hub's batches (nodes send to the
	// hub at once); in fast mode to every link. Zero means the mode's
	// default (DefaultEfficientFlush, 300 ms, or DefaultFastFlush, 40 ms);
	// NoDelay disables batching.
	FlushInterval time.Duration

	// AckDelay is how long a node may owe a peer an acknowledgement
	// before it sends one on its own instead of piggy-backing it on the
	// next batch to that peer. Zero means DefaultAckDelay (3 s). Longer
	// saves messages; the cost is slower recovery of messages lost to a
	// partition.
	AckDelay time.Duration

	// RetransmitTimeout is how long a node waits for an acknowledgement
	// of values it sent before sending them again. It must exceed
	// AckDelay plus a round trip, or values get sent twice for nothing.
	// Zero means AckDelay + DefaultRetransmitMargin (1 s).
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
