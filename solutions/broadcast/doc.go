// Package broadcast solves Gossip Glomers challenges 3a–3e: every value a
// client sends to any node with "broadcast" must eventually be returned
// by "read" on every node, despite network partitions, and (3d, 3e) with
// few node-to-node messages and low latency.
//
//	n := node.New()
//	broadcast.RegisterWith(n, broadcast.Options{Mode: broadcast.Fast})
//	node.Main(n)
//
// The replies carry exactly the keys of the workload's schema
// (broadcast_ok and topology_ok nothing, read_ok "messages"). A value
// is an integer, as the challenge says, of any size; a broadcast of
// anything else (null, a string, 1.5, an array) is refused with
// malformed-request (12) rather than acknowledged. The topology message
// is acknowledged and ignored: the mode decides who talks to whom,
// whatever the topology.
//
// # Two modes
//
// [Efficient] (the default) routes every value through a hub, the first
// node of init's node_ids. A node sends its clients' values to the hub at
// once; the hub sends each other node one batch at most every
// [Options.FlushInterval] (250 ms), never back to the value's source. Two
// hops, one message per value in, one per node per interval out.
//
// [Fast] sends every client value straight to every other node: one hop,
// n−1 messages per value. Nothing is forwarded.
//
// # Reliability without acknowledgement traffic
//
// Messages are only ever lost to partitions, but then the final reads must
// still see everything. Each direction of a link between two nodes is a
// stream: the sender numbers the values it queues for the peer, and a
// batch ("gossip" message) carries a contiguous slice of the stream and
// the cumulative acknowledgement of the reverse stream ("I hold the first
// k of your values"). Acknowledgements therefore ride on batches that are
// sent anyway. One that has waited [Options.AckDelay] (2 s) for a ride is
// sent on its own; between two nodes that are not the hub it is bundled
// with the node's other due acknowledgements into one message to the hub,
// which passes each on with its next message to the node concerned (or
// after AckDelay/2). A sender keeps what is unacknowledged and sends it
// all again, marked urgent, when the oldest unacknowledged batch is
// [Options.RetransmitTimeout] (4 s) old; an urgent batch is acknowledged
// at once. Receivers remember ranges that arrive past a gap, so latency
// that reorders batches costs no retransmission. After a partition heals,
// every value is everywhere within about RetransmitTimeout.
//
// A broadcast is acknowledged to the client as soon as the node has the
// value: from then on the node retransmits it until every node it sends
// it to has acknowledged it, so an acknowledged value is never lost.
//
// # Message arithmetic (3d/3e: 25 nodes, 100 ms latency, rate 100, 20 s)
//
// A run has about 2,000 client operations (plus 25 final reads), half of
// them broadcasts: about 1,000 values, 40 per node, 2 per node per second.
// msgs-per-op counts every node-to-node message over all operations.
//
// Efficient: 24/25 of the values start away from the hub, one message each
// to it (≈ 960); batching them would add its wait to every value's latency
// and save little, as a node gets about two values a second. The hub sends
// 24 batches per FlushInterval while values flow: 24 × 20 s / 250 ms ≈
// 1,920. Acknowledgements ride on these both ways; about 25 go alone when
// the run ends. Total ≈ 2,900 messages: 1.43–1.47 per operation in
// virtual time and 1.46–1.48 in real processes, against a budget of 1.7
// (3,400 messages).
//
// Fast: 24 messages per value ≈ 24,000, 12 per operation. Batching cannot
// help: each node has one client, which waits for each reply, and every
// request waits at least one hop in the node's queue (below), so a node's
// broadcasts are at least 100 ms apart. Acknowledgements ride on each
// node's own batches to every peer, twice a second; when nodes fall quiet
// at the end, bundles through the hub cost about 30 + 60 messages instead
// of one per pair of nodes (300–600). Total 11.3–12.4 per operation over
// seeds: the spread is the share of broadcasts in the random operation mix
// (47–52 %), which no design that reaches every node in one hop avoids;
// the acknowledgements add 0.04. The budget of 12.5 holds while that share
// stays under 51.9 %; with about 2,000 operations it exceeds that in
// roughly one run in twenty (a 1.7 σ excess), whatever the node does.
//
// # Latency as the bench measures it
//
// The stable latency of a value runs from its broadcast_ok to the last
// read anywhere that missed it. The bench reproduces Maelstrom's
// head-of-line effect: a node's network queue sleeps until the delivery
// time of its head, so a client request that arrives while a batch is in
// flight to the node waits behind the batch and then sees its values.
// The last read to miss a value is therefore one that reached its node
// before the batch with the value left the sender: in efficient mode the
// measured latency is about 100 ms (to the hub) plus the wait at the hub
// (up to FlushInterval), not plus the last hop; in fast mode it is at
// most one hop. In virtual time the efficient mode measures a median of
// ≈ 143 ms and a maximum of ≈ 347 ms (targets 320 and 500), the fast mode
// 0–80 ms (targets 100 and 160). Real processes add scheduling jitter,
// which can let a read slip in before a batch lands; the worst case is
// the full path, two hops plus FlushInterval (450 ms, inside the target)
// in efficient mode and one hop in fast mode. Measured with real
// processes (glomers challenge 3d 3e): efficient median 141–142 ms,
// maximum 348–350 ms; fast median 52–60 ms, maximum 103–122 ms.
//
// The node library runs each request's handler in its own goroutine, so a
// read delivered right behind a batch could overtake it; batches are
// therefore handled inline (node.HandleInline), in arrival order, before
// any later message is dispatched.
//
// # Choosing the flush interval
//
// The efficient mode's FlushInterval trades messages for latency. To
// measure it, run the 3d/3e set-up in virtual time for a range of
// intervals (five seeds each; medians of each figure):
//
//	GLOMERS_SWEEP=1 go test ./solutions/broadcast -run Sweep -v
//
// It writes store/broadcast-sweep/<time>/sweep.tsv and sweep.png (latency
// against msgs-per-op) under the repository root. A recent sweep:
//
//	interval  msgs/op  median  max (ms)
//	   0       6.87      94    195
//	  25       7.75     169    199
//	  50       5.12     173    199
//	 100       2.88     178    199
//	 200       1.69     256    299
//	 250       1.45     143    347
//	 300       1.29     188    396
//	 400       1.10     268    497
//	 500       0.98     326    594
//
// The latency is not monotonic in the interval: with 200 ms the values
// that nodes receive from clients right behind a hub batch (the
// head-of-line effect again) reach the hub just as its next batch leaves
// and wait a whole interval; with 250 ms they wait 50 ms. 250 ms keeps
// msgs-per-op, median and maximum inside their targets with a margin in
// every seed and in real processes; 300 ms saves 0.15 messages per
// operation but leaves real runs only a few ms below the 500 ms maximum.
package broadcast
