package core_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/glomers/glomers/solutions/raft/core"
)

// cluster is a deterministic in-memory network of cores. Nothing happens
// unless the test says so: a node ticks, a message in flight is
// delivered, dropped or duplicated, the network is partitioned or healed,
// a node restarts with empty memory. After every step the cluster checks
// Raft's safety properties (the Raft paper, Figure 3) and fails fast.
type cluster struct {
	t      failer
	ids    []string
	cfg    func(id string, inc int64) core.Config
	nodes  map[string]*core.Raft
	inc    map[string]int64
	flight []core.Message
	cut    map[[2]string]bool // {from, to} links that drop messages

	// What the checks remember.
	leaders    map[uint64]string  // term → the node that led it
	committed  []core.Entry       // the one committed sequence, as first reported
	commitTerm []uint64           // the reporter's term when entry i+1 was first reported committed
	applied    map[string]int     // entries applied by each node's current life
	readFloor  map[uint64]uint64  // read id → entries known committed when it was asked
	reads      map[uint64]uint64  // read id → index it was granted
	proposed   map[[2]uint64]bool // {index, term} the leaders returned from Propose
	payload    map[[2]uint64][]byte
	dropped    map[uint64]bool
	heard      map[string]bool // nodes some voter life of which had a message delivered
	wasVoter   map[string]bool // nodes some earlier life of which was a voter
	nextRead   uint64
	nextData   int
	restarts   int
	violations int
}

func newCluster(t failer, n int, seed uint64, maxEntries int) *cluster {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	return newClusterRand(t, n, maxEntries, func(string) func(int) int { return rng.IntN })
}

// newClusterRand is newCluster with each node's randomness chosen by rnd.
func newClusterRand(t failer, n int, maxEntries int, rnd func(id string) func(int) int) *cluster {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i)
	}
	c := &cluster{
		t: t, ids: ids, nodes: map[string]*core.Raft{}, inc: map[string]int64{},
		cut: map[[2]string]bool{}, leaders: map[uint64]string{}, applied: map[string]int{},
		readFloor: map[uint64]uint64{}, reads: map[uint64]uint64{}, proposed: map[[2]uint64]bool{},
		payload: map[[2]uint64][]byte{}, dropped: map[uint64]bool{}, heard: map[string]bool{}, wasVoter: map[string]bool{},
	}
	c.cfg = func(id string, inc int64) core.Config {
		return core.Config{ID: id, Peers: ids, Incarnation: inc, HeartbeatTicks: 1, ElectionTicks: 10,
			MaxEntries: maxEntries, Rand: rnd(id)}
	}
	for _, id := range ids {
		c.inc[id] = 1
		c.nodes[id] = core.New(c.cfg(id, 1))
		c.collect(id)
	}
	return c
}

// collect takes id's Ready: queues its messages, checks and records what
// it applied, and checks its read states.
func (c *cluster) collect(id string) {
	c.t.Helper()
	r := c.nodes[id]
	rd := r.Ready()
	c.flight = append(c.flight, rd.Messages...)
	st := r.Status()
	for _, e := range rd.Committed {
		// State machine safety: every node applies the same entry at an
		// index, and applies indices in order from 1.
		c.applied[id]++
		if e.Index != uint64(c.applied[id]) {
			c.fail("%s applied index %d after %d entries", id, e.Index, c.applied[id]-1)
		}
		if int(e.Index) <= len(c.committed) {
			if g := c.committed[e.Index-1]; g.Term != e.Term || !bytes.Equal(g.Data, e.Data) {
				c.fail("state machine safety: %s applied %v at %d, but %v was committed there", id, e, e.Index, g)
			}
		} else {
			c.committed = append(c.committed, e)
			c.commitTerm = append(c.commitTerm, st.Term)
		}
	}
	for _, rs := range rd.ReadStates {
		// Read-index linearizability: a read is served at an index no lower
		// than everything committed anywhere when it was asked.
		floor, ok := c.readFloor[rs.ID]
		if !ok || c.reads[rs.ID] != 0 || c.dropped[rs.ID] {
			c.fail("read %d granted unasked or twice", rs.ID)
		}
		if rs.Index < floor {
			c.fail("read %d granted at index %d, but %d entries were committed when it was asked", rs.ID, rs.Index, floor)
		}
		c.reads[rs.ID] = rs.Index
	}
	for _, id := range rd.DroppedReads {
		c.dropped[id] = true
	}
	c.check()
}

// check asserts the safety properties that hold at every instant.
func (c *cluster) check() {
	c.t.Helper()
	for _, id := range c.ids {
		if c.nodes[id] == nil {
			continue // still being created
		}
		st := c.nodes[id].Status()
		log := c.nodes[id].Log()
		if st.Role != core.Leader {
			continue
		}
		// Election safety: at most one leader per term.
		if l, ok := c.leaders[st.Term]; ok && l != id {
			c.fail("election safety: %s and %s both led term %d", l, id, st.Term)
		}
		c.leaders[st.Term] = id
		// Leader completeness: a leader holds every entry committed in an
		// earlier term.
		for i, e := range c.committed {
			if c.commitTerm[i] < st.Term && (i >= len(log) || log[i].Term != e.Term || !bytes.Equal(log[i].Data, e.Data)) {
				c.fail("leader completeness: %s leads term %d without entry %d (term %d) committed by term %d", id, st.Term, e.Index, e.Term, c.commitTerm[i])
			}
		}
	}
	// Log matching: if two logs hold an entry with the same index and
	// term, they are identical up to it.
	for a := range c.ids {
		if c.nodes[c.ids[a]] == nil {
			continue
		}
		la := c.nodes[c.ids[a]].Log()
		for _, e := range la {
			k := [2]uint64{e.Index, e.Term}
			if p, ok := c.payload[k]; ok && !bytes.Equal(p, e.Data) {
				c.fail("log matching: two entries with index %d and term %d differ", e.Index, e.Term)
			}
			c.payload[k] = e.Data
		}
		for b := a + 1; b < len(c.ids) && c.nodes[c.ids[b]] != nil; b++ {
			lb := c.nodes[c.ids[b]].Log()
			for i := min(len(la), len(lb)) - 1; i >= 0; i-- {
				if la[i].Term == lb[i].Term {
					if !slices.EqualFunc(la[:i+1], lb[:i+1], entryEqual) {
						c.fail("log matching: %s and %s agree on (%d, %d) but not before", c.ids[a], c.ids[b], i+1, la[i].Term)
					}
					break
				}
			}
		}
	}
}

// failer is what the cluster needs of a *testing.T or a *rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

func entryEqual(a, b core.Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && bytes.Equal(a.Data, b.Data)
}

func (c *cluster) fail(format string, args ...any) {
	c.t.Helper()
	c.violations++
	c.t.Fatalf(format, args...)
}

// ---- the steps a test may take ----

func (c *cluster) tick(id string) {
	c.nodes[id].Tick()
	c.collect(id)
}

func (c *cluster) tickAll() {
	for _, id := range c.ids {
		c.tick(id)
	}
}

// deliver hands message i to its destination, unless a partition drops it.
func (c *cluster) deliver(i int) {
	m := c.flight[i]
	c.flight = slices.Delete(c.flight, i, i+1)
	if c.cut[[2]string{m.From, m.To}] {
		return
	}
	if m.Voter {
		c.heard[m.From] = true
	}
	c.nodes[m.To].Step(m)
	c.collect(m.To)
}

func (c *cluster) drop(i int) { c.flight = slices.Delete(c.flight, i, i+1) }

func (c *cluster) duplicate(i int) { c.flight = append(c.flight, c.flight[i]) }

// partition cuts every link between side and the other nodes.
func (c *cluster) partition(side []string) {
	c.cut = map[[2]string]bool{}
	for _, a := range c.ids {
		for _, b := range c.ids {
			if slices.Contains(side, a) != slices.Contains(side, b) {
				c.cut[[2]string{a, b}] = true
			}
		}
	}
}

func (c *cluster) heal() { c.cut = map[[2]string]bool{} }

// propose asks id to append a fresh command; it reports whether id took it.
func (c *cluster) propose(id string) bool {
	if id == "" {
		return false // no leader to propose to
	}
	c.nextData++
	data := fmt.Appendf(nil, `"cmd %d"`, c.nextData)
	idx, term, err := c.nodes[id].Propose(data)
	if err != nil {
		return false
	}
	c.proposed[[2]uint64{idx, term}] = true
	c.collect(id)
	return true
}

// read asks id for a read index; it reports the read's id, 0 if refused.
func (c *cluster) read(id string) uint64 {
	c.nextRead++
	rid := c.nextRead
	c.readFloor[rid] = uint64(len(c.committed))
	if c.nodes[id].ReadIndex(rid) != nil {
		return 0
	}
	c.collect(id)
	return rid
}

// restart replaces id by a new life with empty memory, as a killed and
// restarted process would be.
func (c *cluster) restart(id string) {
	if c.nodes[id].Status().Standing != core.Probation {
		c.wasVoter[id] = true // an amnesiac's earlier lives include a voter
	}
	c.inc[id]++
	c.restarts++
	c.nodes[id] = core.New(c.cfg(id, c.inc[id]))
	c.applied[id] = 0
	c.collect(id)
}

// mayRestart reports whether restarting id keeps the assumption under
// which the package documentation promises safety across restarts: no
// other node that had a voter life before is still on probation; fewer
// than a majority of the nodes, id included, are pristine (term 0, empty
// log); and every node that was heard from as a voter stays known (its
// lowest voter incarnation recorded) to some node other than itself and
// id. Without it a restarted node can be
// taken for a new one; TestTotalAmnesiaIsIndistinguishableFromANewCluster
// shows the cost.
func (c *cluster) mayRestart(id string) bool {
	pristine := 1 // id, once restarted
	for _, p := range c.ids {
		st := c.nodes[p].Status()
		if p != id && st.Standing == core.Probation && c.wasVoter[p] {
			return false
		}
		if p != id && st.Term == 0 && st.Last == 0 {
			pristine++
		}
	}
	if pristine > len(c.ids)/2 {
		return false
	}
	for _, w := range c.ids {
		if !c.heard[w] {
			continue
		}
		covered := false
		for _, p := range c.ids {
			if p == w || p == id {
				continue
			}
			if _, ok := c.nodes[p].Lives()[w]; ok {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

// settle delivers everything in flight, in order, ticking everyone
// between rounds, for at most ticks rounds or until cond holds.
func (c *cluster) settle(ticks int, cond func() bool) bool {
	for range ticks {
		for len(c.flight) > 0 {
			c.deliver(0)
		}
		if cond() {
			return true
		}
		c.tickAll()
	}
	return cond()
}

// leader returns the leader of the highest term, "" if none.
func (c *cluster) leader() string {
	best, term := "", uint64(0)
	for _, id := range c.ids {
		if st := c.nodes[id].Status(); st.Role == core.Leader && st.Term >= term {
			best, term = id, st.Term
		}
	}
	return best
}
