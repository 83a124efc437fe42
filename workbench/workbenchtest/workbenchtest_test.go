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
