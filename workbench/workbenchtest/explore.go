package workbenchtest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
)

// maxShrinkRuns bounds the runs Explore spends shrinking a failure.
const maxShrinkRuns = 200

// Explore runs cfg in virtual time once per seed, for seeds consecutive
// seeds from cfg.Seed (from 1 when cfg.Seed is 0), several at a time
// (one per core, as parallel subtests named seeds/seed=N). It passes t
// when every run is valid.
//
// At the first invalid run (or run that could not finish, such as a
// node that crashed) it shrinks the failure: it turns the run's faults
// into a fixed plan (cfg.FaultPlan, see nemesis.Plan) and, keeping the
// seed, tries fewer nodes, a shorter time limit, fewer faults, shorter
// faults and a lower rate, keeping each change under which the run still
// fails the same way, until none helps. Then it fails t with the
// smallest configuration found, as a `glomers test` command line (with
// --nemesis-plan and --seed, to replay it with a binary) and as the Go
// lines that replay it with workbenchtest.Run, followed by the failing
// run's :workload results.
//
// cfg.Log, StoreRoot and Progress are ignored: the runs keep nothing.
// Runs in virtual time repeat closely but not always exactly (goroutines
// that run at the same virtual instant interleave differently), so a
// shrunk configuration is one that failed at least once.
func Explore(t *testing.T, cfg workbench.Config, seeds int) {
	t.Helper()
	x := explore(t, cfg, seeds)
	if x.first == nil {
		t.Logf("Explore: %d seeds from %d valid in %v", seeds, x.base, x.took.Round(time.Millisecond))
		return
	}
	t.Fatal(x.report())
}

// exploration is what explore found.
type exploration struct {
	e      *explorer
	base   uint64 // the first seed
	seeds  int
	first  *found // the first failing seed's run; nil when all passed
	shrunk found
	runs   int // shrinking runs
	took   time.Duration
}

// explore runs the seeds and shrinks the first failure; see Explore.
func explore(t *testing.T, cfg workbench.Config, seeds int) *exploration {
	t.Helper()
	if seeds < 1 {
		t.Fatalf("Explore: %d seeds", seeds)
	}
	x := &exploration{e: newExplorer(cfg), base: cfg.Seed, seeds: seeds}
	if x.base == 0 {
		x.base = 1
	}
	start := time.Now()
	defer func() { x.took = time.Since(start) }()

	// The seeds, in parallel; once one failed, higher seeds are skipped.
	var mu sync.Mutex
	t.Run("seeds", func(t *testing.T) {
		for i := range seeds {
			seed := x.base + uint64(i)
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				mu.Lock()
				skip := x.first != nil && x.first.trial.seed < seed
				mu.Unlock()
				if skip {
					return
				}
				tr := x.e.initial(seed)
				o := x.e.run(t, tr)
				if !o.failed() {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if x.first == nil || seed < x.first.trial.seed {
					x.first = &found{tr, o}
				}
			})
		}
	})
	if x.first != nil {
		x.shrunk, x.runs = x.e.shrink(t, *x.first)
	}
	return x
}

// report is the failure message: the shrunk configuration and how to
// replay it.
func (x *exploration) report() string {
	e, tr := x.e, x.shrunk.trial
	return fmt.Sprintf("Explore: seed %d of %d–%d %s; shrunk in %d runs (%v in all) to %s.\n\nReplay it with your binary:\n\n    %s\n\nor in Go:\n\n%s%s",
		x.first.trial.seed, x.base, x.base+uint64(x.seeds)-1, x.first.outcome.describe(), x.runs, x.took.Round(time.Millisecond),
		e.summary(tr), e.commandLine(tr), e.goLines(tr), x.shrunk.outcome.explain())
}

// explorer holds what every run of an exploration shares.
type explorer struct {
	base workbench.Config // with defaults filled in, except Concurrency
	ids  []string
}

// trial is one configuration to run.
type trial struct {
	nodes int           // the first nodes of ids
	limit time.Duration // TimeLimit
	rate  float64
	plan  nemesis.Plan // nil: the seed's random faults
	seed  uint64
}

// outcome is how a run ended.
type outcome struct {
	res *workbench.Result
	err error
}

// found is a trial with its failing outcome.
type found struct {
	trial   trial
	outcome outcome
}

func newExplorer(cfg workbench.Config) *explorer {
	concurrency := cfg.Concurrency
	cfg.Defaults()
	cfg.Concurrency = concurrency // 0 keeps following the node count
	cfg.Log, cfg.StoreRoot, cfg.Progress = io.Discard, "", nil
	return &explorer{base: cfg, ids: cfg.NodeIDs}
}

// initial is the configuration as given, with seed.
func (e *explorer) initial(seed uint64) trial {
	return trial{nodes: len(e.ids), limit: e.base.TimeLimit, rate: e.base.Rate, plan: e.base.FaultPlan, seed: seed}
}

// config is the Config of a trial.
func (e *explorer) config(tr trial) workbench.Config {
	c := e.base
	c.NodeIDs = slices.Clone(e.ids[:tr.nodes])
	c.TimeLimit, c.Rate, c.FaultPlan, c.Seed = tr.limit, tr.rate, tr.plan, tr.seed
	return c
}

// run performs a trial in a synctest bubble of its own.
func (e *explorer) run(t *testing.T, tr trial) outcome {
	var o outcome
	synctest.Test(t, func(*testing.T) {
		o.res, o.err = workbench.Run(context.Background(), e.config(tr))
		settle()
	})
	return o
}

// failed reports whether the run is invalid or could not finish.
func (o outcome) failed() bool {
	return o.err != nil || o.res == nil || o.res.Valid == checker.Invalid
}

// same reports whether two failures are of the same kind.
func (o outcome) same(p outcome) bool {
	return p.failed() && (o.err == nil) == (p.err == nil)
}

func (o outcome) describe() string {
	if o.err != nil {
		return "could not finish"
	}
	return "is invalid"
}

// explain is what went wrong: the error, or the :workload results.
func (o outcome) explain() string {
	if o.err != nil {
		return "The run could not finish: " + o.err.Error()
	}
	v, ok := o.res.Results.Path("workload")
	if !ok {
		return ""
	}
	b, err := edn.MarshalIndent(v)
	if err != nil {
		return ""
	}
	s := string(b)
	if len(s) > 2000 {
		s = s[:2000] + " …"
	}
	return "\nIts :workload results:\n" + s
}

// shrink looks for the smallest trial that fails as f does; see Explore.
// Each pass tries smaller trials in turn (fewer nodes, a shorter time
// limit, fewer and shorter faults, a lower rate) and keeps the first that
// still fails the same way, until a round changes nothing or the runs
// run out.
func (e *explorer) shrink(t *testing.T, f found) (found, int) {
	s := &shrinker{e: e, t: t, want: f.outcome, cur: f}
	// The faults become data; if the replay does not fail, shrink
	// without touching them.
	if s.cur.trial.plan == nil && len(e.base.Nemesis) > 0 && s.cur.outcome.res != nil {
		tr := s.cur.trial
		tr.plan = planOf(s.cur.outcome.res, tr.limit)
		if o, ok := s.try(tr); ok {
			s.cur = found{tr, o}
		}
	}
	for changed := true; changed && s.runs < maxShrinkRuns; {
		changed = s.fewerNodes()
		changed = s.shorterLimit() || changed
		if s.cur.trial.plan != nil {
			changed = s.fewerFaults() || changed
			changed = s.shorterFaults() || changed
		}
		changed = s.lowerRate() || changed
	}
	return s.cur, s.runs
}

// shrinker is one shrink: the failure to keep, the smallest trial that
// still shows it, and the runs spent.
type shrinker struct {
	e    *explorer
	t    *testing.T
	want outcome // how the first failure failed
	cur  found
	runs int
}

// try runs tr, unless the runs are spent, and reports whether it fails
// as the first failure did.
func (s *shrinker) try(tr trial) (outcome, bool) {
	if s.runs >= maxShrinkRuns {
		return outcome{}, false
	}
	s.runs++
	o := s.e.run(s.t, tr)
	return o, s.want.same(o)
}

// accept makes tr, which failed with o, the current trial, its faults
// made data when they were random.
func (s *shrinker) accept(tr trial, o outcome) {
	if tr.plan == nil && len(s.e.base.Nemesis) > 0 && o.res != nil {
		tr.plan = planOf(o.res, tr.limit)
	}
	s.cur = found{tr, o}
}

// tryAccept tries tr and accepts it if it fails the same way.
func (s *shrinker) tryAccept(tr trial) bool {
	o, ok := s.try(tr)
	if ok {
		s.accept(tr, o)
	}
	return ok
}

// fewerNodes tries fewer nodes: the plan restricted to them, else the
// seed's own faults on them.
func (s *shrinker) fewerNodes() bool {
	for k := 1; k < s.cur.trial.nodes; k++ {
		tr := s.cur.trial
		tr.nodes = k
		if tr.plan != nil {
			tr.plan = restrict(tr.plan, s.e.ids[:k])
			if s.tryAccept(tr) {
				return true
			}
			tr.plan = nil
		}
		if s.tryAccept(tr) {
			return true
		}
	}
	return false
}

// shorterLimit tries a shorter time limit, the plan cut to it.
func (s *shrinker) shorterLimit() bool {
	for _, l := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, s.cur.trial.limit / 2} {
		if l >= s.cur.trial.limit || l <= 0 {
			continue
		}
		tr := s.cur.trial
		tr.limit = l
		if tr.plan != nil {
			tr.plan = cut(tr.plan, l)
		}
		if s.tryAccept(tr) {
			return true
		}
	}
	return false
}

// fewerFaults tries the plan without each of its faults in turn.
func (s *shrinker) fewerFaults() bool {
	changed := false
	for i := 0; i < len(occurrencesOf(s.cur.trial.plan)); {
		occ := occurrencesOf(s.cur.trial.plan)
		tr := s.cur.trial
		tr.plan = planFrom(slices.Delete(occ, i, i+1))
		if s.tryAccept(tr) {
			changed = true
			continue
		}
		i++
	}
	return changed
}

// shorterFaults tries each fault of the plan halved, up to four times.
func (s *shrinker) shorterFaults() bool {
	changed := false
	for i := range occurrencesOf(s.cur.trial.plan) {
		for range 4 {
			occ := occurrencesOf(s.cur.trial.plan)
			if !occ[i].shorten(s.cur.trial.limit) {
				break
			}
			tr := s.cur.trial
			tr.plan = planFrom(occ)
			if !s.tryAccept(tr) {
				break
			}
			changed = true
		}
	}
	return changed
}

// lowerRate tries a lower rate of operations.
func (s *shrinker) lowerRate() bool {
	for _, r := range []float64{1, 2, 5, s.cur.trial.rate / 2} {
		if r >= s.cur.trial.rate || r <= 0 {
			continue
		}
		tr := s.cur.trial
		tr.rate = r
		if s.tryAccept(tr) {
			return true
		}
	}
	return false
}

// occurrence is one fault from its start to its stop (nil: until the end
// of the main phase).
type occurrence struct {
	start nemesis.Event
	stop  *nemesis.Event
}

// shorten halves the occurrence's duration (an open one ends halfway to
// limit), reporting false when it is already under 100 ms.
func (o *occurrence) shorten(limit time.Duration) bool {
	end := limit
	if o.stop != nil {
		end = o.stop.At
	}
	d := (end - o.start.At) / 2
	if d < 100*time.Millisecond {
		return false
	}
	stopOp := nemesis.StopPartition
	if f := nemesis.FaultOf(o.start.Op); f != "" {
		_, stopOp = nemesis.Ops(f)
	}
	o.stop = &nemesis.Event{At: (o.start.At + d).Round(time.Millisecond), Op: stopOp, Nodes: o.start.Nodes}
	return true
}

// occurrencesOf pairs each fault's start operations with their stops.
func occurrencesOf(p nemesis.Plan) []occurrence {
	var occ []occurrence
	open := map[string]int{} // fault → index of its open occurrence
	for _, ev := range p {
		f := nemesis.FaultOf(ev.Op)
		start, _ := nemesis.Ops(f)
		if ev.Op == start {
			open[f] = len(occ)
			occ = append(occ, occurrence{start: ev})
			continue
		}
		if i, ok := open[f]; ok {
			stop := ev
			occ[i].stop = &stop
			delete(open, f)
		}
	}
	return occ
}

// planFrom turns occurrences back into a plan in time order.
func planFrom(occ []occurrence) nemesis.Plan {
	p := nemesis.Plan{}
	for _, o := range occ {
		p = append(p, o.start)
		if o.stop != nil {
			p = append(p, *o.stop)
		}
	}
	slices.SortStableFunc(p, func(a, b nemesis.Event) int { return cmp.Compare(a.At, b.At) })
	return p
}

// restrict keeps the parts of a plan that concern nodes: partitions cut
// only the links between them, kills and pauses of other nodes go.
func restrict(p nemesis.Plan, nodes []string) nemesis.Plan {
	var kept []occurrence
	for _, o := range occurrencesOf(p) {
		switch o.start.Op {
		case nemesis.StartPartition:
			g := nemesis.Grudge{}
			for r, senders := range o.start.Grudge {
				if !slices.Contains(nodes, r) {
					continue
				}
				for _, s := range senders {
					if slices.Contains(nodes, s) {
						g[r] = append(g[r], s)
					}
				}
			}
			if len(g) == 0 {
				continue
			}
			o.start.Grudge = g
		default:
			if len(o.start.Nodes) != 1 || !slices.Contains(nodes, o.start.Nodes[0]) {
				continue
			}
		}
		kept = append(kept, o)
	}
	return planFrom(kept)
}

// cut keeps what happens before limit: faults that start later go, those
// that stop later last to the end.
func cut(p nemesis.Plan, limit time.Duration) nemesis.Plan {
	var kept []occurrence
	for _, o := range occurrencesOf(p) {
		if o.start.At >= limit {
			continue
		}
		if o.stop != nil && o.stop.At >= limit {
			o.stop = nil
		}
		kept = append(kept, o)
	}
	return planFrom(kept)
}

// planOf reads the faults a run performed during its main phase from its
// history, as a plan (the final heal, at or after limit, is left out).
func planOf(res *workbench.Result, limit time.Duration) nemesis.Plan {
	p := nemesis.Plan{}
	var inv *history.Op
	for i := range res.History {
		op := &res.History[i]
		if op.Process != history.NemesisProcess {
			continue
		}
		if inv == nil {
			inv = op
			continue
		}
		at := time.Duration(inv.Time).Round(time.Millisecond)
		ev := nemesis.Event{At: at, Op: inv.F}
		switch inv.F {
		case nemesis.StartPartition:
			ev.Grudge = grudgeOf(op.Value)
		case nemesis.StopPartition:
		default:
			ev.Nodes = nemesis.NodesOf(inv.Value)
		}
		inv = nil
		if at < limit {
			p = append(p, ev)
		}
	}
	return p
}

// grudgeOf reads a :start-partition completion's [:isolated {…}], keeping
// only the receivers that drop something, as a plan writes them.
func grudgeOf(v any) nemesis.Grudge {
	g, _ := nemesis.GrudgeOf(v)
	for r, senders := range g {
		if len(senders) == 0 {
			delete(g, r)
		}
	}
	if g == nil {
		g = nemesis.Grudge{}
	}
	return g
}

// summary describes a trial in words.
func (e *explorer) summary(tr trial) string {
	s := fmt.Sprintf("%d node%s, %v, rate %s", tr.nodes, plural(tr.nodes), tr.limit, num(tr.rate))
	if len(e.base.Nemesis) == 0 {
		return s
	}
	if tr.plan == nil {
		return s + ", the seed's random faults"
	}
	n := len(occurrencesOf(tr.plan))
	return s + fmt.Sprintf(", %d fault%s", n, plural(n))
}

// commandLine is the glomers test command line of a trial.
func (e *explorer) commandLine(tr trial) string {
	c := e.config(tr)
	bin := c.Bin
	if bin == "" {
		bin = "./your-node"
	}
	args := []string{"glomers", "test", "-w", c.Workload, "--bin", bin}
	if slices.Equal(c.NodeIDs, workbench.NodeIDs(len(c.NodeIDs))) {
		args = append(args, "--node-count", strconv.Itoa(len(c.NodeIDs)))
	} else {
		args = append(args, "--nodes", strings.Join(c.NodeIDs, ","))
	}
	args = append(args, "--time-limit", num(c.TimeLimit.Seconds()), "--rate", num(c.Rate))
	if c.Concurrency != 0 {
		args = append(args, "--concurrency", strconv.Itoa(c.Concurrency))
	}
	if c.Latency != 0 {
		args = append(args, "--latency", strconv.FormatInt(c.Latency.Milliseconds(), 10))
	}
	if c.LatencyDist != "constant" {
		args = append(args, "--latency-dist", c.LatencyDist)
	}
	if len(c.Nemesis) > 0 {
		args = append(args, "--nemesis", strings.Join(c.Nemesis, ","))
		if c.FaultPlan != nil {
			args = append(args, "--nemesis-plan", "'"+c.FaultPlan.String()+"'")
		} else if c.NemesisInterval != 10*time.Second {
			args = append(args, "--nemesis-interval", num(c.NemesisInterval.Seconds()))
		}
	}
	if c.Availability != "" {
		args = append(args, "--availability", c.Availability)
	}
	if c.Topology != "grid" {
		args = append(args, "--topology", c.Topology)
	}
	if c.KeyCount != 0 {
		args = append(args, "--key-count", strconv.Itoa(c.KeyCount))
	}
	if c.MaxTxnLength != 4 {
		args = append(args, "--max-txn-length", strconv.Itoa(c.MaxTxnLength))
	}
	if c.MaxWritesPerKey != 16 {
		args = append(args, "--max-writes-per-key", strconv.Itoa(c.MaxWritesPerKey))
	}
	if !slices.Equal(c.ConsistencyModels, []string{"strict-serializable"}) {
		args = append(args, "--consistency-models", strings.Join(c.ConsistencyModels, ","))
	}
	if c.Strict {
		args = append(args, "--strict")
	}
	args = append(args, "--seed", strconv.FormatUint(c.Seed, 10))
	if len(c.Args) > 0 {
		args = append(append(args, "--"), c.Args...)
	}
	return strings.Join(args, " ")
}

// goLines is the Go code that replays a trial from the test's own cfg.
func (e *explorer) goLines(tr trial) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    // cfg: the workbench.Config given to Explore\n")
	if slices.Equal(e.ids[:tr.nodes], workbench.NodeIDs(tr.nodes)) {
		fmt.Fprintf(&b, "    cfg.NodeIDs = workbench.NodeIDs(%d)\n", tr.nodes)
	} else {
		fmt.Fprintf(&b, "    cfg.NodeIDs = %#v\n", e.ids[:tr.nodes])
	}
	fmt.Fprintf(&b, "    cfg.TimeLimit = %s\n", goDuration(tr.limit))
	fmt.Fprintf(&b, "    cfg.Rate = %s\n", num(tr.rate))
	if tr.plan != nil {
		fmt.Fprintf(&b, "    cfg.FaultPlan = nemesis.MustParsePlan(%q)\n", tr.plan.String())
	}
	fmt.Fprintf(&b, "    cfg.Seed = %d\n", tr.seed)
	fmt.Fprintf(&b, "    res := workbenchtest.Run(t, cfg)\n")
	return b.String()
}

// goDuration writes d as a Go expression.
func goDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d * time.Second", d/time.Second)
	}
	return fmt.Sprintf("%d * time.Millisecond", d/time.Millisecond)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
