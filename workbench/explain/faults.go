package explain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
)

// Fault is one window of a nemesis fault, read back from the history's
// nemesis operations: a partition, or nodes killed or paused.
type Fault struct {
	// Kind is nemesis.FaultPartition, FaultKill or FaultPause.
	Kind string
	// Start is when the fault began (its completion), End when the
	// operation ending it completed; End is -1 when nothing ended it.
	Start, End int64
	// Nodes are the nodes killed or paused; nil for a partition.
	Nodes []string
	// Grudge is a partition's: receiver → the senders it drops.
	Grudge nemesis.Grudge
}

// Covers reports whether the fault was in force at time t.
func (f Fault) Covers(t int64) bool {
	return t >= f.Start && (f.End < 0 || t <= f.End)
}

// Cuts reports whether f is a partition that drops messages from src to
// dest.
func (f Fault) Cuts(src, dest string) bool {
	return f.Kind == nemesis.FaultPartition && f.Grudge.Drops(dest, src)
}

// Window renders when the fault was in force: "from 3.20 s to 8.41 s",
// or "from 3.20 s to the end".
func (f Fault) Window() string {
	if f.End < 0 {
		return fmt.Sprintf("from %.2f s to the end", float64(f.Start)/1e9)
	}
	return fmt.Sprintf("from %.2f s to %.2f s", float64(f.Start)/1e9, float64(f.End)/1e9)
}

// String describes the fault for a sentence: "the partition n1 n2 | n3
// n4 n5 from 3.20 s to 8.41 s", "n3 killed from 4.00 s to 9.00 s".
func (f Fault) String() string {
	switch f.Kind {
	case nemesis.FaultPartition:
		return fmt.Sprintf("the partition %s %s", Sides(f.Grudge), f.Window())
	case nemesis.FaultKill:
		return fmt.Sprintf("%s killed %s", strings.Join(f.Nodes, ", "), f.Window())
	case nemesis.FaultPause:
		return fmt.Sprintf("%s paused %s", strings.Join(f.Nodes, ", "), f.Window())
	}
	return f.Kind + " " + f.Window()
}

// Sides renders a grudge as the groups of nodes that can still talk to
// each other both ways, "n1 n2 | n3 n4 n5".
func Sides(g nemesis.Grudge) string {
	nodes := map[string]bool{}
	for r, ss := range g {
		nodes[r] = true
		for _, s := range ss {
			nodes[s] = true
		}
	}
	ids := make([]string, 0, len(nodes))
	for n := range nodes {
		ids = append(ids, n)
	}
	slices.Sort(ids)
	side := map[string]int{}
	var groups [][]string
	for _, n := range ids {
		if _, ok := side[n]; ok {
			continue
		}
		side[n] = len(groups)
		group := []string{n}
		for _, m := range ids {
			if _, ok := side[m]; !ok && !g.Drops(n, m) && !g.Drops(m, n) {
				side[m] = side[n]
				group = append(group, m)
			}
		}
		groups = append(groups, group)
	}
	parts := make([]string, len(groups))
	for i, gr := range groups {
		parts[i] = strings.Join(gr, " ")
	}
	return strings.Join(parts, " | ")
}

// Faults returns the fault windows of the run, in the order they began.
func (ev *Evidence) Faults() []Fault {
	if !ev.parsed {
		ev.faults, ev.parsed = FaultsOf(ev.Ops), true
	}
	return ev.faults
}

// FaultAt returns the fault of kind that was in force at t and, for a
// partition, cut src off from dest (for a kill or pause: that had dest
// among its nodes); false when none was.
func (ev *Evidence) FaultAt(kind string, t int64, src, dest string) (Fault, bool) {
	for _, f := range ev.Faults() {
		if f.Kind != kind || !f.Covers(t) {
			continue
		}
		if kind == nemesis.FaultPartition && !f.Cuts(src, dest) {
			continue
		}
		if kind != nemesis.FaultPartition && !slices.Contains(f.Nodes, dest) {
			continue
		}
		return f, true
	}
	return Fault{}, false
}

// FaultsOf reads the fault windows from a history's nemesis operations:
// each fault from the completion of the operation that began it to the
// completion of the one that ended it.
func FaultsOf(ops []history.Op) []Fault {
	var out []Fault
	open := map[string]int{} // fault kind → index in out of its open window
	end := func(kind string, t int64) {
		if i, ok := open[kind]; ok {
			out[i].End = t
			delete(open, kind)
		}
	}
	completions := map[string]bool{} // ops seen once: the next is the completion
	for _, op := range ops {
		if op.IsClient() {
			continue
		}
		completions[op.F] = !completions[op.F]
		if completions[op.F] { // the invocation
			continue
		}
		switch op.F {
		case nemesis.StartPartition:
			end(nemesis.FaultPartition, op.Time)
			open[nemesis.FaultPartition] = len(out)
			g, _ := nemesis.GrudgeOf(op.Value)
			out = append(out, Fault{Kind: nemesis.FaultPartition, Start: op.Time, End: -1, Grudge: g})
		case nemesis.StopPartition:
			end(nemesis.FaultPartition, op.Time)
		case nemesis.KillOp, nemesis.PauseOp:
			kind := map[string]string{nemesis.KillOp: nemesis.FaultKill, nemesis.PauseOp: nemesis.FaultPause}[op.F]
			nodes := nemesis.NodesOf(op.Value)
			if len(nodes) == 0 {
				continue
			}
			end(kind, op.Time)
			open[kind] = len(out)
			out = append(out, Fault{Kind: kind, Start: op.Time, End: -1, Nodes: nodes})
		case nemesis.StartOp:
			end(nemesis.FaultKill, op.Time)
		case nemesis.ResumeOp:
			end(nemesis.FaultPause, op.Time)
		}
	}
	return out
}
