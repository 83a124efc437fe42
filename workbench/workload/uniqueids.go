package workload

import (
	"context"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// The unique-ids workload (challenge 2): clients send {"type":"generate"}
// and expect {"type":"generate_ok","id":<any>}; the checker requires no
// id to be acknowledged twice.
func init() { register("unique-ids", newUniqueIDs) }

type uniqueIDs struct{}

func newUniqueIDs(*Env) (Workload, error) { return uniqueIDs{}, nil }

var generateReply = Schema{Type: "generate_ok", Fields: map[string]Kind{"id": AnyKind}}

func (uniqueIDs) Reusable() bool                                 { return true }
func (uniqueIDs) Setup(context.Context, map[string]Caller) error { return nil }
func (uniqueIDs) Final() func(context.Context, int, func(history.Op) history.Op) {
	return nil
}
func (uniqueIDs) NextOp(int, int) (history.Op, bool) { return history.Op{F: "generate"}, true }

func (uniqueIDs) Invoke(ctx context.Context, c Caller, op history.Op) history.Op {
	return Call(ctx, c, op, map[string]any{"type": "generate"}, CallOpts{Reply: generateReply,
		OnOK: func(r netsim.Reply) any { return r.Body["id"] }})
}

func (uniqueIDs) Check(ops []history.Op) edn.Map { return checker.UniqueIDs(ops) }
