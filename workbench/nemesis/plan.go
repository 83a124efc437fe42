package nemesis

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is one operation of a fixed fault plan.
type Event struct {
	// At is when the operation is due, from the start of relative time
	// (the main phase).
	At time.Duration
	// Op is the operation: StartPartition, StopPartition, KillOp,
	// StartOp, PauseOp or ResumeOp.
	Op string
	// Grudge is the partition a StartPartition applies.
	Grudge Grudge
	// Nodes are the targets of a kill or pause. Start and resume act on
	// the nodes the fault's previous kill or pause took, whatever Nodes
	// says; plans written by Plan.String name them for the reader.
	Nodes []string
}

// Plan is a fault schedule as data: the nemesis performs exactly these
// operations at these times instead of drawing them from the seed, and
// still ends every fault of --nemesis before the final phase. A run that
// recorded its faults can be replayed with some of them left out or cut
// short, which is how workbenchtest.Explore shrinks a failure.
//
// Its text form (String, ParsePlan) is one event per "; ", each
// "<seconds>s <op> [<args>]": a start-partition's grudge as
// receiver:sender+sender entries joined by ",", the target node of a
// kill, start, pause or resume:
//
//	0s start-partition n0:n2,n1:n2,n2:n0+n1; 4.5s stop-partition; 6s kill n1; 9s start n1
type Plan []Event

// FaultOf returns the fault an operation belongs to, or "".
func FaultOf(op string) string {
	for _, f := range faults {
		if start, stop := Ops(f); op == start || op == stop {
			return f
		}
	}
	return ""
}

// String returns the plan's text form, which ParsePlan reads back.
func (p Plan) String() string {
	parts := make([]string, 0, len(p))
	for _, e := range p {
		s := strconv.FormatFloat(e.At.Seconds(), 'f', -1, 64) + "s " + e.Op
		switch {
		case e.Op == StartPartition:
			s += " " + grudgeText(e.Grudge)
		case len(e.Nodes) > 0:
			s += " " + strings.Join(e.Nodes, ",")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// grudgeText writes a grudge as receiver:sender+sender,… in sorted order.
func grudgeText(g Grudge) string {
	receivers := make([]string, 0, len(g))
	for r, senders := range g {
		if len(senders) > 0 {
			receivers = append(receivers, r)
		}
	}
	slices.Sort(receivers)
	parts := make([]string, len(receivers))
	for i, r := range receivers {
		parts[i] = r + ":" + strings.Join(g[r], "+")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// ParsePlan reads a plan in the text form String writes. An empty string
// is an empty plan (no faults at all).
func ParsePlan(s string) (Plan, error) {
	p := Plan{}
	for part := range strings.SplitSeq(s, ";") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		if len(fields) > 3 {
			return nil, fmt.Errorf("fault plan event %q: too many fields", strings.TrimSpace(part))
		}
		secs, ok := strings.CutSuffix(fields[0], "s")
		f, err := strconv.ParseFloat(secs, 64)
		if !ok || err != nil || f < 0 {
			return nil, fmt.Errorf("fault plan event %q: want a time like 2.5s first", strings.TrimSpace(part))
		}
		if len(fields) < 2 || FaultOf(fields[1]) == "" {
			return nil, fmt.Errorf("fault plan event %q: want an operation (start-partition, stop-partition, kill, start, pause, resume) after the time", strings.TrimSpace(part))
		}
		e := Event{At: time.Duration(f * float64(time.Second)), Op: fields[1]}
		var arg string
		if len(fields) == 3 {
			arg = fields[2]
		}
		switch e.Op {
		case StartPartition:
			if e.Grudge, err = parseGrudge(arg); err != nil {
				return nil, fmt.Errorf("fault plan event %q: %w", strings.TrimSpace(part), err)
			}
		case StopPartition:
			if arg != "" {
				return nil, fmt.Errorf("fault plan event %q: stop-partition takes no argument", strings.TrimSpace(part))
			}
		default:
			if arg != "" {
				e.Nodes = strings.Split(arg, ",")
			}
		}
		p = append(p, e)
	}
	return p, nil
}

// MustParsePlan is ParsePlan for plans known to be well formed, such as
// one copied from Explore's report; it panics on an error.
func MustParsePlan(s string) Plan {
	p, err := ParsePlan(s)
	if err != nil {
		panic(err)
	}
	return p
}

// parseGrudge reads receiver:sender+sender,… ("-" is the empty grudge).
func parseGrudge(s string) (Grudge, error) {
	g := Grudge{}
	if s == "-" {
		return g, nil
	}
	if s == "" {
		return nil, errors.New("start-partition needs a grudge, receiver:sender+sender,…")
	}
	for entry := range strings.SplitSeq(s, ",") {
		r, senders, ok := strings.Cut(entry, ":")
		if !ok || r == "" || senders == "" {
			return nil, fmt.Errorf("grudge entry %q: want receiver:sender+sender", entry)
		}
		list := strings.Split(senders, "+")
		slices.Sort(list)
		g[r] = slices.Compact(append(g[r], list...))
		slices.Sort(g[r])
	}
	return g, nil
}

// Check reports the first problem that would keep the plan from being
// replayed on nodes with the faults of --nemesis: events out of time
// order, a fault --nemesis does not list, unknown nodes, or a fault whose
// operations do not alternate start, stop, start, ….
func (p Plan) Check(nodes, faultList []string) error {
	started := map[string]bool{}
	for i, e := range p {
		f := FaultOf(e.Op)
		switch {
		case f == "":
			return fmt.Errorf("fault plan: unknown operation %q", e.Op)
		case !slices.Contains(faultList, f):
			return fmt.Errorf("fault plan: %s is a %s operation, but --nemesis does not list %s", e.Op, f, f)
		case e.At < 0 || i > 0 && e.At < p[i-1].At:
			return fmt.Errorf("fault plan: %s at %v is out of time order", e.Op, e.At)
		}
		start, _ := Ops(f)
		if (e.Op == start) == started[f] {
			return fmt.Errorf("fault plan: %s at %v: the %s operations must alternate, starting with %s", e.Op, e.At, f, start)
		}
		started[f] = e.Op == start
		for r, senders := range e.Grudge {
			for _, n := range append([]string{r}, senders...) {
				if !slices.Contains(nodes, n) {
					return fmt.Errorf("fault plan: %s at %v names %s, which is not a node", e.Op, e.At, n)
				}
			}
		}
		if e.Op == KillOp || e.Op == PauseOp {
			if len(e.Nodes) != 1 || !slices.Contains(nodes, e.Nodes[0]) {
				return fmt.Errorf("fault plan: %s at %v needs one node of the test, got %v", e.Op, e.At, e.Nodes)
			}
		}
	}
	return nil
}
