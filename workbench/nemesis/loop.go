package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/internal/sleep"
)

// Target is what the nemesis acts on: the test runner implements it.
// Each method acts at once and reports problems in the test log itself;
// Loop decides what to do and when, and records it.
type Target interface {
	// Partition cuts the network as g says, replacing any partition in
	// force.
	Partition(g Grudge)
	// Heal ends every partition.
	Heal()
	// Kill ends node's process; messages to it are dropped until Restart
	// brings it back.
	Kill(node string)
	// Restart starts a fresh process for a killed node and waits until
	// it has answered init again.
	Restart(ctx context.Context, node string)
	// Pause freezes node's process; Resume lets it go on.
	Pause(node string)
	Resume(node string)
	// Record appends a nemesis operation to the history: an :info entry
	// of the nemesis process with :f f and :value value. Loop records
	// each operation twice, before acting (the invocation) and after
	// (the completion).
	Record(f string, value any)
}

// Config is what a Loop needs besides its Target.
type Config struct {
	Faults   []string      // the faults to inject (--nemesis), in any order
	Nodes    []string      // the test's nodes, in a fixed order
	Interval time.Duration // mean gap between one fault's operations
	Seed     uint64        // the run's seed; each fault draws from a stream of its own
	// Plan, when not nil, replaces the random faults: each fault
	// performs its planned operations at their times, with the planned
	// grudges and targets, and draws nothing from Seed.
	Plan Plan
	// Start is when relative time began, which Plan's times count from.
	Start time.Time
	// Busy, when set, is called as each operation begins: the operation
	// occupies Jepsen's nemesis thread, which moves the client threads'
	// rotation on.
	Busy func()
	// Logf writes a line to the test log; nil discards it.
	Logf func(format string, args ...any)
}

// Loop performs the faults of --nemesis during a test's main phase and
// ends them all before its final phase.
//
// Each fault follows its own schedule, as the partition nemesis does in
// Maelstrom (src/maelstrom/nemesis.clj, package, over Jepsen's combined
// partition package): its first operation at once, then its stop and
// start operations in turn after gaps uniform in [0, 2 × interval) (see
// Schedule). Jepsen composes fault packages with gen/any, so each
// package keeps its own stagger; Loop does the same for kill and pause,
// where Jepsen's db package would mix them on one stagger
// (jepsen/nemesis/combined.clj, db-generators).
//
//   - partition: start-partition cuts the network (a random spec, as in
//     Maelstrom); stop-partition heals it.
//   - kill: kill ends one random node's process; start launches a fresh
//     one, which must answer init again.
//   - pause: pause freezes one random node; resume undoes it.
//
// Overlap: each fault has at most one target at a time (its operations
// alternate), and the kill and pause targets are always different nodes,
// so a node is never killed while paused. With partitions, at most one
// node is down and one frozen while the network is cut. A kill or pause
// that finds no free node (a one-node test with both faults) acts on
// nobody, and its value is empty.
//
// All faults share Jepsen's single nemesis thread: their operations are
// performed one at a time, in the order they fall due (ties in the order
// of Faults: partition, pause, kill), and a slow restart delays the
// others.
type Loop struct {
	target Target
	cfg    Config
	faults []*fault // in Faults order
}

// fault is the state of one fault kind.
type fault struct {
	name     string
	rng      *rand.Rand
	schedule *Schedule
	next     string    // the operation of the next turn
	due      time.Time // when the next turn is due; zero: at once
	targets  []string  // nodes killed or paused now

	// With Config.Plan: planned is set, and plan holds the fault's
	// events not yet performed, the next turn's first.
	planned bool
	plan    []Event
}

// never is the due time of a planned fault with no events left.
var never = time.Unix(1<<62, 0)

// The streams of each fault's randomness: the partition's is the one it
// always had, so partition-only runs repeat across versions.
var faultStreams = map[string]uint64{
	FaultPartition: 0x6e656d,
	FaultKill:      0x6b696c,
	FaultPause:     0x706175,
}

// NewLoop returns the loop of cfg's faults acting on target. Its first
// operations are due at once: take them with Turn before the first
// client operation, then Run the rest.
func NewLoop(target Target, cfg Config) *Loop {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	l := &Loop{target: target, cfg: cfg}
	for _, name := range faults {
		if !slices.Contains(cfg.Faults, name) {
			continue
		}
		if cfg.Plan != nil {
			f := &fault{name: name, planned: true}
			for _, e := range cfg.Plan {
				if FaultOf(e.Op) == name {
					f.plan = append(f.plan, e)
				}
			}
			f.advance(cfg.Start, false)
			l.faults = append(l.faults, f)
			continue
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, faultStreams[name]))
		f := &fault{name: name, rng: rng, schedule: NewFaultSchedule(name, cfg.Interval, rng)}
		f.next, _ = f.schedule.Next()
		l.faults = append(l.faults, f)
	}
	return l
}

// Turn performs every operation that is due, in order.
func (l *Loop) Turn(ctx context.Context) {
	for {
		f := l.soonest()
		if f == nil || time.Now().Before(f.due) {
			return
		}
		if l.cfg.Busy != nil {
			l.cfg.Busy()
		}
		l.perform(ctx, f, f.next)
		if f.planned {
			f.advance(l.cfg.Start, true)
			continue
		}
		var delay time.Duration
		f.next, delay = f.schedule.Next()
		f.due = time.Now().Add(delay)
	}
}

// Run waits for each next turn and takes it, until the deadline or until
// ctx ends. The first turns must already have been taken (Turn).
func (l *Loop) Run(ctx context.Context, deadline time.Time) {
	for {
		f := l.soonest()
		if f == nil || !f.due.Before(deadline) {
			_ = sleep.Until(ctx, deadline)
			return
		}
		if sleep.Until(ctx, f.due) != nil {
			return
		}
		l.Turn(ctx)
	}
}

// EndAll ends every fault before the final phase, as Jepsen's final
// generators do (stop-partition, then resume, then start); each fault
// records its stop operation even when nothing is faulty at the time,
// as Jepsen does. Run must have returned. A nil Loop (no faults) does
// nothing.
func (l *Loop) EndAll(ctx context.Context) {
	if l == nil {
		return
	}
	for _, f := range l.faults {
		_, stop := Ops(f.name)
		l.perform(ctx, f, stop)
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
func (l *Loop) soonest() *fault {
	var best *fault
	for _, f := range l.faults {
		if best == nil || f.due.Before(best.due) {
			best = f
		}
	}
	return best
}

// perform carries out one operation of f and records it, invocation and
// completion.
func (l *Loop) perform(ctx context.Context, f *fault, op string) {
	t := l.target
	switch op {
	case StartPartition:
		t.Record(op, nil)
		t.Record(op, l.partition(f))
	case StopPartition:
		t.Record(op, nil)
		t.Heal()
		t.Record(op, Healed)
	case KillOp, PauseOp:
		targets := []string{}
		if f.planned {
			targets = slices.Clone(f.plan[0].Nodes)
		} else if id, ok := PickTarget(l.cfg.Nodes, l.busy(f), f.rng); ok {
			targets = []string{id}
		}
		f.targets = targets
		t.Record(op, slices.Clone(targets))
		if len(targets) == 0 {
			l.cfg.Logf("%s nobody: every node is under another fault", map[string]string{KillOp: "Killing", PauseOp: "Pausing"}[op])
		}
		for _, id := range targets {
			if op == KillOp {
				t.Kill(id)
			} else {
				t.Pause(id)
			}
		}
		t.Record(op, slices.Clone(targets))
	case StartOp, ResumeOp:
		targets := append([]string{}, f.targets...)
		f.targets = nil
		t.Record(op, slices.Clone(targets))
		for _, id := range targets {
			if op == StartOp {
				t.Restart(ctx, id)
			} else {
				t.Resume(id)
			}
		}
		t.Record(op, slices.Clone(targets))
	}
}

// partition cuts the network, with the planned grudge or a random one,
// and returns the :start-partition completion's value.
func (l *Loop) partition(f *fault) edn.Vector {
	if f.planned {
		g := f.plan[0].Grudge
		l.target.Partition(g)
		l.cfg.Logf("Partition (planned): %s", partitionLine(g))
		return g.Isolated()
	}
	spec, g := RandomPartition(l.cfg.Nodes, f.rng)
	l.target.Partition(g)
	l.cfg.Logf("Partition %s: %s", spec, partitionLine(g))
	return g.Isolated()
}

// busy returns the targets of the faults other than f.
func (l *Loop) busy(f *fault) []string {
	var out []string
	for _, g := range l.faults {
		if g != f && g.name != FaultPartition {
			out = append(out, g.targets...)
		}
	}
	return out
}

// partitionLine renders a grudge for the log as Maelstrom prints it,
// {"n0" #{"n1" "n2"}, …}.
func partitionLine(g Grudge) string {
	b, err := edn.Marshal(g.EDN())
	if err != nil {
		return fmt.Sprint(g)
	}
	return string(b)
}
