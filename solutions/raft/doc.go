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
package raft
