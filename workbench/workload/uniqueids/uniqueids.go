// Package uniqueids is the unique-ids workload (challenge 2): clients
// send {"type":"generate"} and expect {"type":"generate_ok","id":<any>};
// the checker (Check) requires no id to be acknowledged twice. As
// Maelstrom's src/maelstrom/workload/unique_ids.clj, the package holds
// the client, the generator and the checker.
package uniqueids

import (
	"context"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

type uniqueIDs struct{}

// New returns a unique-ids workload.
func New(*workload.Env) (workload.Workload, error) { return uniqueIDs{}, nil }

var generateReply = workload.Schema{Type: "generate_ok", Fields: map[string]workload.Kind{"id": workload.AnyKind}}

func (uniqueIDs) Reusable() bool                                          { return true }
func (uniqueIDs) Setup(context.Context, map[string]workload.Caller) error { return nil }
func (uniqueIDs) Final() func(context.Context, int, func(history.Op) history.Op) {
	return nil
}
func (uniqueIDs) NextOp(int, int) (history.Op, bool) { return history.Op{F: "generate"}, true }

func (uniqueIDs) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	return workload.Call(ctx, c, op, map[string]any{"type": "generate"}, workload.CallOpts{Reply: generateReply,
		OnOK: func(r netsim.Reply) any { return r.Body["id"] }})
}

func (uniqueIDs) Check(ops []history.Op) edn.Map { return Check(ops) }
