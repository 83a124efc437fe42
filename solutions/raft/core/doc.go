// Package core is a Raft consensus core with no I/O and no clock, in the
// style of etcd-io/raft: the caller feeds it ticks (Raft.Tick), messages
// from peers (Raft.Step), proposals (Raft.Propose) and read requests
// (Raft.ReadIndex), then takes a Ready and carries it out: send its
// messages, apply its committed entries in order, serve its read states.
// Because nothing happens behind the caller's back, the package's tests
// drive whole clusters through chosen or random schedules of ticks,
// deliveries, losses, duplicates and partitions, and check Raft's safety
// properties after every step (cluster_test.go, property_test.go).
//
// What it implements, with the sections of Diego Ongaro's thesis
// "Consensus: Bridging Theory and Practice" (2014) they follow:
//
//   - Leader election with randomised timeouts in [E, 2E) ticks (§3.4),
//     the randomness injected through Config.Rand; pre-votes (§9.6) so a
//     node cut off from the majority neither inflates the term nor deposes
//     the leader when it comes back; votes refused while a voter has heard
//     from a leader within an election timeout (§4.2.3).
//   - Log replication with the consistency check on the previous entry
//     (§3.5) and fast back-off: a rejection names the last index whose
//     term could match, and the leader skips every index of a term the
//     follower does not share (etcd-io/raft's findConflictByTerm). Appends
//     are pipelined once a follower's match is known and probed one at a
//     time before.
//   - Commitment by counting replicas only for entries of the leader's
//     own term (§3.6.2); a new leader appends a no-op to commit its
//     predecessors' entries.
//   - Check quorum (§6.2): a leader that has not heard from a majority for
//     E ticks steps down, and after E/2 ticks it already refuses new
//     proposals and reads (ErrNoQuorum), so clients on a minority side
//     get a definite refusal instead of waiting for a commit that cannot
//     come.
//   - Linearizable reads by read index (§6.4): the leader notes its commit
//     index, confirms with a round of heartbeats that a majority still
//     follows it, and emits a ReadState; the caller serves the read once
//     it has applied that index. Reads asked while a round is in flight
//     share the next round. A leader serves no read before it has
//     committed an entry of its own term.
//
// # Restarts with empty memory
//
// Raft assumes that a node's term, vote and log survive a crash. A node
// that restarts with empty memory (as under a kill fault, with no disk)
// could vote twice in one term, electing two leaders, or, having
// forgotten entries it acknowledged, help elect a leader that lacks a
// committed entry: either loses acknowledged writes. This core accounts
// for it as follows.
//
// Every life of a node has an incarnation number, larger after each
// restart, carried by all its messages with a flag saying whether the
// sender is a voter. Peers remember the newest incarnation they heard
// from each node and ignore messages from older lives. Every node also
// keeps, for each node, the lowest incarnation it knows that node had
// as a voter, learnt directly (even from a late message of a dead life)
// or by gossip: hellos, heartbeats and their answers carry the table,
// so the knowledge that a node voted before spreads beyond the nodes
// that heard it.
//
// A node starts on probation and asks every peer (MsgHello) whether it
// knows of an earlier voter life of it; a life that never became a
// voter counted for nothing, so forgetting it is harmless. If every
// peer says no, the node becomes a voter; if any says yes, or the
// gossip shows an earlier voter life of its own, it is amnesiac for the
// rest of its life. A node that learns of an earlier voter life of a
// peer whose later life it has heard from tells that peer so. One
// exception founds the cluster: a node that is pristine (term 0, empty
// log) becomes a voter as soon as a majority of the nodes, itself
// included, said no while pristine too, so a cluster partitioned from
// its first instant still elects on its majority side.
//
// Nodes on probation and amnesiac nodes replicate the log and answer
// heartbeats, but they never vote, never campaign, and the leader
// counts none of their acknowledgements: not toward commitment, nor
// read rounds, nor its quorum check. Acknowledgements must not count
// because an amnesiac has forgotten its promises too: having
// acknowledged term t it would still accept the appends of a deposed
// leader of an older term, and that leader could commit a conflicting
// entry with its help (TestAmnesiacAcknowledgementsDoNotCount).
//
// That keeps Raft's guarantees, with Raft's own argument restricted to
// voters: a commit needs a majority of all n nodes among the voters, an
// election a majority of all n votes from voters, so the two meet in a
// voter, and a voter never lost its memory. The price is availability:
// each node that restarts after it became a voter loses its vote for
// good, so a cluster of n nodes can commit and elect only while a
// majority of all n has never restarted since (with 5 nodes, after 3
// such restarts nothing is ever committed again and every request is
// refused).
//
// The promise rests on one assumption: a restarted node must not be
// taken for a new one, which needs someone to remember its earlier
// voter life. It holds when, whenever a node restarts, (a) no other
// node that had a voter life before is still on probation, (b) fewer
// than a majority of the nodes, the restarting one included, are
// pristine (so the founding rule cannot fire again), and (c) every node
// that was heard from as a voter is known to some node other than
// itself and the restarting one. The property tests restart nodes
// exactly when this holds (cluster.mayRestart). Kills one at a time,
// each after the cluster has elected a leader and exchanged a heartbeat
// round with every node, satisfy it. Nothing can make the promise
// unconditional without a disk: if every node that knew of a voter life
// forgets it (at the extreme, every node restarts), the restarted
// cluster is indistinguishable from a new one and elects leaders that
// lack committed entries
// (TestTotalAmnesiaIsIndistinguishableFromANewCluster). For the same
// reason a one-node cluster cannot survive a restart at all.
package core
