// Package raft is a linearizable key-value node for Maelstrom's lin-kv
// workload (read, write and compare-and-set on keys), replicated with
// the Raft core of package core. The node layer feeds the core: a ticker
// (Options.Tick) drives its clock, Raft messages travel between nodes as
// Maelstrom messages whose body type is the Raft message's name
// ("raft_app", "raft_vote", ...), and after every input the node carries
// out the core's Ready: it sends the messages, applies committed entries
// to the key-value map and answers the requests waiting on them.
//
// Requests:
//
//   - write and cas go through the log: the leader proposes a command and
//     answers once the entry is applied, with cas's result (20 when the
//     key does not exist, 22 when it holds another value than "from").
//     If another entry is committed at the proposal's index, the write
//     certainly never happens, and the client gets a definite 11.
//   - read uses the read index (Raft thesis §6.4), not the log: the
//     leader notes its commit index, confirms with a heartbeat round that
//     a majority of voters still follows it, waits until it has applied
//     that index and reads its map. No leader lease, so no clock
//     assumption.
//   - a follower forwards the request to the leader it heard from within
//     the last three heartbeat intervals and relays the answer. Without
//     such a leader it waits up to one election timeout for one, then
//     answers 11 (temporarily unavailable, definite); so does a leader
//     that has not heard from a majority for half an election timeout.
//     Clients on the minority side of a partition thus fail fast with a
//     definite error instead of timing out.
//   - a write or cas that is appended but not committed within
//     Options.RequestTimeout, or forwarded and not answered, gets error 0
//     (timeout, indefinite): it may still commit.
//
// Restarts with empty memory (a kill): see package core. A restarted node
// never votes again and its acknowledgements never count, so every write
// acknowledged stays; the cluster commits and elects only while a
// majority of its nodes has never restarted, and the guarantee assumes
// that someone remembers each restarted node's earlier life.
//
// # Figures
//
// "Served" counts the operations answered for good: :ok, or refused for
// the data's sake (a cas on a missing key or a wrong "from", a read of a
// missing key, codes 20 and 22). Those refusals are :fail in Maelstrom's
// :availability :ok-fraction, which therefore sits near 0.75 even with
// no fault: most cas ask for a value the key does not hold. All runs
// below are lin-kv, 5 nodes, --concurrency 10 --rate 50, and valid
// except where said.
//
// Virtual time, 20 s each (go test -count=1 -timeout 400s -v
// ./solutions/raft/; -short runs 2 seeds of each):
//
//	no faults, 5 seeds      served ≥ 0.996, ok-fraction 0.75–0.77, 12.8 server msgs/op
//	partition, 20 seeds     served 0.84–0.99 (median 0.95), ok-fraction ≥ 0.64, 11.3 msgs/op
//	pause, 20 seeds         served ≥ 0.96, 13.5 msgs/op
//	kill, 20 seeds          served ≥ 0.95, 11.5 msgs/op
//	all three, 10 seeds     served 0.00–0.97 (median 0.86), always linearizable; seed 9
//	                        sometimes has no voter majority all run, so nothing is :ok
//	                        and the stats checker says invalid
//
// (In virtual time the network has no latency, so latencies are 0.)
//
// Real processes, 60 s (go build -o /tmp/lin-kv ./cmd/lin-kv; go run
// ./cmd/glomers test -w lin-kv --bin /tmp/lin-kv --node-count 5
// --concurrency 10 --rate 50 --time-limit 60 [--nemesis ...]), latency
// of served operations:
//
//	no nemesis              served 0.999, ok-fraction 0.765, p50 2.6 ms, p99 9.1 ms, 12.9 server msgs/op
//	--nemesis partition     served 0.943, ok-fraction 0.716, p50 2.8 ms, p99 25 ms, 11.7 msgs/op
//	--nemesis kill          served 0.802 (n1, n2, n4 restarted: after the third, nothing commits)
//	--nemesis partition,kill,pause  served 0.536, valid
//
// Refusals (11) come after the follower's wait for a leader, about
// 300 ms (one election timeout). Messages: a heartbeat round every 50 ms
// costs 8 messages, a write 8 more (4 appends, 4 answers), a read one
// heartbeat round at most (concurrent reads share one), a forwarded
// request 2.
package raft
