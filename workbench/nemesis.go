package workbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
)

// nemesisLoop performs the faults of --nemesis during the main phase.
//
// Each fault follows its own schedule, as the partition nemesis does in
// Maelstrom (src/maelstrom/nemesis.clj, package, over Jepsen's combined
// partition package): its first operation at once, then its stop and
// start operations in turn after gaps uniform in [0, 2 × --nemesis-interval).
// Jepsen composes fault packages with gen/any, so each package keeps its
// own stagger; we do the same for kill and pause, where Jepsen's db
// package would mix them on one stagger (jepsen/nemesis/combined.clj,
// db-generators).
//
//   - partition: start-partition cuts the network (a random spec, as in
//     Maelstrom); stop-partition heals it.
//   - kill: kill ends one random node's process (SIGKILL; an in-process
//     node's pipes are closed); start launches a fresh one, which must
//     answer init again. While down, messages to the node are dropped.
//   - pause: pause freezes one random node (SIGSTOP; an in-process node
//     gets no input and its output is held back); resume undoes it.
//
// Overlap: each fault has at most one target at a time (its operations
// alternate), and the kill and pause targets are always different nodes,
// so a node is never killed while paused. With partitions, at most one
// node is down and one frozen while the network is cut. A kill or pause
// that finds no free node (a one-node test with both faults) acts on
// nobody, and its value is empty.
//
// With Config.FaultPlan the faults are data instead: each performs its
// planned operations at their times (from the start of relative time),
// with the planned grudges and targets, and draws nothing from the seed.
//
// All faults share Jepsen's single nemesis thread: their operations are
// performed one at a time, in the order they fall due (ties in the order
// partition, pause, kill), and a slow restart delays the others.
type nemesisLoop struct {
	r      *run
	pool   *threadPool
	faults []*fault // in nemesis.Faults order
}

// fault is the state of one fault kind.
type fault struct {
	name     string
	rng      *rand.Rand
	schedule *nemesis.Schedule
	next     string    // the operation of the next turn
	due      time.Time // when the next turn is due; zero: at once
	targets  []string  // nodes killed or paused now

	// With Config.FaultPlan: planned is set, and plan holds the fault's
	// events not yet performed, the next turn's first.
	planned bool
	plan    []nemesis.Event
}

// never is the due time of a planned fault with no events left.
var never = time.Unix(1<<62, 0)

// The streams of each fault's randomness: the partition's is the one it
// always had, so partition-only runs repeat across versions.
var faultStreams = map[string]uint64{
	nemesis.FaultPartition: 0x6e656d,
	nemesis.FaultKill:      0x6b696c,
	nemesis.FaultPause:     0x706175,
}

func (r *run) newNemesis(pool *threadPool) *nemesisLoop {
	n := &nemesisLoop{r: r, pool: pool}
	for _, name := range nemesis.Faults() {
		if !r.cfg.fault(name) {
			continue
		}
		if r.cfg.FaultPlan != nil {
			f := &fault{name: name, planned: true}
			for _, e := range r.cfg.FaultPlan {
				if nemesis.FaultOf(e.Op) == name {
					f.plan = append(f.plan, e)
				}
			}
			f.advance(r.hist.Start(), false)
			n.faults = append(n.faults, f)
			continue
		}
		rng := rand.New(rand.NewPCG(r.cfg.Seed, faultStreams[name]))
		f := &fault{name: name, rng: rng, schedule: nemesis.NewFaultSchedule(name, r.cfg.NemesisInterval, rng)}
		f.next, _ = f.schedule.Next()
		n.faults = append(n.faults, f)
	}
	return n
}

// turn performs every operation that is due, in order. Each occupies
// Jepsen's nemesis thread, which moves the client threads' rotation on
// (threadPool).
func (n *nemesisLoop) turn(ctx context.Context) {
	for {
		f := n.soonest()
		if f == nil || time.Now().Before(f.due) {
			return
		}
		n.pool.nemesisBusy()
		n.perform(ctx, f, f.next)
		if f.planned {
			f.advance(n.r.hist.Start(), true)
			continue
		}
		var delay time.Duration
		f.next, delay = f.schedule.Next()
		f.due = time.Now().Add(delay)
	}
}

// advance sets a planned fault's next turn from its plan, after dropping
// the event just performed when done is set.
func (f *fault) advance(start time.Time, done bool) {
	if done && len(f.plan) > 0 {
		f.plan = f.plan[1:]
	}
	if len(f.plan) == 0 {
		f.next, f.due = "", never
		return
	}
	f.next, f.due = f.plan[0].Op, start.Add(f.plan[0].At)
}

// soonest returns the fault whose turn is due first (nil without faults).
func (n *nemesisLoop) soonest() *fault {
	var best *fault
	for _, f := range n.faults {
		if best == nil || f.due.Before(best.due) {
			best = f
		}
	}
	return best
}

// run waits for each next turn and performs it, until the deadline.
// The first turns must already have been taken.
func (n *nemesisLoop) run(ctx context.Context, deadline time.Time) {
	for {
		f := n.soonest()
		if f == nil || !f.due.Before(deadline) {
			_ = sleepCtx(ctx, time.Until(deadline))
			return
		}
		if sleepCtx(ctx, time.Until(f.due)) != nil {
			return
		}
		n.turn(ctx)
	}
}

// perform carries out one operation of f and records it.
func (n *nemesisLoop) perform(ctx context.Context, f *fault, op string) {
	r := n.r
	switch op {
	case nemesis.StartPartition:
		r.nemesisOp(op, nil, func() any {
			if f.planned {
				g := f.plan[0].Grudge
				r.net.Partition(g)
				r.log.Infof("Partition (planned): %s", partitionLine(g))
				return g.Isolated()
			}
			spec, g := nemesis.RandomPartition(r.cfg.NodeIDs, f.rng)
			r.net.Partition(g)
			r.log.Infof("Partition %s: %s", spec, partitionLine(g))
			return g.Isolated()
		})
	case nemesis.StopPartition:
		r.nemesisOp(op, nil, r.heal)
	case nemesis.KillOp, nemesis.PauseOp:
		targets := []string{}
		if f.planned {
			targets = slices.Clone(f.plan[0].Nodes)
		} else if id, ok := nemesis.PickTarget(r.cfg.NodeIDs, n.busy(f), f.rng); ok {
			targets = []string{id}
		}
		f.targets = targets
		r.nemesisOp(op, slices.Clone(targets), func() any {
			if len(targets) == 0 {
				r.log.Infof("%s nobody: every node is under another fault", map[string]string{nemesis.KillOp: "Killing", nemesis.PauseOp: "Pausing"}[op])
			}
			for _, id := range targets {
				if op == nemesis.KillOp {
					r.killOne(id)
				} else {
					r.pauseOne(id)
				}
			}
			return slices.Clone(targets)
		})
	case nemesis.StartOp, nemesis.ResumeOp:
		targets := append([]string{}, f.targets...)
		f.targets = nil
		r.nemesisOp(op, slices.Clone(targets), func() any {
			for _, id := range targets {
				if op == nemesis.StartOp {
					r.restartOne(ctx, id)
				} else {
					r.resumeOne(id)
				}
			}
			return slices.Clone(targets)
		})
	}
}

// busy returns the targets of the faults other than f.
func (n *nemesisLoop) busy(f *fault) []string {
	var out []string
	for _, g := range n.faults {
		if g != f && g.name != nemesis.FaultPartition {
			out = append(out, g.targets...)
		}
	}
	return out
}

// heal ends every fault before the final phase, as Jepsen's final
// generators do (stop-partition, then resume, then start); each fault of
// --nemesis records its stop operation even when nothing is faulty at the
// time, as Jepsen does. A nil loop (no --nemesis) does nothing. The loop's
// run must have returned.
func (n *nemesisLoop) heal(ctx context.Context) {
	if n == nil {
		return
	}
	for _, f := range n.faults {
		_, stop := nemesis.Ops(f.name)
		n.perform(ctx, f, stop)
	}
}

func (r *run) killOne(id string) {
	nc := r.nodes[id]
	if pid := nc.current().Pid(); pid != 0 {
		r.log.Infof("Killing %s (pid %d)", id, pid)
	} else {
		r.log.Infof("Killing %s", id)
	}
	r.killNode(nc)
}

func (r *run) restartOne(ctx context.Context, id string) {
	nc := r.nodes[id]
	r.log.Infof("Restarting %s", id)
	lost, err := r.restartNode(ctx, nc)
	if err != nil {
		r.log.Errorf("Node %s did not come back: %v", id, err)
		return
	}
	var pid string
	if p := nc.current().Pid(); p != 0 {
		pid = fmt.Sprintf(", pid %d", p)
	}
	msgs := "messages"
	if lost == 1 {
		msgs = "message"
	}
	r.log.Infof("%s is up again (init_ok%s); %d %s to it were dropped while it was down", id, pid, lost, msgs)
}

func (r *run) pauseOne(id string) {
	r.log.Infof("Pausing %s", id)
	if err := r.nodes[id].current().Pause(); err != nil {
		r.log.Warnf("%v", err)
	}
}

func (r *run) resumeOne(id string) {
	r.log.Infof("Resuming %s", id)
	if err := r.nodes[id].current().Resume(); err != nil {
		r.log.Warnf("%v", err)
	}
}

// heal ends every partition; its result is the :stop-partition value.
func (r *run) heal() any {
	r.net.Heal()
	return nemesis.Healed
}

// nemesisOp records a nemesis operation around act: the invocation with
// value inv, the completion with act's result.
func (r *run) nemesisOp(f string, inv any, act func() any) {
	r.hist.Append(history.Op{Type: history.Info, Process: history.NemesisProcess, F: f, Value: inv})
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
