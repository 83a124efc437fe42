package kafka

import (
	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// sendPollCycles is Jepsen's kafka cycles! (jepsen/src/jepsen/tests/kafka.clj):
// Elle's txn/cycles! with {:consistency-models [:strict-serializable]}
// (fixed; Maelstrom's --consistency-models does not reach it) over the
// send and poll operations. The graph holds wr edges (see wrGraph) and
// Elle's realtime order; Maelstrom never sets :ww-deps, so there are no ww
// edges, and strict-serializable asks for no process edges. Every
// anomaly Elle finds is returned, unfiltered, as Jepsen merges them; empty
// says the graph has no vertex at all (Elle's :empty-transaction-graph).
//
// Since a send only writes and a poll only reads, any cycle must leave a
// poll by a realtime edge: a poll that observed a message whose send was
// invoked after the poll completed. Elle names such cycles :G1c-realtime
// and also reports :strong-PL-2-cycle-exists for them.
//
// The graph is first searched without explanations, which are costly to
// build for every wr edge and only matter in a reported cycle; when a
// cycle is found it is built again with them and searched again.
func sendPollCycles(h *kafkaHistory) (found elle.Anomalies, empty bool) {
	// Elle's realtime graph over the send and poll ops, invocations
	// included. It has an edge (and so vertices) exactly when some send or
	// poll with a completion is invoked after another completed :ok.
	n := 0
	for i := range h.ops {
		if op := &h.ops[i]; op.IsClient() && (op.F == "send" || op.F == "poll") {
			n++
		}
	}
	sp := make([]history.Op, 0, n)
	for i := range h.ops {
		if op := &h.ops[i]; op.IsClient() && (op.F == "send" || op.F == "poll") {
			sp = append(sp, *op)
		}
	}
	g, wr := wrGraph(h, false)
	g.AddRealtime(sp)
	found = g.Cycles(elle.CycleOptions{})
	if len(found) > 0 {
		g, _ = wrGraph(h, true)
		g.AddRealtime(sp)
		found = g.Cycles(elle.CycleOptions{})
	}
	return found, !wr && !realtimeEdgeExists(sp)
}

// wrGraph links, in h, the send completion of each message (of any outcome:
// the last one, as Jepsen's writer-of keeps it) to every :ok poll that
// returned it, and says whether it linked anything. With explain, each
// edge carries Elle's WRExplainer explanation: the first message of the
// reader the writer sent (a send sends one).
func wrGraph(h *kafkaHistory, explain bool) (*elle.Graph, bool) {
	g := elle.NewGraph()
	wr := false
	linked := make([]int32, len(h.ops)) // writer -> 1 + ops index of the last poll linked from it
	for o, r := range h.okPollReads {
		k := h.keys[r.key]
		for _, m := range h.readMsgs(r) {
			km := &k.msgs[m]
			if km.writer < 0 || linked[km.writer] == o.i+1 {
				continue // unknown writers are reported before we get here
			}
			linked[km.writer] = o.i + 1
			var why edn.Map
			if explain {
				why = edn.K("key", k.name, "value", km.val, "a-mop-index", 0, "b-mop-index", 0)
			}
			g.Link(h.ops[km.writer], h.ops[o.i], elle.WR, why)
			wr = true
		}
	}
	return g, wr
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
