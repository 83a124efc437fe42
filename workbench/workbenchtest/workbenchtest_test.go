package workbenchtest_test

import (
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

func TestRunAndGet(t *testing.T) {
	echo := func(n *node.Node) {
		n.Handle("echo", func(msg node.Message) error {
			var b map[string]any
			if err := msg.Unmarshal(&b); err != nil {
				return err
			}
			return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": b["echo"]})
		})
	}
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echo), NodeIDs: workbench.NodeIDs(1),
		TimeLimit: time.Minute, Rate: 10, Seed: 1,
	})
	if res.Valid != checker.Valid {
		t.Fatalf("echo: %v", workbenchtest.Get(t, res, "workload"))
	}
	if n := workbenchtest.Get(t, res, "stats", "ok-count").(int); n < 300 {
		t.Errorf("%d ok ops in a virtual minute at rate 10", n)
	}
}

func TestNumber(t *testing.T) {
	for v, want := range map[any]float64{int64(3): 3, 2.5: 2.5, 7: 7, float32(0.5): 0.5, "3": -1, nil: -1} {
		if got := workbenchtest.Number(v); got != want {
			t.Errorf("Number(%#v) = %v, want %v", v, got, want)
		}
	}
}

func TestSeeds(t *testing.T) {
	t.Setenv(workbenchtest.LongEnv, "")
	if got := workbenchtest.Seeds(t, "GLOMERS_TEST_SEEDS_UNSET", 20, 3); got != 3 {
		t.Errorf("default suite: %d seeds, want 3", got)
	}
	if !testing.Short() {
		t.Setenv(workbenchtest.LongEnv, "1")
		if got := workbenchtest.Seeds(t, "GLOMERS_TEST_SEEDS_UNSET", 20, 3); got != 20 {
			t.Errorf("long suite: %d seeds, want 20", got)
		}
	}
	t.Setenv("GLOMERS_TEST_SEEDS", "7")
	if got := workbenchtest.Seeds(t, "GLOMERS_TEST_SEEDS", 20, 3); got != 7 {
		t.Errorf("GLOMERS_TEST_SEEDS=7: %d seeds", got)
	}
	t.Setenv(workbenchtest.LongEnv, "0")
	if workbenchtest.Long() {
		t.Errorf("%s=0 counts as the long suite", workbenchtest.LongEnv)
	}
}
