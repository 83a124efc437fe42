package nemesis

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// The faults --nemesis accepts. Maelstrom 0.2.4 accepts only partition;
// kill and pause are glomers extras, named and recorded as Jepsen's
// combined nemesis records them (jepsen/nemesis/combined.clj, db-package
// and db-nemesis: :kill then :start, :pause then :resume).
const (
	FaultPartition = "partition" // cut the network (start-partition, stop-partition)
	FaultKill      = "kill"      // kill a node's process, later start a fresh one (kill, start)
	FaultPause     = "pause"     // SIGSTOP a node's process, later SIGCONT it (pause, resume)
)

// The history operations of the kill and pause faults, as the :f of their
// entries. Their :value is the list of target node ids.
const (
	KillOp   = "kill"
	StartOp  = "start"
	PauseOp  = "pause"
	ResumeOp = "resume"
)

// faults is the canonical order of the faults: the order their first
// turns are taken at time 0 and the order the end of the main phase
// undoes them in (Jepsen composes the partition package before the db
// package, and the db package resumes before it starts).
var faults = [...]string{FaultPartition, FaultPause, FaultKill}

// Faults returns every fault --nemesis accepts, in canonical order. The
// caller may modify the returned slice.
func Faults() []string { return slices.Clone(faults[:]) }

// CheckFaults reports the first name in list that is not a fault, with
// the list of faults in the error.
func CheckFaults(list []string) error {
	for _, f := range list {
		if !slices.Contains(faults[:], f) {
			return fmt.Errorf("unknown --nemesis fault %q; the faults are %s", f, strings.Join(faults[:], ", "))
		}
	}
	return nil
}

// Ops returns the operation that begins fault and the one that ends it.
// It panics on an unknown fault.
func Ops(fault string) (start, stop string) {
	switch fault {
	case FaultPartition:
		return StartPartition, StopPartition
	case FaultKill:
		return KillOp, StartOp
	case FaultPause:
		return PauseOp, ResumeOp
	}
	panic(fmt.Sprintf("nemesis: unknown fault %q", fault))
}

// PickTarget chooses the node a kill or pause acts on: uniformly at random
// among nodes that are not in busy (the targets of the other process
// fault, so that a node is never killed and paused at once). It returns
// false when every node is busy. nodes must be in a fixed order for a run
// to repeat from its seed.
func PickTarget(nodes, busy []string, rng *rand.Rand) (string, bool) {
	free := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if !slices.Contains(busy, n) {
			free = append(free, n)
		}
	}
	if len(free) == 0 {
		return "", false
	}
	return free[rng.IntN(len(free))], true
}
