package workbench

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/workbench/internal/sleep"
)

func newWorkers(n int) []*worker {
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{thread: i, process: i}
	}
	return ws
}

// With every thread free, Jepsen's rotation over the client threads plus
// the nemesis slot gives thread 0 two turns in every n+1 and each other
// thread one.
func TestThreadPoolSharesAsJepsen(t *testing.T) {
	for _, n := range []int{1, 2, 5, 10} {
		pool := newThreadPool(newWorkers(n))
		counts := make([]int, n)
		rounds := 600
		for range rounds * (n + 1) {
			w := pool.take()
			if w == nil {
				t.Fatalf("n=%d: no thread although all are free", n)
			}
			counts[w.thread]++
			pool.release(w)
		}
		if counts[0] != 2*rounds {
			t.Errorf("n=%d: thread 0 took %d of %d operations, want %d (2/(n+1))", n, counts[0], rounds*(n+1), 2*rounds)
		}
		for i := 1; i < n; i++ {
			if counts[i] != rounds {
				t.Errorf("n=%d: thread %d took %d, want %d (1/(n+1))", n, i, counts[i], rounds)
			}
		}
	}
}

// A busy thread is skipped: the next free one at or after the index gets
// the operation, wrapping round to thread 0; when none is free, take
// says so.
func TestThreadPoolSkipsBusyThreads(t *testing.T) {
	pool := newThreadPool(newWorkers(3))
	var got []int
	for range 3 {
		got = append(got, pool.take().thread) // threads 0, 1, 2 in turn, all kept busy
	}
	if w := pool.take(); w != nil {
		t.Fatalf("took thread %d while all were busy", w.thread)
	}
	pool.release(pool.workers[1])
	got = append(got, pool.take().thread) // index is at the nemesis slot; only 1 is free
	pool.release(pool.workers[0])
	pool.release(pool.workers[2])
	pool.nemesisBusy()                    // the nemesis moves the index on too
	got = append(got, pool.take().thread) // index was 0, bumped to 1: thread 1 is busy, 2 is free
	want := []int{0, 1, 2, 1, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("threads taken %v, want %v", got, want)
		}
	}
}

// countIssued runs a schedule for 20 s of virtual time at rate 1000 with
// threads that finish each operation after hold, and timers that wake
// late by lateness. It returns how many operations went out.
func countIssued(t *testing.T, threads int, hold, lateness time.Duration) int {
	var issued int
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		pool := newThreadPool(newWorkers(threads))
		s := &schedule{
			rate: 1000, deadline: time.Now().Add(20 * time.Second), pool: pool,
			gaps: rand.New(rand.NewPCG(1, 2)),
			sleepUntil: func(ctx context.Context, at time.Time) error {
				return sleep.For(ctx, time.Until(at)+lateness)
			},
		}
		s.run(ctx, func(w *worker) bool {
			issued++
			go func() {
				time.Sleep(hold)
				pool.release(w)
			}()
			return true
		})
		synctest.Wait()
	})
	return issued
}

// The schedule keeps its due times, so timers that wake 0.6 ms late (as
// they do on a busy machine) do not stretch every gap: with free threads
// the asked number of operations goes out, within 3%.
func TestScheduleReachesTheRateWithLateTimers(t *testing.T) {
	for _, lateness := range []time.Duration{0, 600 * time.Microsecond} {
		got := countIssued(t, 10, 0, lateness)
		if got < 19400 || got > 20600 {
			t.Errorf("timers %v late: %d operations in 20 s at rate 1000, want 20000 ± 3%%", lateness, got)
		}
	}
}

// When no thread is free the schedule slips instead of catching up in a
// burst: one thread that holds each operation for 10 ms issues at most
// one operation per 10 ms.
func TestScheduleSlipsWhenThreadsAreBusy(t *testing.T) {
	got := countIssued(t, 1, 10*time.Millisecond, 0)
	if got > 2000 || got < 1800 {
		t.Errorf("one thread busy 10 ms per op issued %d operations in 20 s, want just under 2000", got)
	}
}
