package workbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
)

// nemesisLoop performs the partition nemesis's schedule during the main
// phase: start-partition at once, then stop-partition and start-partition
// in turn after gaps uniform in [0, 2 × --nemesis-interval) (Maelstrom's
// src/maelstrom/nemesis.clj, package, over Jepsen's partition nemesis).
type nemesisLoop struct {
	r        *run
	rng      *rand.Rand
	schedule *nemesis.Schedule
	pool     *threadPool
	next     string        // the operation of the next turn
	delay    time.Duration // how long after the last turn the next one is due
}

func (r *run) newNemesis(pool *threadPool) *nemesisLoop {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x6e656d))
	n := &nemesisLoop{r: r, rng: rng, schedule: nemesis.NewSchedule(r.cfg.NemesisInterval, rng), pool: pool}
	n.next, _ = n.schedule.Next()
	return n
}

// turn performs the next operation. Each turn occupies Jepsen's nemesis
// thread, which moves the client threads' rotation on (threadPool).
func (n *nemesisLoop) turn() {
	n.pool.nemesisBusy()
	switch n.next {
	case nemesis.StartPartition:
		n.r.nemesisOp(nemesis.StartPartition, func() any {
			spec, g := nemesis.RandomPartition(n.r.cfg.NodeIDs, n.rng)
			n.r.net.Partition(g)
			n.r.log.Infof("Partition %s: %s", spec, partitionLine(g))
			return g.Isolated()
		})
	case nemesis.StopPartition:
		n.r.nemesisOp(nemesis.StopPartition, n.r.heal)
	}
	n.next, n.delay = n.schedule.Next()
}

// run waits for each next turn and performs it, until the deadline.
// The first turn must already have been taken.
func (n *nemesisLoop) run(ctx context.Context, deadline time.Time) {
	for {
		next := time.Now().Add(n.delay)
		if !next.Before(deadline) {
			_ = sleepCtx(ctx, time.Until(deadline))
			return
		}
		if sleepCtx(ctx, time.Until(next)) != nil {
			return
		}
		n.turn()
	}
}

// heal ends every partition; its result is the :stop-partition value.
func (r *run) heal() any {
	r.net.Heal()
	return nemesis.Healed
}

// nemesisOp records a nemesis operation around act, whose result is the
// completion's value.
func (r *run) nemesisOp(f string, act func() any) {
	r.hist.Append(history.Op{Type: history.Info, Process: history.NemesisProcess, F: f})
	v := act()
	r.hist.Append(history.Op{Type: history.Info, Process: history.NemesisProcess, F: f, Value: v})
}

// partitionLine renders a grudge for the log as Maelstrom prints it,
// {"n0" #{"n1" "n2"}, …}.
func partitionLine(g nemesis.Grudge) string {
	b, err := edn.Marshal(g.EDN())
	if err != nil {
		return fmt.Sprint(g)
	}
	return string(b)
}
