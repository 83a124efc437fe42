package checker

import (
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// cycles is Jepsen's kafka cycles! (jepsen/src/jepsen/tests/kafka.clj):
// Elle's txn/cycles! with {:consistency-models [:strict-serializable]}
// (fixed; Maelstrom's --consistency-models does not reach it) over the
// send and poll operations. The graph holds wr edges, from the completion
// of the send of each message (of any outcome: the last one, as
// writer-of keeps it) to every :ok poll that returned it, and Elle's
// realtime order; Maelstrom never sets :ww-deps, so there are no ww
// edges, and strict-serializable asks for no process edges. Every
// anomaly Elle finds is returned, unfiltered, as Jepsen merges them; empty
// says the graph has no vertex at all (Elle's :empty-transaction-graph).
//
// Since a send only writes and a poll only reads, any cycle must leave a
// poll by a realtime edge: a poll that observed a message whose send was
// invoked after the poll completed. Elle names such cycles :G1c-realtime
// and also reports :strong-PL-2-cycle-exists for them.
func (h *kafkaHistory) cycles() (found elle.Anomalies, empty bool) {
	g := elle.NewGraph()
	wr := false
	var writers []int32
	for _, o := range h.kops {
		if o.kind != kafkaPoll || o.typ != history.OK {
			continue
		}
		writers = writers[:0]
		for _, r := range h.reads[o.rs:o.re] {
			k := h.keys[r.key]
			for _, m := range h.readMsgs(r) {
				km := k.msgs[m]
				if km.writer < 0 {
					continue // reported by unknownMessages before we get here
				}
				dup := false
				for _, w := range writers {
					if w == km.writer {
						dup = true
						break
					}
				}
				if dup {
					continue
				}
				writers = append(writers, km.writer)
				// Elle's WRExplainer explains the pair by the first message
				// of the reader written by the writer; a send writes one.
				g.Link(h.ops[km.writer], h.ops[o.i], elle.WR, edn.K("key", k.name, "value", km.val,
					"a-mop-index", 0, "b-mop-index", 0))
				wr = true
			}
		}
	}

	// Elle's realtime graph over the send and poll ops, invocations
	// included. It has an edge (and so vertices) exactly when some send or
	// poll with a completion is invoked after another completed :ok.
	var sp []history.Op
	for i := range h.ops {
		if op := &h.ops[i]; op.IsClient() && (op.F == "send" || op.F == "poll") {
			sp = append(sp, *op)
		}
	}
	g.AddRealtime(sp)
	return g.Cycles(elle.CycleOptions{}), !wr && !realtimeEdgeExists(sp)
}

// realtimeEdgeExists reports whether some invocation that has a
// completion comes after an :ok completion: Elle links only invocations
// with completions.
func realtimeEdgeExists(ops []history.Op) bool {
	completed := map[int]bool{} // invocation position -> has completion
	open := map[int]int{}
	for i, op := range ops {
		if op.Type == history.Invoke {
			open[op.Process] = i
			continue
		}
		if j, ok := open[op.Process]; ok {
			completed[j] = true
			delete(open, op.Process)
		}
	}
	okSeen := false
	for i, op := range ops {
		switch op.Type {
		case history.Invoke:
			if okSeen && completed[i] {
				return true
			}
		case history.OK:
			okSeen = true
		}
	}
	return false
}
