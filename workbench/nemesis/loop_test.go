package nemesis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/workbench/edn"
)

// recorder is a Target that writes down what it is asked to do, with
// the time since start.
type recorder struct {
	start time.Time
	down  map[string]bool // killed and not restarted
	log   []string
}

func (r *recorder) note(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("%v ", time.Since(r.start))+fmt.Sprintf(format, args...))
}

func (r *recorder) Partition(g Grudge) { r.note("partition %s", grudgeText(g)) }
func (r *recorder) Heal()              { r.note("heal") }
func (r *recorder) Kill(id string)     { r.note("kill %s", id); r.down[id] = true }
func (r *recorder) Restart(_ context.Context, id string) {
	r.note("restart %s", id)
	delete(r.down, id)
}
func (r *recorder) Pause(id string)  { r.note("pause %s", id) }
func (r *recorder) Resume(id string) { r.note("resume %s", id) }
func (r *recorder) Record(f string, v any) {
	b, err := edn.Marshal(v)
	if err != nil {
		panic(err)
	}
	r.note("record %s %s", f, b)
}
func newRecorder() *recorder       { return &recorder{start: time.Now(), down: map[string]bool{}} }
func (r *recorder) String() string { return strings.Join(r.log, "\n") }
func (r *recorder) count(prefix string) (n int) {
	for _, l := range r.log {
		if strings.Contains(l, prefix) {
			n++
		}
	}
	return n
}

// A plan is carried out as written: each operation at its time, recorded
// before and after it acts, and EndAll ends every fault of the loop, the
// partition first, even one the plan already ended.
func TestLoopCarriesOutAPlanAndEndsEveryFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan, err := ParsePlan("0s start-partition n0:n1,n1:n0; 2s kill n2; 3s stop-partition; 5s start n2")
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		busy := 0
		l := NewLoop(rec, Config{Faults: []string{FaultKill, FaultPartition}, Nodes: []string{"n0", "n1", "n2"},
			Plan: plan, Start: rec.start, Busy: func() { busy++ }})
		l.Turn(t.Context())
		l.Run(t.Context(), rec.start.Add(10*time.Second))
		if got := time.Since(rec.start); got != 10*time.Second {
			t.Errorf("Run returned after %v, want at the deadline, 10s", got)
		}
		l.EndAll(t.Context())
		want := []string{
			`0s record start-partition nil`,
			`0s partition n0:n1,n1:n0`,
			`0s record start-partition [:isolated {"n0" #{"n1"}, "n1" #{"n0"}}]`,
			`2s record kill ["n2"]`, `2s kill n2`, `2s record kill ["n2"]`,
			`3s record stop-partition nil`, `3s heal`, `3s record stop-partition :network-healed`,
			`5s record start ["n2"]`, `5s restart n2`, `5s record start ["n2"]`,
			`10s record stop-partition nil`, `10s heal`, `10s record stop-partition :network-healed`,
			`10s record start []`, `10s record start []`,
		}
		if !slices.Equal(rec.log, want) {
			t.Errorf("the loop did\n%s\nwant\n%s", rec, strings.Join(want, "\n"))
		}
		if busy != 4 {
			t.Errorf("Busy called %d times, want once per operation of the main phase, 4", busy)
		}
	})
}

// Random faults: every fault starts at time 0 (partition first), its
// operations alternate, and kill and pause never take the same node.
func TestLoopRandomFaultsAlternateAndAvoidEachOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		nodes := []string{"n0", "n1"}
		l := NewLoop(rec, Config{Faults: []string{FaultKill, FaultPause, FaultPartition}, Nodes: nodes,
			Interval: time.Second, Seed: 7})
		l.Turn(t.Context())
		if len(rec.log) < 9 || !strings.HasPrefix(rec.log[0], "0s record start-partition") ||
			!strings.HasPrefix(rec.log[3], "0s record pause") || !strings.HasPrefix(rec.log[6], "0s record kill") {
			t.Fatalf("the first turns at time 0 were\n%s\nwant partition, pause, kill", rec)
		}
		l.Run(t.Context(), rec.start.Add(time.Minute))
		l.EndAll(t.Context())
		// Each fault's target now, by the operations that begin and end it.
		target := map[string]string{}
		begins := map[string]string{"pause": FaultPause, "kill": FaultKill}
		ends := map[string]string{"resume": FaultPause, "restart": FaultKill}
		other := map[string]string{FaultPause: FaultKill, FaultKill: FaultPause}
		for _, line := range rec.log {
			var op, id string
			if _, err := fmt.Sscanf(line[strings.Index(line, " ")+1:], "%s %s", &op, &id); err != nil {
				continue
			}
			if fault, ok := begins[op]; ok {
				if target[fault] != "" || id == target[other[fault]] {
					t.Fatalf("%s %s while %v:\n%s", op, id, target, rec)
				}
				target[fault] = id
			}
			if fault, ok := ends[op]; ok {
				target[fault] = ""
			}
		}
		if target[FaultPause] != "" || target[FaultKill] != "" || len(rec.down) != 0 {
			t.Errorf("after EndAll the faults still hold %v", target)
		}
		if n := rec.count(" kill n"); n < 5 {
			t.Errorf("%d kills in a minute at a mean interval of 1s", n)
		}
	})
}

// A nil loop, a test without --nemesis, has no faults to end.
func TestNilLoopEndsNothing(t *testing.T) {
	var l *Loop
	l.EndAll(context.Background())
}
