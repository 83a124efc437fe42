package echo

import (
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
)

// A failed echo and a reply without an echo are errors too, each told as
// such; a right echo and a timeout are not.
func TestExplainEchoFailuresAndMissingEcho(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "echo", "Please echo 1").OK(0, "echo", edn.K("echo", "Please echo 1")).
		Inv(1, "echo", "Please echo 2").Fail(1, "echo", "Please echo 2").
		Inv(0, "echo", "Please echo 3").OK(0, "echo", edn.K("type", "echo_ok")).
		Inv(1, "echo", "Please echo 4").Info(1, "echo", nil)
	b.Ops[3].Error = []any{edn.Keyword("crash"), "boom"}
	ev := &explain.Evidence{Ops: b.Ops, Nodes: []string{"n0", "n1"}, Concurrency: 2, Workload: Check(b.Ops)}
	found := (&echo{}).Explain(ev)
	if len(found) != 1 {
		t.Fatalf("%+v", found)
	}
	f := found[0]
	if f.Count != 2 || f.Summary != "2 of 3 answered echo requests came back without the text that was sent (1 from n1, 1 from n0)." {
		t.Errorf("%+v", f)
	}
	if got := f.Examples[0].Text; !strings.Contains(got, `process 1 (on n1) sent echo "Please echo 2"`) || !strings.Contains(got, "failed") || !strings.Contains(got, "error 13 crash") {
		t.Errorf("failed echo told as %q", got)
	}
	if got := f.Examples[1].Text; !strings.HasSuffix(got, "the reply had no echo") {
		t.Errorf("echo-less reply told as %q", got)
	}
	if history.Pairs(b.Ops)[3].Complete.Type != history.Info {
		t.Fatal("the history is not as built")
	}
}
