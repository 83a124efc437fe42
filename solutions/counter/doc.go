// Package counter solves Gossip Glomers challenge 4 (a grow-only counter
// kept in seq-kv) and Maelstrom's pn-counter exercise (a
// positive-negative counter CRDT gossiped between nodes).
//
// # The g-counter: one key per node in seq-kv
//
// [Register] serves {"type":"add","delta":d} and {"type":"read"}. Every
// node owns one key in seq-kv, "g-counter/<id>", holding
//
//	{"total": <sum of the deltas this node acknowledged>, "seq": <writes so far>}
//
// Only the owner writes its key, so writes never conflict and need no
// compare-and-swap: there is no read-modify-write to lose updates in. A
// node's counter value is its own total plus the totals it last read from
// its peers' keys.
//
// An add is acknowledged as soon as it is added to the node's in-memory
// total; a background loop writes the total to seq-kv at most once per
// flushInterval (500 ms), and only when it has grown. Challenge 4 has no
// crash faults, so the write-behind buffer loses nothing. (Making each add
// wait for its flush would cost no extra messages, but with the default
// three client threads the slower adds would slip the schedule and shrink
// the number of operations, which is the denominator of msgs-per-op.)
//
// A sync is one write of the node's own key followed by one read of each
// peer's key, sent one at a time by a single goroutine. seq-kv serves a
// read from a random state between the newest one the caller has observed
// and the newest state overall, excluding the latter: a caller that only
// reads can stay behind for good. A write that changes the state moves the
// caller to the newest state. That is why every sync starts with a write,
// and why the write carries "seq": it always changes the state, even when
// the total has not grown, so the reads that follow see every write that
// reached seq-kv before it. Each read keeps the larger of the total read
// and the one already known, so a view never goes backwards.
//
// Writes have no timeout: the loop waits for each write's reply before
// sending anything else, so a node never has two writes in flight, and a
// delayed old total can never land after a newer one. (Services are
// never partitioned, so the reply always comes.) Peer reads have a
// timeout; a late read is harmless, since its result only ever raises a
// known total.
//
// The loop syncs when the ticker finds unflushed adds, and when a read
// finds the view older than maxStaleness (1 s): such a read waits (up to
// readWait) for a sync that begins after it arrived. That is what makes the
// final reads exact: 10 s after the last add, every node has flushed its
// total long ago, and the read's own sync starts with a write that lands
// after all of those flushes, so the reads after it see every total.
// Partitions do not matter at all: the nemesis cuts links between nodes
// only, and these nodes never talk to each other.
//
// # Message arithmetic (the official run: 3 nodes, rate 100, 20 s)
//
// A sync costs one write and N−1 reads: N service calls, 2N messages
// (request and reply both count as server messages), 6 for N = 3. With
// about 11 adds per second per node, every 500 ms tick finds new adds, so
// each node syncs twice a second and the views stay younger than a second,
// so reads never trigger extra syncs:
//
//	3 nodes × 2 syncs/s × 20 s × 6 msgs ≈ 720 messages
//	+ one sync per node for the final reads (3 × 6 = 18)
//	÷ ≈ 2000 client operations (100/s × 20 s)  ≈ 0.37 msgs-per-op
//
// Reads and adds are answered without waiting for any server message in
// that steady state. The cost grows with time, not with operations; at
// rates so low that a node sees fewer than one operation per flush
// interval it is bounded by one sync (2N messages) per operation.
//
// # The pn-counter: a CRDT gossiped between nodes
//
// [RegisterPN] keeps, for every node, the sum of the positive deltas (P) and
// of the negated negative deltas (N) it acknowledged; the value is ΣP − ΣN.
// Merging two states takes the maximum of each node's P and of its N, so
// merges commute, associate and repeat harmlessly. Every node pushes to each
// peer, every 250 ms (crdt.DefaultInterval), the entries it does not know that peer to
// have; the peer merges and acknowledges. A push lost to a partition is
// simply pushed again after the heal. No service is used.
package counter
