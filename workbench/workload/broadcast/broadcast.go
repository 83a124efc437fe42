// Package broadcast is the broadcast workload (challenge 3): every node
// first receives
//
//	{"type":"topology","topology":{"n0":["n1",...],...}} → {"type":"topology_ok"}
//
// then clients mix, half and half,
//
//	{"type":"broadcast","message":7} → {"type":"broadcast_ok"}
//	{"type":"read"}                  → {"type":"read_ok","messages":[...]}
//
// with messages 0, 1, 2, ... each broadcast once. After the main phase
// and recovery, every worker reads once more (:final? true). The checker
// is Jepsen's generic set-full (checker.SetFull) with broadcasts counted
// as adds: an acknowledged message that later reads miss for good is lost
// and the run invalid. See Maelstrom's src/maelstrom/workload/broadcast.clj.
package broadcast

import (
	"context"
	"fmt"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/topology"
	"github.com/glomers/glomers/workbench/workload"
)

type broadcast struct {
	env  *workload.Env
	topo map[string][]string
	next int64
}

// New returns a broadcast workload for env, over the topology it names
// (grid by default).
func New(env *workload.Env) (workload.Workload, error) {
	name := env.Topology
	if name == "" {
		name = "grid"
	}
	topo, err := topology.Build(name, env.Nodes)
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	return &broadcast{env: env, topo: topo}, nil
}

var (
	topologyReply  = workload.Schema{Type: "topology_ok"}
	broadcastReply = workload.Schema{Type: "broadcast_ok"}
	readReply      = workload.Schema{Type: "read_ok", Fields: map[string]workload.Kind{"messages": workload.ArrayKind}}
)

func (*broadcast) Reusable() bool { return false }

// Setup sends the same topology map to every node.
func (b *broadcast) Setup(ctx context.Context, callers map[string]workload.Caller) error {
	topo := make(map[string]any, len(b.topo))
	for k, v := range b.topo {
		vs := make([]any, len(v))
		for i, s := range v {
			vs[i] = s
		}
		topo[k] = vs
	}
	for _, n := range b.env.Nodes {
		inv := history.Op{F: "topology"}
		out := workload.Call(ctx, callers[n], inv, map[string]any{"type": "topology", "topology": topo},
			workload.CallOpts{Reply: topologyReply, OnOK: func(netsim.Reply) any { return nil }})
		if out.Type != history.OK {
			return fmt.Errorf("topology for node %s failed: %v", n, describe(out))
		}
	}
	return nil
}

// NextOp picks a broadcast of the next message or a read, evenly.
func (b *broadcast) NextOp(int, int) (history.Op, bool) {
	if b.env.Rand.IntN(2) == 0 {
		v := b.next
		b.next++
		return history.Op{F: "broadcast", Value: v}, true
	}
	return history.Op{F: "read"}, true
}

func (*broadcast) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	switch op.F {
	case "broadcast":
		return workload.Call(ctx, c, op, map[string]any{"type": "broadcast", "message": op.Value},
			workload.CallOpts{Reply: broadcastReply, OnOK: func(netsim.Reply) any { return op.Value }})
	default:
		return workload.Call(ctx, c, op, map[string]any{"type": "read"}, workload.CallOpts{Reply: readReply,
			Idempotent: true, OnOK: func(r netsim.Reply) any { return r.Body["messages"] }})
	}
}

// Final reads once from every worker.
func (*broadcast) Final() func(context.Context, int, func(history.Op) history.Op) {
	return func(_ context.Context, _ int, do func(history.Op) history.Op) {
		do(history.Op{F: "read", Final: true})
	}
}

func (*broadcast) Check(ops []history.Op) edn.Map {
	return checker.SetFull(checker.RenameF(ops, "broadcast", "add"))
}

// ExtraCheck finds reads with duplicated or never-broadcast messages,
// which Maelstrom's checker lets through.
func (*broadcast) ExtraCheck(ops []history.Op) edn.Map {
	return checker.SetExtras(checker.RenameF(ops, "broadcast", "add"))
}

// describe renders a failed completion for an error message.
func describe(op history.Op) string {
	if op.ExceptionMessage != "" {
		return op.ExceptionMessage
	}
	if op.Error != nil {
		return history.Key(op.Error)
	}
	return op.Type.String()
}
