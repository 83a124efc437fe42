package kafka

import "time"

// The defaults; see Options.
const (
	// DefaultSyncInterval is the default period of the sync loop.
	DefaultSyncInterval = 25 * time.Millisecond
	// DefaultRetransmitAfter is how long unacknowledged entries wait
	// before a sync carries them again when nothing else is due.
	DefaultRetransmitAfter = time.Second
	// DefaultListTimeout bounds how long list_committed_offsets waits
	// for its peers: well under the 5 s a Maelstrom client waits.
	DefaultListTimeout = 3 * time.Second
)

// Options tunes a node. The zero value means the defaults.
type Options struct {
	// SyncInterval is the period of the sync loop: at most one sync
	// message per peer per interval, and only when there is something
	// to say (new entries, an acknowledgement owed, a barrier asked or
	// answered). Shorter makes messages visible sooner and costs more
	// messages while clients are busy. Zero means DefaultSyncInterval.
	SyncInterval time.Duration

	// RetransmitAfter is how long entries may stay unacknowledged
	// before a sync carries them again although nothing new is due.
	// Zero means DefaultRetransmitAfter.
	RetransmitAfter time.Duration

	// ListTimeout bounds the wait of list_committed_offsets for every
	// peer to answer its barrier; then the request is refused with
	// temporarily-unavailable. Zero means DefaultListTimeout.
	ListTimeout time.Duration
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.RetransmitAfter <= 0 {
		o.RetransmitAfter = DefaultRetransmitAfter
	}
	if o.ListTimeout <= 0 {
		o.ListTimeout = DefaultListTimeout
	}
	return o
}
