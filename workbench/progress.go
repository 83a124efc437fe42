package workbench

import (
	"context"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/history"
)

// Progress is a snapshot of a running test, for a live status line.
type Progress struct {
	Phase     string        // "main", "recovery", "final" or "analysis"
	Elapsed   time.Duration // since relative time began
	TimeLimit time.Duration // the main phase's length
	// Invoked counts client invocations; OK, Fail and Info their completions.
	Invoked, OK, Fail, Info int
	// Partitioned is true while a partition is in force.
	Partitioned bool
}

// progressLogEvery is how often the test log gets a progress line.
const progressLogEvery = 10 * time.Second

// progressTickEvery is how often Config.Progress is called.
const progressTickEvery = time.Second

// tracker counts the history as it grows and reports progress: a line in
// the test log every progressLogEvery, and Config.Progress every second.
type tracker struct {
	hist      *history.History
	timeLimit time.Duration
	progress  func(Progress) // Config.Progress; nil: the log only
	log       *logger

	mu          sync.Mutex
	phase       string
	seen        int // history entries already counted
	counts      [4]int
	partitioned bool
}

func newTracker(hist *history.History, timeLimit time.Duration, progress func(Progress), log *logger) *tracker {
	return &tracker{hist: hist, timeLimit: timeLimit, progress: progress, log: log, phase: "main"}
}

// setPhase moves to the next phase and reports it at once.
func (t *tracker) setPhase(phase string) {
	t.mu.Lock()
	t.phase = phase
	t.mu.Unlock()
	t.tick()
}

// snapshot counts the entries added since the last call.
func (t *tracker) snapshot() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hist
	for _, op := range h.OpsFrom(t.seen) {
		t.seen++
		if op.IsClient() {
			t.counts[op.Type]++
			continue
		}
		switch op.F {
		case "start-partition":
			t.partitioned = op.Value != nil
		case "stop-partition":
			t.partitioned = false
		}
	}
	return Progress{
		Phase: t.phase, Elapsed: time.Since(h.Start()), TimeLimit: t.timeLimit,
		Invoked: t.counts[history.Invoke], OK: t.counts[history.OK], Fail: t.counts[history.Fail],
		Info: t.counts[history.Info], Partitioned: t.partitioned,
	}
}

func (t *tracker) tick() {
	if t.progress != nil {
		t.progress(t.snapshot())
	}
}

// run reports until ctx ends.
func (t *tracker) run(ctx context.Context) {
	tick := time.NewTicker(progressTickEvery)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if t.progress == nil && time.Since(lastLog) < progressLogEvery {
			continue
		}
		p := t.snapshot()
		if t.progress != nil {
			t.progress(p)
		}
		if time.Since(lastLog) >= progressLogEvery {
			lastLog = time.Now()
			t.log.Infof("Progress: %s phase, %v of %v, %d operations (%d ok, %d fail, %d info)", p.Phase,
				p.Elapsed.Round(time.Second), p.TimeLimit, p.Invoked, p.OK, p.Fail, p.Info)
		}
	}
}
