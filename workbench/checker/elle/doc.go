// Package elle checks transactional histories the way Elle (jepsen-io/elle
// 0.2.2, the version Maelstrom 0.2.4 runs) does: it builds a dependency
// graph over transactions, finds its strongly connected components, looks
// in each for the shortest cycles that prove an anomaly (G0, G1c,
// G-single, G2-item, ... and their -process / -realtime variants),
// and says which consistency models the anomalies rule out.
//
// Two layers:
//
//   - CheckRWRegister and CheckListAppend (Maelstrom's txn-rw-register and
//     txn-list-append checkers) infer the graph from a history of
//     transactions themselves.
//   - The generic cycle API below lets another checker (kafka's) supply its
//     own edges and reuse the search, classification and result shape.
//
// # The generic cycle API
//
// Vertices are the caller's completion ops (identified by history.Op.Index).
// The caller links them with explained edges; elle adds Elle's realtime (or
// process) order, finds cycles and renders them as Elle prints them:
//
//	g := elle.NewGraph()
//	// T1 wrote k = 5 and T2 read it (and likewise for every dependency):
//	g.Link(t1, t2, elle.WR, edn.K("key", "k", "value", int64(5)))
//	g.AddRealtime(ops)   // ops: the whole history, invocations included
//	found := g.Cycles(elle.CycleOptions{})      // elle.Anomalies
//	res := elle.Result(found, []string{"strict-serializable"})
//	// found["G1c-realtime"] is a list of cases like
//	// {:cycle [T1 T2 T1],
//	//  :steps ({:type :wr, :key "k", :value 5}
//	//          {:type :realtime, :a' T2, :b <T1's invocation>}),
//	//  :type :G1c-realtime}
//
// Link's explanation map is printed after :type in the step; realtime
// steps print {:type :realtime, :a' <a's completion>, :b <b's invocation>}
// and process steps {:type :process, :process p}, as Elle's
// RealtimeExplainer and ProcessExplainer do. Cycles also reports Elle's
// cycle-exists fallbacks (:PL-1-cycle-exists, ...) and, when a
// component's search runs past CycleOptions.Timeout (1 s by default),
// a :cycle-search-timeout case and a fallback cycle. Result turns the
// anomalies into Elle's {:valid? :anomaly-types :anomalies :not
// :also-not} map for the given models; Reportable, ProhibitedAnomalies
// and Boundary expose the model lattice (Elle's consistency_model.clj)
// for checkers that shape their results differently.
//
// # How cycles are searched and named
//
// When an edge carries several relationships, Elle's combined explainer
// justifies it by the first of its explainers that can (ww, wr, rw, then
// process or realtime for list-append and kafka; wr first for
// rw-register), and the cycle is named by those explanations; this
// package labels edges the same way before searching (Graph.SetExplainOrder),
// so the reported type always matches the printed steps. A consequence
// faithful to Maelstrom: in an rw-register history every ww edge is also a
// wr edge, so write cycles are reported as G1c (with :PL-1-cycle-exists
// saying a ww-only cycle exists), never G0.
//
// The search is linear-ish: realtime edges are a transitive reduction
// (about n × concurrency edges), components come from an iterative Tarjan,
// and each anomaly type is a breadth-first search over (vertex, small
// state) pairs started only from edges the type must contain, inside the
// component of the subgraph the type may use.
package elle
