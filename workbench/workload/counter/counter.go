// Package counter is the g-counter and pn-counter workloads (challenge 4
// and Maelstrom's CRDT chapter), which share one client, generator and
// checker, as Maelstrom's src/maelstrom/workload/g_counter.clj reuses
// pn_counter.clj. Clients mix, half and half,
//
//	{"type":"add","delta":3} → {"type":"add_ok"}
//	{"type":"read"}          → {"type":"read_ok","value":42}
//
// pn-counter draws deltas uniformly from −5…4. g-counter takes the same
// stream and throws away every add with a negative delta (drawing again),
// so its deltas are uniform in 0…4 and only about a third of its
// operations are adds. After the main phase and recovery, every worker
// reads once more ({:f :read, :final? true}).
//
// These clients do not wrap errors: a timeout, an error reply or a
// malformed reply is an indeterminate (:info) completion carrying an
// exception, never :fail. The checker (Check) sums the acknowledged adds,
// lets every indeterminate add count or not, and requires each final
// read to land in that acceptable set.
package counter

import (
	"context"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// NewGCounter returns a g-counter workload for env.
func NewGCounter(env *workload.Env) (workload.Workload, error) {
	return &counterWorkload{env: env, grow: true}, nil
}

// NewPNCounter returns a pn-counter workload for env.
func NewPNCounter(env *workload.Env) (workload.Workload, error) {
	return &counterWorkload{env: env}, nil
}

// counterWorkload is g-counter (grow set) or pn-counter.
type counterWorkload struct {
	env  *workload.Env
	grow bool // drop negative deltas: g-counter
}

// Delta bounds of the pn-counter generator, inclusive.
const (
	minDelta = -5
	maxDelta = 4
)

var (
	addReply         = workload.Schema{Type: "add_ok"}
	counterReadReply = workload.Schema{Type: "read_ok", Fields: map[string]workload.Kind{"value": workload.IntKind}}
)

func (*counterWorkload) Reusable() bool                                          { return false }
func (*counterWorkload) Setup(context.Context, map[string]workload.Caller) error { return nil }

// NextOp draws from the pn-counter stream: an add of a delta uniform in
// −5…4 or a read, evenly. A g-counter redraws instead of emitting a
// negative add.
func (w *counterWorkload) NextOp(int, int) (history.Op, bool) {
	for {
		if w.env.Rand.IntN(2) == 1 {
			return history.Op{F: "read"}, true
		}
		d := int64(minDelta + w.env.Rand.IntN(maxDelta-minDelta+1))
		if w.grow && d < 0 {
			continue
		}
		return history.Op{F: "add", Value: d}, true
	}
}

func (*counterWorkload) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	if op.F == "add" {
		return workload.Call(ctx, c, op, map[string]any{"type": "add", "delta": op.Value}, workload.CallOpts{Reply: addReply,
			RawErrors: true, OnOK: func(netsim.Reply) any { return op.Value }})
	}
	return workload.Call(ctx, c, op, map[string]any{"type": "read"}, workload.CallOpts{Reply: counterReadReply,
		RawErrors: true, OnOK: func(r netsim.Reply) any { return r.Body["value"] }})
}

// Final reads once from every worker, marked :final? so the checker
// judges it.
func (*counterWorkload) Final() func(context.Context, int, func(history.Op) history.Op) {
	return func(_ context.Context, _ int, do func(history.Op) history.Op) {
		do(history.Op{F: "read", Final: true})
	}
}

func (*counterWorkload) Check(ops []history.Op) edn.Map { return Check(ops) }
