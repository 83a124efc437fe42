package nemesis

import (
	"testing"
	"time"
)

func TestNextDelayIsUniformBelowTwiceTheInterval(t *testing.T) {
	rng := newRand(5)
	interval := 10 * time.Second
	var sum time.Duration
	var low, high int
	const draws = 2000
	for range draws {
		d := NextDelay(interval, rng)
		if d < 0 || d >= 2*interval {
			t.Fatalf("delay %v outside [0, %v)", d, 2*interval)
		}
		if d < interval/2 {
			low++
		}
		if d >= 3*interval/2 {
			high++
		}
		sum += d
	}
	mean := sum / draws
	if mean < 9*time.Second || mean > 11*time.Second {
		t.Errorf("mean delay %v, want about %v", mean, interval)
	}
	// Each outer quarter of the range should get about a quarter of the draws.
	if low < draws/5 || high < draws/5 {
		t.Errorf("quarters [0,5s): %d, [15s,20s): %d of %d; not uniform", low, high, draws)
	}
	if d := NextDelay(0, rng); d != 0 {
		t.Errorf("NextDelay(0) = %v, want 0", d)
	}
}

func TestScheduleAlternatesStartingImmediately(t *testing.T) {
	s := NewSchedule(time.Second, newRand(1))
	f, d := s.Next()
	if f != StartPartition || d != 0 {
		t.Fatalf("first op = %s after %v, want %s immediately", f, d, StartPartition)
	}
	anyDelay := false
	for i := 1; i < 20; i++ {
		f, d := s.Next()
		want := StopPartition
		if i%2 == 0 {
			want = StartPartition
		}
		if f != want {
			t.Fatalf("op %d = %s, want %s", i, f, want)
		}
		if d < 0 || d >= 2*time.Second {
			t.Fatalf("op %d delay %v outside [0, 2s)", i, d)
		}
		anyDelay = anyDelay || d > 0
	}
	if !anyDelay {
		t.Error("every delay was 0")
	}
}

func TestScheduleIsDeterministicBySeed(t *testing.T) {
	a, b := NewSchedule(time.Second, newRand(3)), NewSchedule(time.Second, newRand(3))
	for range 10 {
		fa, da := a.Next()
		fb, db := b.Next()
		if fa != fb || da != db {
			t.Fatalf("same seed diverged: %s/%v vs %s/%v", fa, da, fb, db)
		}
	}
}
