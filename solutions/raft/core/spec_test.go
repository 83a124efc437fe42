package core_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/glomers/glomers/solutions/raft/core"
)

// electionTicks is the clusters' election timeout E (heartbeats every tick).
const electionTicks = 10

// firstTimesOut returns randomness under which first's election timer
// fires after E ticks and everyone else's after 2E−1, so first campaigns
// first while the others are already out of their leader's lease.
func firstTimesOut(first string) func(id string) func(int) int {
	return staggered(first)
}

// staggered generalises firstTimesOut: the i-th node listed waits E+i
// ticks, the nodes not listed 2E−1.
func staggered(order ...string) func(id string) func(int) int {
	return func(id string) func(int) int {
		if i := slices.Index(order, id); i >= 0 {
			return func(int) int { return i }
		}
		return func(n int) int { return n - 1 }
	}
}

// deliverAll delivers every message in flight, and those they cause.
func (c *cluster) deliverAll() {
	for len(c.flight) > 0 {
		c.deliver(0)
	}
}

// deliverIf delivers the messages in flight that keep says to, once each,
// and drops the others; messages they cause stay in flight.
func (c *cluster) deliverIf(keep func(core.Message) bool) {
	batch := c.flight
	c.flight = nil
	for _, m := range batch {
		if keep(m) && !c.cut[[2]string{m.From, m.To}] {
			if m.Voter {
				c.heard[m.From] = true
			}
			c.nodes[m.To].Step(m)
			c.collect(m.To)
		}
	}
}

// electWith ticks every node and delivers everything until id leads.
func (c *cluster) electWith(t *testing.T, id string) {
	t.Helper()
	for range 4 * electionTicks {
		c.deliverAll()
		if c.nodes[id].Status().Role == core.Leader {
			c.deliverAll()
			return
		}
		c.tickAll()
	}
	t.Fatalf("%s did not become leader: %+v", id, c.nodes[id].Status())
}

func TestOneLeaderIsElectedAndFollowed(t *testing.T) {
	c := newClusterRand(t, 5, 8, firstTimesOut("n0"))
	c.electWith(t, "n0")
	for _, id := range c.ids {
		st := c.nodes[id].Status()
		if st.Term != 1 || st.Lead != "n0" || st.Standing != core.Voter {
			t.Errorf("%s: %+v, want term 1 led by n0 and a voter", id, st)
		}
		if id != "n0" && (st.Role != core.Follower || st.Vote != "n0") {
			t.Errorf("%s: role %v vote %q, want a follower that voted for n0", id, st.Role, st.Vote)
		}
	}
	// The new leader's no-op is committed everywhere within a heartbeat.
	c.tickAll()
	c.deliverAll()
	for _, id := range c.ids {
		if st := c.nodes[id].Status(); st.Commit != 1 {
			t.Errorf("%s: commit %d, want 1 (the leader's no-op)", id, st.Commit)
		}
	}
}

// A candidate whose log lacks a committed entry cannot win: voters refuse
// candidates whose last entry is older than theirs.
func TestVotersRefuseCandidatesWithOlderLogs(t *testing.T) {
	c := newClusterRand(t, 3, 8, firstTimesOut("n2"))
	c.electWith(t, "n2")
	c.partition([]string{"n2"})
	c.propose("n0") // refused: not the leader
	if _, _, err := c.nodes["n0"].Propose(nil); !errors.Is(err, core.ErrNotLeader) {
		t.Fatalf("a follower's Propose returned %v, want ErrNotLeader", err)
	}
	c.heal()
	c.partition([]string{"n0"}) // n1 and n2 commit an entry n0 never sees
	c.propose("n2")
	c.deliverAll()
	c.tickAll()
	c.deliverAll()
	if got := c.nodes["n1"].Status().Commit; got != 2 {
		t.Fatalf("n1 commit %d, want 2", got)
	}
	// n0 campaigns; n1 refuses (n0's log is older), n2 is the leader.
	c.heal()
	before := c.nodes["n2"].Status().Term
	for range 3 * electionTicks {
		c.tick("n0")
		c.deliverAll()
	}
	if st := c.nodes["n0"].Status(); st.Role == core.Leader {
		t.Fatalf("n0 won an election without the committed entry 2: %+v", st)
	}
	if st := c.nodes["n2"].Status(); st.Role != core.Leader || st.Term != before {
		t.Fatalf("n2 was disrupted by a candidate with an older log: %+v (term was %d)", st, before)
	}
}

// The Raft paper's Figure 8: a leader never commits an entry of an
// earlier term by counting replicas, only by committing one of its own
// term after it.
func TestEarlierTermEntriesAreNotCommittedByCounting(t *testing.T) {
	c := newClusterRand(t, 3, 1, firstTimesOut("n0"))
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll() // everyone commits the no-op of term 1
	c.partition([]string{"n0"})
	c.propose("n0") // entry 2 of term 1, on n0 alone
	c.deliverAll()
	for range electionTicks + 1 { // n0 steps down for want of a quorum
		c.tick("n0")
		c.deliverAll()
	}
	if st := c.nodes["n0"].Status(); st.Role != core.Follower || st.Last != 2 {
		t.Fatalf("isolated n0: %+v, want a follower holding entry 2", st)
	}
	// Healed, n0 campaigns first and wins term 2 (its log is the longest).
	c.heal()
	for c.nodes["n0"].Status().Role != core.Leader {
		c.tickAll()
		c.deliverIf(func(m core.Message) bool { return m.Type != core.MsgApp })
	}
	// n0 appends its no-op (entry 3, term 2). Deliver appends and their
	// answers to n1 only, one entry at a time, until n1 holds entry 2 but
	// not yet entry 3.
	for range 10 {
		c.deliverIf(func(m core.Message) bool {
			third := m.Type == core.MsgApp && slices.ContainsFunc(m.Entries, func(e core.Entry) bool { return e.Index == 3 })
			return (m.To == "n1" || m.From == "n1") && !(third && c.nodes["n1"].Status().Last >= 2)
		})
		if c.nodes["n1"].Status().Last == 2 {
			break
		}
	}
	if st := c.nodes["n1"].Status(); st.Last != 2 {
		t.Fatalf("n1 holds %d entries, want 2", st.Last)
	}
	c.deliverIf(func(m core.Message) bool { return m.Type == core.MsgAppResp })
	if st := c.nodes["n0"].Status(); st.Commit != 1 {
		t.Fatalf("the leader of term 2 committed entry 2 of term 1 by counting replicas: commit %d", st.Commit)
	}
	// Once its own entry 3 is on a majority, both are committed.
	c.deliverAll()
	c.tickAll()
	c.deliverAll()
	if st := c.nodes["n0"].Status(); st.Commit != 3 {
		t.Fatalf("leader commit %d, want 3", st.Commit)
	}
}

// A follower with a long divergent tail is repaired in a few round trips,
// not one per entry: its rejection names the last index whose term could
// match, and the leader skips every index of a term it does not share.
func TestFastBackoffSkipsWholeTerms(t *testing.T) {
	c := newClusterRand(t, 3, 64, staggered("n0", "n1"))
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll()
	c.partition([]string{"n0"})
	for range 30 {
		c.propose("n0") // entries 2…31 of term 1, on n0 alone
	}
	c.deliverAll()
	for c.leader() == "n0" || c.leader() == "" {
		c.tick("n1")
		c.tick("n2")
		c.deliverAll()
	}
	for range 40 {
		c.propose(c.leader()) // entries 3…42 of term 2 on n1 and n2
	}
	c.deliverAll()
	// Now n0 and n2 meet, without n1: n2, whose log is newer, is elected
	// and repairs n0, whose entries 2…31 all conflict.
	c.partition([]string{"n1"})
	rejections := 0
	for range 10 * electionTicks {
		for len(c.flight) > 0 {
			if m := c.flight[0]; m.Type == core.MsgAppResp && m.Reject && m.From == "n0" && !c.cut[[2]string{"n0", m.To}] {
				rejections++
			}
			c.deliver(0)
		}
		c.tick("n0")
		c.tick("n2")
	}
	if c.leader() != "n2" {
		t.Fatalf("leader %q, want n2", c.leader())
	}
	if got, want := c.nodes["n0"].Log(), c.nodes["n2"].Log(); !slices.EqualFunc(got, want, entryEqual) {
		t.Fatalf("n0's log was not repaired:\n got %v\nwant %v", got, want)
	}
	if rejections == 0 || rejections > 2 {
		t.Fatalf("%d rejections to repair 30 divergent entries behind 41 new ones, want 1 or 2", rejections)
	}
}

// A leader cut off from the majority refuses new work at once and steps
// down within an election timeout; reads it had started are dropped.
func TestIsolatedLeaderStepsDown(t *testing.T) {
	c := newClusterRand(t, 5, 8, firstTimesOut("n0"))
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll()
	c.partition([]string{"n0", "n1"})
	read := c.read("n0")
	if read == 0 {
		t.Fatal("a fresh leader refused a read")
	}
	for range electionTicks / 2 {
		c.tick("n0")
		c.deliverAll()
	}
	if _, _, err := c.nodes["n0"].Propose(nil); !errors.Is(err, core.ErrNoQuorum) {
		t.Fatalf("Propose on a leader that lost its majority: %v, want ErrNoQuorum", err)
	}
	for range electionTicks / 2 {
		c.tick("n0")
		c.deliverAll()
	}
	if st := c.nodes["n0"].Status(); st.Role != core.Follower || st.Lead != "" {
		t.Fatalf("isolated leader: %+v, want a follower without a leader", st)
	}
	if !c.dropped[read] || c.reads[read] != 0 {
		t.Fatalf("read %d: dropped %v, granted at %d; want dropped", read, c.dropped[read], c.reads[read])
	}
}

// Pre-votes: a node cut off from everyone keeps its term, and when it
// comes back it does not depose the leader.
func TestPreVoteKeepsAnIsolatedNodeFromDisruptingTheLeader(t *testing.T) {
	c := newClusterRand(t, 3, 8, firstTimesOut("n0"))
	c.electWith(t, "n0")
	c.partition([]string{"n2"})
	for range 10 * electionTicks {
		c.tickAll()
		c.deliverAll()
	}
	if st := c.nodes["n2"].Status(); st.Term != 1 || st.Role == core.Leader {
		t.Fatalf("isolated n2: %+v, want term 1 and not leader", st)
	}
	c.heal()
	for range 3 * electionTicks {
		c.tickAll()
		c.deliverAll()
	}
	if st := c.nodes["n0"].Status(); st.Role != core.Leader || st.Term != 1 {
		t.Fatalf("n0 after the heal: %+v, want still leader of term 1", st)
	}
	if st := c.nodes["n2"].Status(); st.Lead != "n0" {
		t.Fatalf("n2 after the heal: %+v, want following n0", st)
	}
}

// A read is granted only after a majority answered a heartbeat sent after
// it was asked, at the commit index the leader had when it was asked.
func TestReadIndexNeedsAHeartbeatRound(t *testing.T) {
	c := newClusterRand(t, 3, 8, firstTimesOut("n0"))
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll()
	if err := c.nodes["n1"].ReadIndex(99); !errors.Is(err, core.ErrNotLeader) {
		t.Fatalf("ReadIndex on a follower: %v, want ErrNotLeader", err)
	}
	c.propose("n0")
	c.deliverAll()
	commit := c.nodes["n0"].Status().Commit
	read := c.read("n0")
	if c.reads[read] != 0 {
		t.Fatal("read granted before any follower answered")
	}
	c.deliverIf(func(m core.Message) bool { return m.Type == core.MsgHeartbeat && m.To == "n1" })
	c.deliverIf(func(m core.Message) bool { return m.Type == core.MsgHeartbeatResp })
	if got := c.reads[read]; got != commit {
		t.Fatalf("read granted at %d, want the commit index %d", got, commit)
	}
}

// Standing: nodes that start together become voters; a node restarted
// with empty memory learns from its peers that they knew its earlier life
// and never votes or campaigns again, while its log is repaired.
func TestRestartedNodeNeverVotesAgain(t *testing.T) {
	c := newClusterRand(t, 3, 8, firstTimesOut("n0"))
	c.deliverAll()
	for _, id := range c.ids {
		if st := c.nodes[id].Status(); st.Standing != core.Voter {
			t.Fatalf("%s starts as %v, want voter", id, st.Standing)
		}
	}
	c.electWith(t, "n0")
	c.propose("n0")
	c.deliverAll()
	c.restart("n1")
	c.deliverAll()
	if st := c.nodes["n1"].Status(); st.Standing != core.Amnesiac {
		t.Fatalf("restarted n1 is %v, want amnesiac", st.Standing)
	}
	for range 2 * electionTicks {
		c.tickAll()
		c.deliverAll()
	}
	if got, want := c.nodes["n1"].Log(), c.nodes["n0"].Log(); !slices.EqualFunc(got, want, entryEqual) {
		t.Fatalf("restarted n1's log was not repaired:\n got %v\nwant %v", got, want)
	}
	// With n0 gone, n2 cannot be elected: n1 will not vote.
	c.partition([]string{"n0"})
	for range 10 * electionTicks {
		c.tick("n1")
		c.tick("n2")
		c.deliverAll()
	}
	for _, id := range []string{"n1", "n2"} {
		if st := c.nodes[id].Status(); st.Role == core.Leader {
			t.Fatalf("%s was elected with a restarted node's vote: %+v", id, st)
		}
	}
}

// recorder is a failer that records the first violation and stops the
// scenario, for tests that show a violation happens.
type recorder struct{ violation string }

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.violation = fmt.Sprintf(format, args...)
	panic(r)
}

// The limit of the restart scheme, as the package documentation states
// it: when every node forgets at once, nobody remembers any earlier life,
// the nodes take themselves for a new cluster, and a new leader of term 1
// lacks the entry committed before, and commits another in its place.
// (cluster.mayRestart forbids this in
// the property tests; here it is done on purpose.)
func TestTotalAmnesiaIsIndistinguishableFromANewCluster(t *testing.T) {
	rec := &recorder{}
	func() {
		defer func() {
			if p := recover(); p != nil && p != any(rec) {
				panic(p)
			}
		}()
		c := newClusterRand(rec, 3, 8, firstTimesOut("n0"))
		c.electWith(t, "n0")
		c.propose("n0")
		c.tickAll()
		c.deliverAll()
		if len(c.committed) < 2 {
			t.Fatalf("setup: %d entries committed, want the no-op and a command", len(c.committed))
		}
		for _, id := range c.ids {
			c.restart(id)
		}
		c.deliverAll()
		for _, id := range c.ids {
			if st := c.nodes[id].Status(); st.Standing != core.Voter {
				t.Fatalf("%s is %v after a total restart, want it to take itself for new (a voter)", id, st.Standing)
			}
		}
		for range 4 * electionTicks {
			c.tickAll()
			c.deliverAll()
			c.propose(c.leader())
		}
	}()
	if rec.violation == "" {
		t.Fatalf("no safety violation after a total restart")
	}
	t.Logf("as documented: %s", rec.violation)
}

// mayRestart allows one restart at a time but not the one that leaves
// nobody remembering a node.
func TestMayRestartKeepsSomeoneRemembering(t *testing.T) {
	c := newClusterRand(t, 3, 8, firstTimesOut("n0"))
	if c.mayRestart("n1") {
		t.Fatalf("restart allowed while everyone is on probation")
	}
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll()
	if !c.mayRestart("n1") {
		t.Fatalf("a single restart of a settled cluster refused")
	}
	c.restart("n1")
	if c.mayRestart("n2") {
		t.Fatalf("restart allowed while n1 is on probation")
	}
	c.deliverAll()
	if st := c.nodes["n1"].Status(); st.Standing != core.Amnesiac {
		t.Fatalf("restarted n1 is %v, want amnesiac", st.Standing)
	}
}

// An amnesiac's acknowledgement does not count: having forgotten that it
// followed the leader of term 2, a restarted n2 accepts the appends of
// n0, deposed leader of term 1 that has not noticed, and with n2's help
// n0 would commit an entry where term 2 already committed another.
func TestAmnesiacAcknowledgementsDoNotCount(t *testing.T) {
	c := newClusterRand(t, 3, 8, staggered("n0", "n1"))
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll()
	c.partition([]string{"n0"})
	for range 4 * electionTicks {
		if c.nodes["n1"].Status().Role == core.Leader {
			break
		}
		c.tick("n1")
		c.tick("n2")
		c.deliverAll()
	}
	if st := c.nodes["n1"].Status(); st.Role != core.Leader || st.Term != 2 {
		t.Fatalf("n1 did not win term 2: %+v", st)
	}
	c.propose("n1")
	c.tick("n1")
	c.deliverAll()
	if len(c.committed) < 3 {
		t.Fatalf("setup: term 2 committed %d entries, want 3", len(c.committed))
	}
	c.restart("n2")
	c.deliverAll()
	c.partition([]string{"n1"})
	// n0 has not ticked since the first partition: it still leads term 1.
	if !c.propose("n0") {
		t.Fatalf("setup: n0 no longer takes proposals: %+v", c.nodes["n0"].Status())
	}
	for range 3 { // heartbeats let n0 find n2's new, empty log and fill it
		c.deliverAll()
		c.tick("n0")
		c.tick("n2")
	}
	c.deliverAll()
	if got := c.nodes["n2"].Log(); len(got) < 2 || got[1].Term != 1 {
		t.Fatalf("setup: amnesiac n2 did not take deposed n0's entry: %v", got)
	}
	if st := c.nodes["n0"].Status(); st.Commit != 1 {
		t.Fatalf("deposed n0 committed up to %d with an amnesiac's acknowledgement", st.Commit)
	}
}

// A peer that already heard from a node's new life still answers its
// repeated hello with "known": the answer rests on the earliest life the
// peer knows, not on the newest it heard.
func TestRepeatedHelloIsStillKnown(t *testing.T) {
	c := newClusterRand(t, 3, 8, firstTimesOut("n0"))
	c.electWith(t, "n0")
	c.tickAll()
	c.deliverAll()
	c.restart("n1")
	c.deliverIf(func(m core.Message) bool { return m.Type == core.MsgHello })
	c.deliverIf(func(m core.Message) bool { return false }) // the answers are lost
	for range electionTicks {
		c.tick("n1")
	}
	c.deliverAll()
	if st := c.nodes["n1"].Status(); st.Standing != core.Amnesiac {
		t.Fatalf("restarted n1 is %v after its first answers were lost, want amnesiac", st.Standing)
	}
}

// Founding: a cluster partitioned from its first instant still elects on
// the majority side, whose nodes become voters on the answers of a
// majority of pristine nodes; the minority stays on probation until the
// partition heals, then hears from everyone and votes too.
func TestFoundingMajorityElectsDespiteAPartition(t *testing.T) {
	c := newClusterRand(t, 5, 8, firstTimesOut("n2"))
	c.flight = nil // the first hellos are lost to the partition
	c.partition([]string{"n0", "n1"})
	for range 4 * electionTicks {
		c.tickAll()
		c.deliverAll()
		if c.nodes["n2"].Status().Role == core.Leader {
			break
		}
	}
	if st := c.nodes["n2"].Status(); st.Role != core.Leader {
		t.Fatalf("n2 not elected on the majority side: %+v", st)
	}
	for _, id := range []string{"n0", "n1"} {
		if st := c.nodes[id].Status(); st.Standing != core.Probation {
			t.Fatalf("%s on the minority side is %v, want probation", id, st.Standing)
		}
	}
	c.heal()
	for range 2 * electionTicks {
		c.tickAll()
		c.deliverAll()
	}
	for _, id := range c.ids {
		if st := c.nodes[id].Status(); st.Standing != core.Voter {
			t.Fatalf("%s is %v after the heal, want voter", id, st.Standing)
		}
	}
}
