package echo

import (
	"fmt"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

// BenchmarkExplain measures explaining a 60 s, 1000 op/s echo history
// with every seventh echo wrong, beside the analysis the runner does
// (stats, availability, exceptions and the workload's check): go test
// ./workbench/workload/echo -run '^$' -bench Explain.
func BenchmarkExplain(b *testing.B) {
	ops := wrongEchoHistory()
	workloadtest.BenchExplain(b, ops, 5, Check, &echo{})
}

// wrongEchoHistory is 60 s of echoes at 1000 a second over five
// processes, every seventh answered wrong.
func wrongEchoHistory() []history.Op {
	var ops []history.Op
	for i := 0; i < 60_000; i++ {
		p, at := i%5, int64(i)*1e6
		text := fmt.Sprintf("Please echo %d", i%128)
		echoed := text
		if i%7 == 0 {
			echoed = "not-right"
		}
		ops = append(ops,
			history.Op{Index: len(ops), Time: at, Type: history.Invoke, Process: p, F: "echo", Value: text},
			history.Op{Index: len(ops) + 1, Time: at + 3e5, Type: history.OK, Process: p, F: "echo",
				Value: edn.K("echo", echoed, "type", "echo_ok", "msg_id", i, "in_reply_to", i)})
	}
	return ops
}
