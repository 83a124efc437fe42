package workbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/sleep"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/all"
)

// UsageError is a configuration problem found before anything started
// (Maelstrom exits 254 for these).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Result is what a finished test produced.
type Result struct {
	// Results is the results map, as printed and stored in results.edn:
	// read it by path (workbenchtest.Get) for a figure Summary lacks.
	Results edn.Map
	// Summary is what the run comes to (verdict, failing sections,
	// msgs-per-op, op counts, latency quantiles), as summary.json holds
	// it. A run that crashed before its analysis has none: only Dir is
	// set, and no summary.json is written.
	Summary results.Summary
	// Explanation says why a run that is not valid is not (nil for a
	// valid run, and for one that crashed before its analysis), as
	// explain.json holds it.
	Explanation *results.Explanation
	Valid       checker.Validity // the verdict, Summary.Valid
	History     []history.Op
	// Journal is every network event, kept only when the run has no
	// store (tests); a stored run writes it to net-journal.jsonl.gz as
	// it goes and keeps none of it in memory.
	Journal []netsim.Event
	Dir     string // the store directory, "" when nothing was stored
	Seed    uint64
	// Startup is the time from the start of Run until relative time
	// began: services, node processes, init handshakes and setup.
	Startup time.Duration
}

// Run performs one test. A non-nil error means the test could not run to
// its analysis (bad configuration, a node that failed to start, crashed
// or printed junk, an interrupted run); the Result then holds whatever
// was collected, and the store keeps it too.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, &UsageError{err}
	}
	if cfg.Node == nil {
		abs, err := process.CheckBinary(cfg.Bin)
		if err != nil {
			return nil, &UsageError{err}
		}
		cfg.Bin = abs
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	r := &run{cfg: cfg, began: time.Now()}
	res, err := r.execute(ctx)
	if res != nil {
		res.Seed = cfg.Seed
	}
	return res, err
}

// run is the state of one test while it executes: the runner's side.
// The nodes, services and clients are its cluster's (nodes.go); what it
// collects is analysed and stored by finish (finish.go).
type run struct {
	cfg   Config
	began time.Time // when Run was called
	log   *logger
	store *report.Store
	net   *netsim.Network
	// journal takes the network's events: counts, and the journal file.
	journal *journal
	wl      workload.Workload
	nodes   *cluster
	hist    *history.History
	track   *tracker // progress of the run, once relative time began
}

// execute prepares the run, performs its phases and, whatever happens,
// stops everything and keeps what was collected.
func (r *run) execute(parent context.Context) (res *Result, err error) {
	if err := r.prepare(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer func() {
		cancel()
		stopErr := r.nodes.teardown()
		if err == nil && stopErr != nil {
			err = stopErr
		}
		res = r.finish(res, err)
	}()

	if err := r.nodes.startServices(ctx, r.cfg.Seed); err != nil {
		return nil, err
	}
	if err := r.nodes.startNodes(ctx); err != nil {
		return nil, err
	}
	if err := r.phases(ctx); err != nil {
		return nil, err
	}
	if err := r.nodes.crashError(); err != nil {
		return nil, err
	}
	return &Result{}, nil
}

// prepare makes the network, the workload, the cluster and the store.
// Everything that can refuse the configuration comes before the store,
// so a usage error leaves no half-made test directory behind.
func (r *run) prepare() error {
	r.log = newLogger(r.cfg.Log)
	r.journal = &journal{}
	netCfg := r.cfg.networkConfig(r.journal.record)
	if r.cfg.LogNetSend {
		netCfg.OnSend = func(m *netsim.Message) { r.log.Infof(":send %s", m.AppendJSON(nil)) }
	}
	if r.cfg.LogNetRecv {
		netCfg.OnRecv = func(m *netsim.Message) { r.log.Infof(":recv %s", m.AppendJSON(nil)) }
	}
	var err error
	if r.net, err = netsim.New(netCfg); err != nil {
		return &UsageError{err}
	}
	if r.wl, err = all.New(r.cfg.Workload, r.cfg.workloadEnv(r.log.Infof)); err != nil {
		return &UsageError{err}
	}

	if r.cfg.StoreRoot != "" {
		st, err := report.NewStore(r.cfg.StoreRoot, r.cfg.Workload, time.Now())
		if err != nil {
			return fmt.Errorf("create store: %w", err)
		}
		r.store = st
		r.log.add(st.Log())
		if jw, err := st.OpenJournal(r.cfg.NodeIDs); err != nil {
			r.log.Warnf("store: %v (the run keeps its statistics, not its journal)", err)
		} else {
			r.journal.writeTo(jw)
		}
	}
	r.nodes = newCluster(&r.cfg, r.net, r.log, r.store)
	r.log.Infof("Running test %s with seed %d", r.cfg.Workload, r.cfg.Seed)
	if r.store != nil {
		r.log.Infof("Store: %s", r.store.Dir())
		_ = r.store.WriteTest(r.cfg.describe())
	}
	return nil
}

// phases runs the workload's setup, the main phase for the time limit
// and, if the workload has one, the recovery wait and the final phase.
// A node that crashes stops them early: the test is lost anyway.
func (r *run) phases(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.nodes.crashed:
			cancel()
		case <-ctx.Done():
		}
	}()

	setupClients, err := r.setup(ctx)
	defer func() {
		for _, c := range setupClients {
			c.Close()
		}
	}()
	if err != nil {
		return err
	}
	r.track = newTracker(r.hist, r.cfg.TimeLimit, r.cfg.Progress, r.log)
	trackCtx, stopTracking := context.WithCancel(ctx)
	defer stopTracking()
	go r.track.run(trackCtx)

	workers, faults, err := r.mainPhase(ctx)
	if err != nil {
		return err
	}
	if final := r.wl.Final(); final != nil {
		faults.EndAll(ctx)
		r.track.setPhase("recovery")
		r.log.Infof("Waiting for recovery...")
		if err := sleep.For(ctx, r.cfg.RecoveryWait); err != nil {
			return r.interrupted(err)
		}
		r.track.setPhase("final")
		r.finalPhase(ctx, workers, final)
		if err := ctx.Err(); err != nil {
			return r.interrupted(err)
		}
	}
	for _, w := range workers {
		if w.client != nil {
			w.client.Close()
		}
	}
	return nil
}

// setup runs the workload's setup with a client per node, then starts
// relative time: the history begins. It returns the clients it opened,
// for the caller to close when the phases are over.
func (r *run) setup(ctx context.Context) ([]*netsim.Client, error) {
	callers := map[string]workload.Caller{}
	var clients []*netsim.Client
	for _, id := range r.cfg.NodeIDs {
		c, err := r.nodes.newClient()
		if err != nil {
			return clients, err
		}
		clients = append(clients, c)
		callers[id] = callerFor(c, id)
	}
	if err := r.wl.Setup(ctx, callers); err != nil {
		if cerr := r.nodes.crashError(); cerr != nil {
			return clients, cerr
		}
		return clients, fmt.Errorf("workload setup: %w", err)
	}
	r.hist = history.New(time.Now())
	r.log.Infof("Relative time begins now (setup took %v)", r.hist.Start().Sub(r.began).Round(time.Millisecond))
	return clients, nil
}

// mainPhase runs the generator and the nemesis for the time limit. It
// returns the client threads, for the final phase, and the nemesis loop
// (nil without --nemesis), whose faults the final phase ends.
func (r *run) mainPhase(ctx context.Context) ([]*worker, *nemesis.Loop, error) {
	deadline := time.Now().Add(r.cfg.TimeLimit)
	workers := make([]*worker, r.cfg.Concurrency)
	for i := range workers {
		workers[i] = &worker{thread: i, process: i, node: r.cfg.NodeIDs[i%len(r.cfg.NodeIDs)]}
	}
	pool := newThreadPool(workers)
	var nemesisDone sync.WaitGroup
	var faults *nemesis.Loop
	if len(r.cfg.Nemesis) > 0 {
		cfg := r.cfg.nemesisConfig(r.hist.Start())
		cfg.Busy, cfg.Logf = pool.nemesisBusy, r.log.Infof
		faults = nemesis.NewLoop(&faultTarget{net: r.net, nodes: r.nodes, hist: r.hist, log: r.log}, cfg)
		// The first faults are due at time 0, as the first client operation
		// is; they go first, always, so the same seed makes the same run.
		faults.Turn(ctx)
		nemesisDone.Add(1)
		go func() {
			defer nemesisDone.Done()
			faults.Run(ctx, deadline)
		}()
	}
	r.generate(ctx, pool, deadline)
	nemesisDone.Wait()
	if err := r.nodes.crashError(); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("test interrupted: %w", err)
	}
	return workers, faults, nil
}

// finalPhase runs the workload's final generator on every thread. The
// threads start in the order Jepsen 0.3.7 starts them: its EachThread
// generator offers every free thread's next operation, all due at the
// same instant, and soonest-op-map breaks such ties at random, weighted
// so that each remaining thread is equally likely
// (jepsen/src/jepsen/generator.clj). The first operations therefore go
// out in a uniformly random order of threads, one invocation after the
// other; which final read comes last matters to the set-full checker.
// The order is drawn from the seed, so a run repeats exactly.
func (r *run) finalPhase(ctx context.Context, workers []*worker, final func(context.Context, int, func(history.Op) history.Op)) {
	order := rand.New(rand.NewPCG(r.cfg.Seed, seedFinal)).Perm(len(workers))
	var wg sync.WaitGroup
	for _, i := range order {
		w := workers[i]
		invoked := make(chan struct{})
		var once sync.Once
		w.onInvoke = func() { once.Do(func() { close(invoked) }) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.onInvoke() // a thread with nothing to do lets the next one go
			final(ctx, w.thread, func(op history.Op) history.Op { return r.perform(ctx, w, op) })
		}()
		select {
		case <-invoked:
		case <-ctx.Done():
		}
	}
	wg.Wait()
}

// interrupted is the error of a phase cut short: the crash that cut it,
// or err.
func (r *run) interrupted(err error) error {
	if cerr := r.nodes.crashError(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("test interrupted: %w", err)
}

func callerFor(c *netsim.Client, node string) workload.Caller {
	return func(ctx context.Context, body map[string]any, timeout time.Duration) (netsim.Reply, error) {
		return c.Call(ctx, node, body, timeout)
	}
}

// generate hands operations to free workers on Maelstrom's schedule
// (see schedule and threadPool) until the deadline.
func (r *run) generate(ctx context.Context, pool *threadPool, deadline time.Time) {
	if r.cfg.Rate <= 0 {
		_ = sleep.Until(ctx, deadline)
		return
	}
	var running sync.WaitGroup
	s := &schedule{rate: r.cfg.Rate, deadline: deadline, pool: pool, sleepUntil: sleep.Until,
		gaps: rand.New(rand.NewPCG(r.cfg.Seed, seedGaps))}
	exhausted := false
	s.run(ctx, func(w *worker) bool {
		op, ok := r.wl.NextOp(w.thread, w.process)
		if !ok {
			exhausted = true
			return false
		}
		running.Add(1)
		go func() {
			defer running.Done()
			r.perform(ctx, w, op)
			pool.release(w)
		}()
		return true
	})
	if exhausted {
		r.log.Infof("Generator exhausted")
		_ = sleep.Until(ctx, deadline)
	}
	// The main phase ends when its last operation completes: Jepsen 0.3.7
	// keeps an exhausted phase's generator, and feeds it completions,
	// while the next phase waits for every thread to be free
	// (jepsen/generator.clj, phases and synchronize), so those late
	// completions still count (a kafka send's offset becomes a target of
	// the final polls).
	running.Wait()
	if e, ok := r.wl.(workload.MainPhaseEnder); ok {
		e.MainPhaseDone()
	}
}

// perform records op's invocation, runs it on w's client and records the
// completion. After an indeterminate result the worker takes a new
// process id and, unless the workload's clients are reusable, a new client.
func (r *run) perform(ctx context.Context, w *worker, op history.Op) history.Op {
	if w.client == nil {
		c, err := r.nodes.newClient()
		if err != nil {
			r.log.Errorf("open client: %v", err)
			return op
		}
		w.client = c
	}
	op.Type = history.Invoke
	op.Process = w.process
	op.Error, op.Exception, op.ExceptionMessage = nil, "", ""
	inv := r.hist.Append(op)
	if w.onInvoke != nil {
		w.onInvoke()
	}
	out := r.wl.Invoke(ctx, callerFor(w.client, w.node), inv)
	out.Process, out.F, out.Final = inv.Process, inv.F, inv.Final
	if out.Extra == nil {
		out.Extra = inv.Extra
	}
	if out.Type == history.Invoke {
		out.Type = history.Info // a workload that forgot to decide is indeterminate
	}
	out = r.hist.Append(out)
	if out.Type == history.Info {
		w.process += r.cfg.Concurrency
		if !r.wl.Reusable() {
			w.client.Close()
			w.client = nil
		}
	}
	return out
}
