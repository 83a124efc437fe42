package counter_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/counter"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// runCounter runs the g-counter workload on three in-process nodes in
// virtual time.
func runCounter(t *testing.T, register func(*node.Node), seed uint64, rate float64, partitions bool) *workbench.Result {
	t.Helper()
	cfg := workbench.Config{
		Workload: "g-counter", Node: workbench.InProcess(register),
		NodeIDs: []string{"n0", "n1", "n2"}, TimeLimit: 10 * time.Second, Rate: rate, Seed: seed,
	}
	if partitions {
		cfg.Nemesis, cfg.NemesisInterval = []string{"partition"}, 2*time.Second
	}
	return workbenchtest.Run(t, cfg)
}

func workloadResult(res *workbench.Result) any {
	v, _ := res.Results.Get(edn.Keyword("workload"))
	return v
}

// The bench must call both faulty counters invalid, with or without
// partitions, and the real solution valid under the same runs.
func TestFaultyCountersAreInvalid(t *testing.T) {
	nodes := faulty.Nodes()
	for _, fault := range []string{"local-counter", "blind-counter"} {
		for _, partitions := range []bool{false, true} {
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%s/partitions=%v/seed%d", fault, partitions, seed), func(t *testing.T) {
					t.Parallel()
					res := runCounter(t, nodes[fault], seed, 100, partitions)
					if res.Valid != checker.Invalid {
						t.Fatalf("%s judged %v, want invalid: %v", fault, res.Valid, workloadResult(res))
					}
				})
			}
		}
	}
	t.Run("control", func(t *testing.T) {
		t.Parallel()
		if res := runCounter(t, counter.Register, 1, 100, true); res.Valid != checker.Valid {
			t.Fatalf("the real g-counter judged %v: %v", res.Valid, workloadResult(res))
		}
	})
}

// blindOn is BlindCounter's read-then-write on the given service: the
// control for the staleness test.
func blindOn(service string) func(*node.Node) {
	return func(n *node.Node) {
		kv := node.NewKV(n, service)
		read := func() (int64, error) {
			v, err := kv.ReadInt(n.Context(), "total")
			if node.IsKeyDoesNotExist(err) {
				return 0, nil
			}
			return int64(v), err
		}
		n.Handle("add", func(msg node.Message) error {
			var body struct{ Delta int64 }
			if err := msg.Unmarshal(&body); err != nil {
				return err
			}
			cur, err := read()
			if err != nil {
				return err
			}
			if err := kv.Write(n.Context(), "total", cur+body.Delta); err != nil {
				return err
			}
			return n.Reply(msg, map[string]any{"type": "add_ok"})
		})
		n.Handle("read", func(msg node.Message) error {
			v, err := read()
			if err != nil {
				return err
			}
			return n.Reply(msg, map[string]any{"type": "read_ok", "value": v})
		})
	}
}

// With operations that never overlap (a slow rate, zero latency), a blind
// read-then-write counter is correct on lin-kv; on seq-kv it loses
// updates anyway: a node that did not make the latest write is served an
// older state, adds onto it, and its reads stay behind until it writes.
// Staleness alone breaks it, and the bench sees it.
func TestSeqKVStalenessBreaksABlindCounter(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			if res := runCounter(t, blindOn(node.LinKV), seed, 5, false); res.Valid != checker.Valid {
				t.Fatalf("blind counter on lin-kv with sequential ops judged %v: %v", res.Valid, workloadResult(res))
			}
			if res := runCounter(t, blindOn(node.SeqKV), seed, 5, false); res.Valid != checker.Invalid {
				t.Fatalf("blind counter on seq-kv judged %v, want invalid: %v", res.Valid, workloadResult(res))
			}
			if res := runCounter(t, faulty.BlindCounter, seed, 5, false); res.Valid != checker.Invalid {
				t.Fatalf("faulty blind-counter judged %v, want invalid: %v", res.Valid, workloadResult(res))
			}
		})
	}
}
