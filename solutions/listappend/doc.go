// Package listappend is a strict-serializable transactor for Maelstrom's
// txn-list-append workload, in the style of Maelstrom's "Datomic"
// tutorial chapter (doc/05-datomic): the data lives in the lin-kv
// service as immutable values, and one mutable root, changed only by
// compare-and-set, says which values are current. Nodes never talk to
// each other, only to lin-kv, so partitions between them change nothing.
//
//	n := node.New()
//	listappend.Register(n)
//	node.Main(n)
//
// A request {"type":"txn","txn":[["r",1,null],["append",1,6]]} is
// answered {"type":"txn_ok","txn":[["r",1,[3,4]],["append",1,6]]}:
// reads return the whole list (null for a key never appended to), and
// appends are echoed. Keys and values must be integers; anything else
// is refused with malformed-request (12).
//
// # Data in lin-kv
//
// Commits are numbered 1, 2, 3, …; commit n writes a segment: the
// whole new list of every key it appended to. A segment never changes.
// The root (lin-kv key "root") is a JSON array of integers only:
//
//	[n, [[key, m], …], [[n, segment n], [n-1, segment n-1], …], c]
//
// the number of the latest commit; a pointer from each recently
// appended ("hot") key to the commit whose segment holds its current
// list; the segments of the last [Options.InlineCommits] (16) commits
// inline; and the name c of the cold map that holds the pointers of all
// the other keys ([] for none). A segment that leaves the inline window
// is written to lin-kv under "s<n>" by the commit that pushes it out,
// unless no key points to it any more (its keys were all appended to
// again), in which case it is never written at all. When the root would
// point to more than [Options.HotKeys] (128) keys, the commit moves the
// pointers to the oldest segments (down to half that) into a new cold
// map, the previous one plus them, under a name of its own: [n, the
// committing node's index, a timestamp], stored as "c<n>.<node>.<t>".
// The root, sent twice with every cas, stays a few kilobytes however
// many keys there are (the tutorial's "persistent trees", two levels
// deep). No root means the empty database.
//
// Those writes are sent just before the commit's cas, without waiting
// for their replies: lin-kv, never partitioned, applies them, maybe
// after the cas, and a node that needs one before it lands polls for
// it. Because they leave before the cas, a node killed right after its
// cas has still sent them: a root never names a value nobody is
// storing. Segment keys are written only with committed content (a
// segment leaves the window only from a committed root), so "s<n>" is
// only ever written with one value; a cold map is sent before its
// commit is decided, so a failed attempt leaves one behind, under a name
// no other attempt uses.
//
// # Transactions
//
// Each node has two lanes, one for transactions that append and one for
// those that only read, so that readers never wait behind a cas; the
// lanes share only the newest root either has seen. Each lane queues its
// transactions, and the handler that finds no loop running in its lane
// runs one, which takes everything queued as one batch:
//
//   - it runs the batch's transactions one after the other on the root
//     it believes current (in memory, with its reads from the segments:
//     inline, cached, or read from lin-kv once), giving one new segment
//     and the root that points to it;
//   - it installs that root with a cas from the root it ran on, and on
//     success answers every transaction of the batch;
//   - if another node committed first, the cas fails with
//     precondition-failed, whose text names the current value (Maelstrom
//     prints "current value <root> is not <from>"). That is the current
//     root, so the batch, joined by whatever arrived meanwhile, runs again
//     on it at once, with no read. The root holds only integers and
//     arrays, which print unambiguously, and a parsed root is accepted
//     only if re-encoding it gives exactly the printed text; otherwise the
//     root is read. (A wrong guess could not commit anything anyway: the
//     cas names the root the batch ran on.)
//   - a batch that only reads reads the root (one request) and runs on
//     it; it needs no cas.
//
// Transactions are retried as long as their client waits (Maelstrom's
// clients wait 5 s): one that could not commit within
// [Options.GiveUpAfter] is refused with txn-conflict (30), which is
// definite, since none of the cas requests it took part in succeeded.
// A cas that times out (its fate unknown) answers its batch's writers
// with crash (13), which is indefinite; readers run again.
//
// Segments and cold maps are immutable, so a node caches every one it
// has seen (from roots, its own commits and reads) and never asks twice;
// entries the current root no longer points to are dropped now and
// then. A root may name a segment or cold map whose write has not landed
// yet; a node that needs it polls for it.
//
// Nodes race for the root: per round trip to lin-kv, one cas wins. A
// node whose requests happen to leave a little earlier in each round
// would win every round, and its peers' transactions would wait for
// seconds; the winner cannot tell, since it never sees the others'
// failures. So a batch waits before its cas for a quarter of the cas
// round trip (a moving average), less an eighth of the age of its
// oldest transaction: transactions that have waited two round trips go
// at once and reach lin-kv ahead of fresh ones. A single node never
// waits, and at zero latency the wait is zero.
//
// # Why it is strict-serializable
//
// The serial order is the order of the cas requests that installed
// roots (lin-kv is linearizable; every root has a fresh number, so a
// cas from root n succeeds only while root n is current), and within a
// batch the order the batch ran its transactions in. A batch ran on
// exactly root n and the cas that installed n+1 checked that root n was
// current at that instant, which falls after every transaction of the
// batch arrived and before any was answered. A read-only batch ran on a
// root read after all its transactions arrived and before any was
// answered, so it too took effect at an instant inside each of its
// transactions' lifetimes. A transaction that finishes before another
// starts therefore comes first in the order: strict serializability.
// Values read come from segments and cold maps, which never change once
// written (each key is written with one value only), so every cache is
// always right.
//
// Dropping the cas for read-only batches but running them on a cached
// root would be serializable only: the tutorial's "stale reads" section
// shows Elle finding G-single-realtime then.
//
// # Cost
//
// A batch that writes costs one cas when its node's root is current, one
// more for each lost race, plus one write when the commit pushes a
// still-referenced segment out of the inline window, and one more when
// it starts a cold map (about once per 64 new keys); a read-only batch costs
// one read; a segment or cold map missing from a node's cache costs one
// read.
// lin-kv requests are server messages, two per request.
//
// # Measured
//
// Virtual time (go test ./solutions/listappend, 20 seeds of 10 s,
// --node-count 3 --rate 100 --nemesis partition, strict-serializable):
// every run valid, every transaction :ok; :net :servers :msgs-per-op
// 3.51 (:all 5.52), latency 0 ms at any quantile (lin-kv answers in no
// time). With --latency 100: still every run valid and every
// transaction :ok; servers msgs-per-op 5.12 (all 7.22), latency p50
// 478 ms, p99 1565 ms (mean over seeds; worst 2035 ms), about 59
// transactions per run, since the three clients each wait for their
// transaction and one commit per 200 ms round trip is all a single root
// allows.
//
// At --rate 1000 with --concurrency 2n for 30 s (GLOMERS_LISTAPPEND_HIGH=1
// go test -run TestHighRate ./solutions/listappend; about 30,000
// transactions and 2,000 keys): valid, every transaction :ok, servers
// msgs-per-op 3.7, largest cas 5.5 kB (56 kB without cold maps, when
// the run took 7 times as long).
//
// Real processes (go build -o /tmp/tla ./cmd/txn-list-append && go run
// ./cmd/glomers test -w txn-list-append --bin /tmp/tla --node-count 3
// --rate 100 --time-limit 30 --consistency-models strict-serializable
// --nemesis partition), final binary, three runs: each valid with every
// transaction :ok (2856–2941 of them), msgs-per-op servers 3.83–3.87,
// all 5.84–5.87, latency p50 5.8–6.2 ms, p99 32–89 ms (a two-core
// machine shared with other work, load average about 4: latencies vary
// from run to run; the build before, at a quieter moment, gave p50
// 3.5 ms, p99 12 ms).
// The same with --latency 100: valid, 167 transactions all
// :ok, servers 5.41, all 7.45, p50 480 ms, p99 1510 ms, max 1703 ms.
package listappend
