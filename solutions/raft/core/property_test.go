package core_test

import (
	"testing"

	"github.com/glomers/glomers/solutions/raft/core"
	"pgregory.net/rapid"
)

// chaos runs a random schedule on a cluster: ticks, deliveries in any
// order, losses, duplicates, partitions and heals, proposals and reads,
// and (with restarts) nodes restarting with empty memory. The cluster
// checks election safety, log matching, leader completeness, state
// machine safety and read-index linearizability after every step.
func chaos(t *rapid.T, restarts bool) *cluster {
	sizes := []int{1, 3, 5}
	if restarts {
		// A lone node has nobody to learn from that it restarted: a
		// one-node cluster cannot survive losing its memory.
		sizes = []int{3, 5}
	}
	n := rapid.SampledFrom(sizes).Draw(t, "nodes")
	// One entry per append makes the leader's log reach followers piece
	// by piece, which the subtler histories (the Raft paper's Figure 8) need.
	maxEntries := rapid.SampledFrom([]int{1, 4}).Draw(t, "max entries")
	c := newCluster(t, n, rapid.Uint64().Draw(t, "seed"), maxEntries)
	steps := rapid.IntRange(300, 1000).Draw(t, "steps")
	pick := func(label string) string { return rapid.SampledFrom(c.ids).Draw(t, label) }
	for range steps {
		switch a := rapid.IntRange(0, 99).Draw(t, "action"); {
		// Small draws are rapid's favourites (and what shrinking aims
		// for), so they deliver: schedules then make progress.
		case a < 40:
			if len(c.flight) > 0 {
				c.deliver(rapid.IntRange(0, len(c.flight)-1).Draw(t, "deliver"))
			}
		case a < 65:
			c.tick(pick("tick"))
		case a < 70:
			if len(c.flight) > 0 {
				c.drop(rapid.IntRange(0, len(c.flight)-1).Draw(t, "drop"))
			}
		case a < 73:
			if len(c.flight) > 0 {
				c.duplicate(rapid.IntRange(0, len(c.flight)-1).Draw(t, "duplicate"))
			}
		case a < 76:
			var side []string
			for _, id := range c.ids {
				if rapid.Bool().Draw(t, "side "+id) {
					side = append(side, id)
				}
			}
			c.partition(side)
		case a < 79:
			c.heal()
		case a < 90:
			c.propose(pick("propose"))
		case a < 96:
			c.read(pick("read"))
		default:
			if restarts && a >= 98 {
				if id := pick("restart"); c.mayRestart(id) {
					c.restart(id)
				}
			} else {
				c.tickAll()
			}
		}
	}
	return c
}

// TestSafety: under any schedule of message loss, reordering,
// duplication and partitions, the safety properties hold; and once the
// network heals and messages flow, a leader is elected and commits a new
// entry on every node (liveness after the faults stop).
func TestSafety(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := chaos(t, false)
		c.heal()
		settleOnNewEntry(t, c)
	})
}

// TestSafetyWithRestarts: the same, with nodes restarting with empty
// memory whenever the documented assumption allows (cluster.mayRestart:
// nobody on probation, and every node that was heard from still known to
// another node). Restarted nodes never vote again and their
// acknowledgements never count, so safety holds; the cluster stays live
// while a majority of the nodes has never restarted.
func TestSafetyWithRestarts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := chaos(t, true)
		c.heal()
		voters := 0
		c.settle(100, func() bool { return false }) // let hellos be answered
		for _, id := range c.ids {
			if c.nodes[id].Status().Standing == core.Voter {
				voters++
			}
		}
		if voters > len(c.ids)/2 {
			settleOnNewEntry(t, c)
		}
	})
}

// settleOnNewEntry requires a leader to emerge on a healed network and a
// proposal to it to be applied by every node.
func settleOnNewEntry(t *rapid.T, c *cluster) {
	if !c.settle(300, func() bool { return c.leader() != "" }) {
		t.Fatalf("no leader after the network healed")
	}
	if !c.settle(50, func() bool { return c.propose(c.leader()) }) {
		t.Fatalf("the leader %s refused a proposal on a healed network", c.leader())
	}
	want := int(c.nodes[c.leader()].Status().Last)
	ok := c.settle(300, func() bool {
		if len(c.committed) < want {
			return false
		}
		for _, id := range c.ids {
			if c.applied[id] != len(c.committed) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("a proposal on a healed network was not applied everywhere: %d committed, applied %v", len(c.committed), c.applied)
	}
}
