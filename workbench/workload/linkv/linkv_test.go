package linkv

import (
	"math/rand/v2"
	"testing"

	"github.com/glomers/glomers/workbench/workload"
)

func linKVFor(t *testing.T, nodes, concurrency int) *linKV {
	t.Helper()
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = "n" + string(rune('a'+i))
	}
	w, err := New(&workload.Env{Nodes: ids, Concurrency: concurrency, Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	return w.(*linKV)
}

func TestLinKVThreadRoles(t *testing.T) {
	w := linKVFor(t, 2, 8) // two groups of four threads
	for range 200 {
		for thread := range 8 {
			op, ok := w.NextOp(thread, thread)
			if !ok {
				t.Fatalf("generator exhausted")
			}
			kv := op.Value.([]any)
			wantKey := int64(thread / 4)
			if kv[0] != wantKey {
				t.Fatalf("thread %d worked on key %v, want %d", thread, kv[0], wantKey)
			}
			isRead := op.F == "read"
			if isRead != (thread < 2) {
				t.Fatalf("thread %d issued %s; only threads 0 and 1 read", thread, op.F)
			}
			if op.F == "cas" {
				ft := kv[1].([]any)
				if ft[0].(int64) > 4 || ft[1].(int64) > 4 {
					t.Fatalf("cas values %v outside 0…4", ft)
				}
			}
		}
	}
}

func TestLinKVMovesOnAfterTwentyProcesses(t *testing.T) {
	w := linKVFor(t, 1, 2) // one group: threads 0 (reads) and 1
	// Thread 1 keeps crashing: processes 1, 3, 5, ... join key 0.
	process := 1
	var key any
	for i := 0; i < 19; i++ {
		op, _ := w.NextOp(1, process)
		key = op.Value.([]any)[0]
		process += 2
	}
	if key != int64(0) {
		t.Fatalf("moved off key 0 after only 20 processes")
	}
	op, _ := w.NextOp(1, process) // the 21st process
	if got := op.Value.([]any)[0]; got != int64(1) {
		t.Fatalf("21st process works on key %v, want the next key 1", got)
	}
}

func TestLinKVLargeClustersStartExhausted(t *testing.T) {
	w := linKVFor(t, 11, 22)
	if _, ok := w.NextOp(0, 0); ok {
		t.Errorf("with 11 nodes a group starts with 22 > 20 processes and must issue nothing, as in Maelstrom")
	}
}

func TestLinKVRejectsConcurrency(t *testing.T) {
	if _, err := New(&workload.Env{Nodes: []string{"n0", "n1"}, Concurrency: 6}); err == nil {
		t.Errorf("concurrency 6 with 2 nodes accepted")
	}
}
