package listappend

import "time"

// The defaults; see Options.
const (
	// DefaultInlineCommits is how many recent commits' segments the root
	// carries inline.
	DefaultInlineCommits = 16
	// DefaultHotKeys is how many keys the root points to before the
	// pointers of the least recently appended ones move to a cold map.
	DefaultHotKeys = 128
	// DefaultCallTimeout bounds each request to lin-kv.
	DefaultCallTimeout = 2 * time.Second
	// DefaultGiveUpAfter is how long a transaction may wait to commit:
	// a Maelstrom client waits 5 s for its reply.
	DefaultGiveUpAfter = 5 * time.Second
)

// Options tunes a node. The zero value means the defaults.
type Options struct {
	// InlineCommits is how many of the latest commits keep their
	// segment inside the root. A node that learns a root (from a read
	// or from a failed cas) learns those segments with it, and a segment
	// whose keys were all appended to again before it left the window is
	// never written to lin-kv on its own. Larger means fewer messages
	// and bigger roots. Zero means DefaultInlineCommits.
	InlineCommits int

	// HotKeys bounds the root's pointers: when it would point to more
	// keys, the pointers to the oldest segments (half of them) move to a
	// new cold map, an immutable value in lin-kv that the root names. The
	// root, sent twice with every cas, stays small however many keys
	// there are; a node reads each cold map once, and only if it needs a
	// key the root does not point to. Zero means DefaultHotKeys.
	HotKeys int

	// CallTimeout bounds each request to lin-kv. A cas on the root that
	// times out leaves its transactions' fate unknown: they are answered
	// with the indefinite error crash (13). Zero means
	// DefaultCallTimeout.
	CallTimeout time.Duration

	// GiveUpAfter is how long after its arrival a transaction stops
	// being retried; it is then refused with txn-conflict (30), which is
	// definite: it never committed. Zero means DefaultGiveUpAfter.
	GiveUpAfter time.Duration
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.InlineCommits <= 0 {
		o.InlineCommits = DefaultInlineCommits
	}
	if o.HotKeys <= 0 {
		o.HotKeys = DefaultHotKeys
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	return o
}
