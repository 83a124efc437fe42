package nemesis

import (
	"strings"
	"testing"
	"time"
)

func TestCheckFaultsListsTheFaults(t *testing.T) {
	if err := CheckFaults([]string{"partition", "kill", "pause"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckFaults(nil); err != nil {
		t.Fatal(err)
	}
	err := CheckFaults([]string{"kill", "bogus"})
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), "partition, pause, kill") {
		t.Fatalf("CheckFaults(bogus) = %v", err)
	}
}

func TestFaultSchedulesAlternateTheirOwnOps(t *testing.T) {
	for _, c := range []struct{ fault, start, stop string }{
		{FaultPartition, "start-partition", "stop-partition"},
		{FaultKill, "kill", "start"},
		{FaultPause, "pause", "resume"},
	} {
		s := NewFaultSchedule(c.fault, time.Second, newRand(3))
		for i := range 6 {
			f, d := s.Next()
			want := c.start
			if i%2 == 1 {
				want = c.stop
			}
			if f != want {
				t.Errorf("%s: op %d is %s, want %s", c.fault, i, f, want)
			}
			if i == 0 && d != 0 {
				t.Errorf("%s: first op after %v, want at once", c.fault, d)
			}
			if d < 0 || d >= 2*time.Second {
				t.Errorf("%s: delay %v outside [0, 2s)", c.fault, d)
			}
		}
	}
}

func TestPickTargetAvoidsBusyNodesAndIsUniform(t *testing.T) {
	rng := newRand(11)
	nodes := []string{"n1", "n2", "n3", "n4", "n5"}
	counts := map[string]int{}
	for range 4000 {
		id, ok := PickTarget(nodes, []string{"n2"}, rng)
		if !ok || id == "n2" {
			t.Fatalf("picked %q, %v with n2 busy", id, ok)
		}
		counts[id]++
	}
	for _, n := range []string{"n1", "n3", "n4", "n5"} {
		if counts[n] < 850 || counts[n] > 1150 {
			t.Errorf("%s picked %d times of 4000 among 4 free nodes", n, counts[n])
		}
	}
	if id, ok := PickTarget([]string{"n1"}, []string{"n1"}, rng); ok {
		t.Errorf("picked %q when every node is busy", id)
	}
	a, _ := PickTarget(nodes, nil, newRand(4))
	b, _ := PickTarget(nodes, nil, newRand(4))
	if a != b {
		t.Errorf("same seed picked %s and %s", a, b)
	}
}
