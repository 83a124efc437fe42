// Package gset is the g-set workload (Maelstrom's grow-only set,
// src/maelstrom/workload/g_set.clj): clients mix, half and half,
//
//	{"type":"add","element":7} → {"type":"add_ok"}
//	{"type":"read"}            → {"type":"read_ok","value":[0,3,7]}
//
// adding 0, 1, 2, ... (each element once). After the main phase and
// recovery every worker reads once more; unlike the counters and
// broadcast, these final reads carry no :final? flag. As for the
// counters, errors are not wrapped: every failure is :info with an
// exception. The checker is Jepsen's generic set-full (checker.SetFull):
// an acknowledged element that later reads miss for good is lost and the
// run invalid.
package gset

import (
	"context"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// New returns a g-set workload for env.
func New(env *workload.Env) (workload.Workload, error) { return &gSet{env: env}, nil }

type gSet struct {
	env  *workload.Env
	next int64 // the next element to add
}

var (
	addReply     = workload.Schema{Type: "add_ok"}
	setReadReply = workload.Schema{Type: "read_ok", Fields: map[string]workload.Kind{"value": workload.ArrayKind}}
)

func (*gSet) Reusable() bool                                          { return false }
func (*gSet) Setup(context.Context, map[string]workload.Caller) error { return nil }

// NextOp picks an add of the next element or a read, evenly.
func (s *gSet) NextOp(int, int) (history.Op, bool) {
	if s.env.Rand.IntN(2) == 0 {
		e := s.next
		s.next++
		return history.Op{F: "add", Value: e}, true
	}
	return history.Op{F: "read"}, true
}

func (*gSet) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	if op.F == "add" {
		return workload.Call(ctx, c, op, map[string]any{"type": "add", "element": op.Value}, workload.CallOpts{Reply: addReply,
			RawErrors: true, OnOK: func(netsim.Reply) any { return op.Value }})
	}
	return workload.Call(ctx, c, op, map[string]any{"type": "read"}, workload.CallOpts{Reply: setReadReply,
		RawErrors: true, OnOK: func(r netsim.Reply) any { return r.Body["value"] }})
}

// Final reads once from every worker (no :final? flag, as in Maelstrom).
func (*gSet) Final() func(context.Context, int, func(history.Op) history.Op) {
	return func(_ context.Context, _ int, do func(history.Op) history.Op) {
		do(history.Op{F: "read"})
	}
}

func (*gSet) Check(ops []history.Op) edn.Map { return checker.SetFull(ops) }

// ExtraCheck finds reads with duplicated or never-added elements, which
// Maelstrom's checker lets through.
func (*gSet) ExtraCheck(ops []history.Op) edn.Map { return checker.SetExtras(ops) }
