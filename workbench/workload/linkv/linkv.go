// Package linkv is the lin-kv workload (Maelstrom's default and its
// src/maelstrom/workload/lin_kv.clj, and the Raft chapter): clients read,
// write and compare-and-set integer keys,
//
//	{"type":"read","key":0}                  → {"type":"read_ok","value":3}
//	{"type":"write","key":0,"value":4}       → {"type":"write_ok"}
//	{"type":"cas","key":0,"from":4,"to":1}   → {"type":"cas_ok"}
//
// and the checker requires every key to behave as one linearizable
// compare-and-set register (the generic checker.LinearizableKV).
//
// The generator follows Jepsen's independent concurrent generator as
// Maelstrom configures it. Threads form groups of 2N (N nodes), so
// --concurrency must be a multiple of 2N (hence "--concurrency 2n").
// Group g starts on key g. Threads 0…N−1 — in group 0 only — issue reads;
// every other thread mixes writes (⅓) and cas (⅔) with values in 0…4. A
// group moves to the next unused key once more than 20 process ids have
// worked on its key (a thread's process changes after each :info); with
// 11 or more nodes a group starts over that limit and issues nothing, as
// in Maelstrom. Values are [key value] tuples: read [k nil] completes as
// [k v], write [k v], cas [k [from to]]. Reads are idempotent (a timeout
// is :fail); the RPC timeout is max(10 × latency, 1 s).
//
// When a key is not linearizable, the workload explains it (explain.go):
// the smallest window of the key's operations that cannot be linearized,
// told as a story of who did what when, and porcupine's visualization of
// that window in the run's folder (linearizability-<key>.html).
package linkv

import (
	"context"
	"fmt"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// linKVProcessLimit is how many process ids may work on one key.
const linKVProcessLimit = 20

type linKV struct {
	env     *workload.Env
	group   int // threads per group: 2N
	nextKey int64
	groups  []*linKVGroup
	procOf  []int // current process id of each thread
	timeout time.Duration
}

type linKVGroup struct {
	key       int64
	processes map[int]bool // process ids that worked on key
	exhausted bool
}

// New returns a lin-kv workload for env; env.Concurrency must be a
// multiple of twice the node count.
func New(env *workload.Env) (workload.Workload, error) {
	n := len(env.Nodes)
	if n == 0 || env.Concurrency%(2*n) != 0 {
		return nil, fmt.Errorf("lin-kv needs --concurrency to be a positive multiple of 2 × the node count (%d); try --concurrency 2n", 2*n)
	}
	w := &linKV{env: env, group: 2 * n, procOf: make([]int, env.Concurrency),
		timeout: max(10*env.Latency, time.Second)}
	for t := range w.procOf {
		w.procOf[t] = t
	}
	for g := 0; g < env.Concurrency/w.group; g++ {
		w.groups = append(w.groups, w.startKey(g))
	}
	return w, nil
}

// startKey gives group g the next unused key, with its threads' current
// processes counted against it.
func (w *linKV) startKey(g int) *linKVGroup {
	grp := &linKVGroup{key: w.nextKey, processes: map[int]bool{}}
	w.nextKey++
	for t := g * w.group; t < (g+1)*w.group; t++ {
		grp.processes[w.procOf[t]] = true
	}
	grp.exhausted = len(grp.processes) > linKVProcessLimit
	return grp
}

var (
	linReadReply  = workload.Schema{Type: "read_ok", Fields: map[string]workload.Kind{"value": workload.AnyKind}}
	linWriteReply = workload.Schema{Type: "write_ok"}
	linCASReply   = workload.Schema{Type: "cas_ok"}
)

func (*linKV) Reusable() bool                                          { return true }
func (*linKV) Setup(context.Context, map[string]workload.Caller) error { return nil }
func (*linKV) Final() func(context.Context, int, func(history.Op) history.Op) {
	return nil
}

// NextOp draws the thread's next operation on its group's current key.
func (w *linKV) NextOp(thread, process int) (history.Op, bool) {
	g := thread / w.group
	w.procOf[thread] = process
	grp := w.groups[g]
	if !grp.processes[process] {
		grp.processes[process] = true
		if len(grp.processes) > linKVProcessLimit {
			grp = w.startKey(g)
			w.groups[g] = grp
		}
	}
	if grp.exhausted {
		return history.Op{}, false
	}
	k := grp.key
	rng := w.env.Rand
	switch {
	case thread < len(w.env.Nodes):
		return history.Op{F: "read", Value: []any{k, nil}}, true
	case rng.IntN(3) == 0:
		return history.Op{F: "write", Value: []any{k, int64(rng.IntN(5))}}, true
	default:
		return history.Op{F: "cas", Value: []any{k, []any{int64(rng.IntN(5)), int64(rng.IntN(5))}}}, true
	}
}

func (w *linKV) Invoke(ctx context.Context, c workload.Caller, op history.Op) history.Op {
	kv, _ := op.Value.([]any)
	if len(kv) != 2 {
		op.Type = history.Info
		op.Error = "indeterminate: malformed lin-kv operation"
		return op
	}
	k, v := kv[0], kv[1]
	switch op.F {
	case "read":
		return workload.Call(ctx, c, op, map[string]any{"type": "read", "key": k}, workload.CallOpts{Reply: linReadReply,
			Timeout: w.timeout, Idempotent: true, OnOK: func(r netsim.Reply) any { return []any{k, r.Body["value"]} }})
	case "write":
		return workload.Call(ctx, c, op, map[string]any{"type": "write", "key": k, "value": v}, workload.CallOpts{Reply: linWriteReply,
			Timeout: w.timeout, OnOK: func(netsim.Reply) any { return op.Value }})
	default:
		ft, _ := v.([]any)
		if len(ft) != 2 {
			op.Type = history.Info
			op.Error = "indeterminate: malformed cas operation"
			return op
		}
		return workload.Call(ctx, c, op, map[string]any{"type": "cas", "key": k, "from": ft[0], "to": ft[1]}, workload.CallOpts{Reply: linCASReply,
			Timeout: w.timeout, OnOK: func(netsim.Reply) any { return op.Value }})
	}
}

// linKVCheckTimeout bounds the linearizability search; keys it cannot
// decide in time are :unknown.
const linKVCheckTimeout = time.Minute

func (*linKV) Check(ops []history.Op) edn.Map { return checker.LinearizableKV(ops, linKVCheckTimeout) }

// RefusedForTheData reports whether op is a completion that a correct
// key-value store gives because of the data, not for want of
// availability: :fail with error 20 (key-does-not-exist, a read or cas of
// a missing key) or 22 (precondition-failed, a cas whose from is not the
// current value). Most lin-kv cas end so, which keeps :ok-fraction near
// 0.75 for a perfect store; availability figures count them as served.
func RefusedForTheData(op history.Op) bool {
	if op.Type != history.Fail {
		return false
	}
	e, ok := op.Error.([]any)
	if !ok || len(e) == 0 {
		return false
	}
	return e[0] == edn.Keyword(node.Code(node.KeyDoesNotExist).String()) ||
		e[0] == edn.Keyword(node.Code(node.PreconditionFailed).String())
}
