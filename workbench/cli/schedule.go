package cli

import (
	"context"
	"runtime"
	"strconv"

	"github.com/glomers/glomers/workbench/challenge"
)

// heavyRate is the --rate from which a challenge run keeps the bench busy
// rather than waiting (unique-ids, kafka and txn run at 1000 ops/s): two
// such runs at once would slow each other's operations and skew the
// latencies the scoreboard reports, so they never overlap.
const heavyRate = 500

// defaultJobs is how many runs go at once without --jobs: runs are mostly
// waiting (on the network's latency, on the generator's schedule), so one
// more than the cores keeps the machine busy without crowding it.
func defaultJobs() int { return runtime.NumCPU() + 1 }

// heavy reports whether c's official command line drives the bench at a
// high rate (see heavyRate).
func heavy(c challenge.Challenge) bool {
	for i := 0; i+1 < len(c.Args); i++ {
		if c.Args[i] == "--rate" {
			r, err := strconv.ParseFloat(c.Args[i+1], 64)
			return err == nil && r >= heavyRate
		}
	}
	return false
}

// runRows runs every row that has no verdict yet, up to jobs at once, and
// stores each result in its own place, so the scoreboard keeps the
// catalogue's order whatever order the runs finish in. A heavy run takes
// two of the jobs' slots and never overlaps another heavy run; heavy runs
// start first, since they form the longest chain. With one job the runs
// follow the catalogue's order. Once ctx ends no run
// starts; the rows never started keep verdict "not run".
func runRows(ctx context.Context, rows []row, jobs int, run func(context.Context, int) row) {
	jobs = max(jobs, 1)
	type result struct {
		i int
		r row
	}
	done := make(chan result)
	weight := func(i int) int {
		if heavy(rows[i].c) {
			return min(2, jobs)
		}
		return 1
	}
	var pending []int
	for i, r := range rows {
		if r.verdict == "" {
			pending = append(pending, i)
		}
	}
	used, inFlight, heavyBusy := 0, 0, false
	start := func(k int) {
		i := pending[k]
		pending = append(pending[:k], pending[k+1:]...)
		used += weight(i)
		inFlight++
		heavyBusy = heavyBusy || heavy(rows[i].c)
		go func() { done <- result{i, run(ctx, i)} }()
	}
	for {
		for ctx.Err() == nil {
			k := nextToStart(rows, pending, jobs-used, heavyBusy, weight)
			if jobs == 1 && len(pending) > 0 && used == 0 {
				k = 0 // one at a time: the catalogue's order
			}
			if k < 0 {
				break
			}
			start(k)
		}
		if inFlight == 0 {
			break
		}
		res := <-done
		rows[res.i] = res.r
		used -= weight(res.i)
		inFlight--
		if heavy(rows[res.i].c) {
			heavyBusy = false
		}
	}
	for _, i := range pending {
		rows[i].verdict = "not run"
	}
}

// nextToStart picks the pending row to start now, or -1: a heavy one
// first (when none runs), else the first in catalogue order that fits in
// the free slots.
func nextToStart(rows []row, pending []int, free int, heavyBusy bool, weight func(int) int) int {
	if !heavyBusy {
		for k, i := range pending {
			if heavy(rows[i].c) && weight(i) <= free {
				return k
			}
		}
	}
	for k, i := range pending {
		if !heavy(rows[i].c) && weight(i) <= free {
			return k
		}
	}
	return -1
}
