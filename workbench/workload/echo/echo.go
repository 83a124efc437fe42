// Package echo is the echo workload (challenge 1): clients send
//
//	{"type":"echo","echo":"Please echo 42"} → {"type":"echo_ok","echo":"Please echo 42"}
//
// and the checker requires every definite reply to carry the same echo.
// The :ok completion's value is the whole reply body, as in Maelstrom.
// As Maelstrom's src/maelstrom/workload/echo.clj, the package holds the
// client, the generator and the checker (Check).
package echo

import (
	"context"
	"fmt"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

type echo struct{ env *workload.Env }

// New returns an echo workload for env.
func New(env *workload.Env) (workload.Workload, error) { return &echo{env: env}, nil }

var echoReply = workload.Schema{Type: "echo_ok", Fields: map[string]workload.Kind{"echo": workload.AnyKind}}

func (*echo) Reusable() bool                                          { return false }
func (*echo) Setup(context.Context, map[string]workload.Caller) error { return nil }
func (*echo) Final() func(context.Context, int, func(history.Op) history.Op) {
	return nil
}

// NextOp draws "Please echo r" with r uniform in 0…127.
func (e *echo) NextOp(int, int) (history.Op, bool) {
	return history.Op{F: "echo", Value: fmt.Sprintf("Please echo %d", e.env.Rand.IntN(128))}, true
}

func (*echo) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	body := map[string]any{"type": "echo", "echo": op.Value}
	return workload.Call(ctx, c, op, body, workload.CallOpts{Reply: echoReply,
		OnOK: func(r netsim.Reply) any { return workload.Keywordize(r.Raw) }})
}

func (*echo) Check(ops []history.Op) edn.Map { return Check(ops) }
