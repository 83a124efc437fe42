package workbench_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
	"github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// In a whole run with free threads, thread 0 (bound to n0) takes about
// 2/(n+1) of the operations, as under Jepsen 0.3.7's rotation over the
// client threads and the nemesis slot, and the asked rate is reached.
func TestThreadZeroShareInARun(t *testing.T) {
	const threads = 5
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echo.Register), NodeIDs: workbench.NodeIDs(threads),
		Concurrency: threads, TimeLimit: 20 * time.Second, Rate: 100, Seed: 3,
	})
	perThread := make([]int, threads)
	total := 0
	for _, op := range res.History {
		if op.Type == history.Invoke {
			perThread[op.Process%threads]++
			total++
		}
	}
	if total < 1940 || total > 2060 {
		t.Errorf("%d operations in 20 s at rate 100, want 2000 ± 3%%", total)
	}
	share := float64(perThread[0]) / float64(total)
	if want := 2.0 / (threads + 1); share < want-0.02 || share > want+0.02 {
		t.Errorf("thread 0 took %.3f of the operations (%v), want %.3f", share, perThread, want)
	}
	for i := 1; i < threads; i++ {
		if s := float64(perThread[i]) / float64(total); s < 1.0/(threads+1)-0.02 || s > 1.0/(threads+1)+0.02 {
			t.Errorf("thread %d took %.3f of the operations, want %.3f", i, s, 1.0/(threads+1))
		}
	}
}

// finalOrder returns the threads in the order their final reads were
// invoked.
func finalOrder(t *testing.T, seed uint64) []int {
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(func(n *node.Node) { broadcast.Register(n) }), NodeIDs: workbench.NodeIDs(5),
		TimeLimit: 2 * time.Second, Rate: 10, Seed: seed, RecoveryWait: time.Second,
	})
	var order []int
	for _, op := range res.History {
		if op.Type == history.Invoke && op.Final {
			order = append(order, op.Process%5)
		}
	}
	return order
}

// Final reads start one thread after another in a random order drawn
// from the seed, as Jepsen's EachThread breaks the tie between threads
// whose operations are all due at once: every thread reads once, the
// same seed gives the same order, and the order is not always the
// threads' own.
func TestFinalReadsStartInJepsensOrder(t *testing.T) {
	ascending := 0
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 6; seed++ {
		order := finalOrder(t, seed)
		sorted := slices.Sorted(slices.Values(order))
		if !slices.Equal(sorted, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("seed %d: final reads by threads %v, want each of 0…4 once", seed, order)
		}
		if again := finalOrder(t, seed); !slices.Equal(order, again) {
			t.Fatalf("seed %d: final order %v, then %v on the same seed", seed, order, again)
		}
		if slices.IsSorted(order) {
			ascending++
		}
		seen[sliceKey(order)] = true
	}
	if ascending == 6 || len(seen) < 3 {
		t.Errorf("final orders over six seeds: %d distinct, %d in thread order; want a random order per seed", len(seen), ascending)
	}
}

func sliceKey(s []int) string {
	b := make([]byte, len(s))
	for i, v := range s {
		b[i] = byte('0' + v)
	}
	return string(b)
}

// The nemesis's first fault goes out before the first client operation
// (both are due at time 0), and partitions are logged as Maelstrom prints
// grudges, {"n0" #{"n1" …}, …}.
func TestNemesisGoesFirstAndLogsGrudges(t *testing.T) {
	var log strings.Builder
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echo.Register), NodeIDs: workbench.NodeIDs(3),
		TimeLimit: 5 * time.Second, Rate: 50, Nemesis: []string{"partition"}, Seed: 9, Log: &log,
	})
	if first := res.History[0]; first.IsClient() || first.F != "start-partition" {
		t.Errorf("first history entry %+v, want the nemesis's start-partition", first)
	}
	grudge := regexp.MustCompile(`Partition [a-z-]+: \{"n\d" #\{("n\d" ?)*\}`)
	if !grudge.MatchString(log.String()) {
		t.Errorf("no partition line in Maelstrom's grudge syntax in the log:\n%s", log.String())
	}
}
