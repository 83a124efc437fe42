package checker

import (
	"strings"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// NetEvent is one entry of the network journal as the :net statistics see
// it: a message being sent (Recv false) or delivered (Recv true).
type NetEvent struct {
	Recv      bool   // true for a delivery, false for a send
	MsgID     int64  // the network's id for the message (not the body's msg_id)
	Src, Dest string // endpoints: clients "c…", servers, services
}

// isClient is Maelstrom's client test: the id starts with "c".
func isClient(id string) bool { return strings.HasPrefix(id, "c") }

// denseIDs is the threshold below which message ids are tracked in a
// bitset rather than a map; the network numbers messages densely from 0.
const denseIDs = 1 << 28

// idSet is a set of message ids: a bitset for small non-negative ids and a
// map for anything else.
type idSet struct {
	bits   []uint64
	sparse map[int64]struct{}
	n      int
}

// add inserts id and keeps the count of distinct ids.
func (s *idSet) add(id int64) {
	if id >= 0 && id < denseIDs {
		w, b := id/64, uint(id%64)
		if int(w) >= len(s.bits) {
			grown := make([]uint64, max(int(w)+1, 2*len(s.bits)))
			copy(grown, s.bits)
			s.bits = grown
		}
		if s.bits[w]&(1<<b) == 0 {
			s.bits[w] |= 1 << b
			s.n++
		}
		return
	}
	if s.sparse == nil {
		s.sparse = map[int64]struct{}{}
	}
	if _, ok := s.sparse[id]; !ok {
		s.sparse[id] = struct{}{}
		s.n++
	}
}

// netView holds the counters of one view (:all, :clients or :servers).
type netView struct {
	sends, recvs int
	ids          idSet
}

func (v *netView) add(e NetEvent) {
	if e.Recv {
		v.recvs++
	} else {
		v.sends++
	}
	v.ids.add(e.MsgID)
}

// stats returns the view's counts; ops > 0 gives it a :msgs-per-op.
func (v *netView) stats(ops int) NetView {
	return NetView{Sends: v.sends, Recvs: v.recvs, Msgs: v.ids.n, Ops: ops}
}

// NetView is one view of the :net statistics (:all, :clients or
// :servers).
type NetView struct {
	Sends, Recvs int // :send-count and :recv-count
	Msgs         int // :msg-count, distinct message ids
	// Ops is the number of client invocations :msgs-per-op divides by;
	// 0 when the view has no :msgs-per-op (:clients, or no operation).
	Ops int
}

// MsgsPerOp is :msgs-per-op, Msgs / Ops as the float32 Maelstrom
// prints; ok is false when the view has none.
func (v NetView) MsgsPerOp() (perOp float32, ok bool) {
	if v.Ops <= 0 {
		return 0, false
	}
	return float32(float64(v.Msgs) / float64(v.Ops)), true
}

// Map renders the view as Maelstrom prints it.
func (v NetView) Map() edn.Map {
	m := edn.K("send-count", v.Sends, "recv-count", v.Recvs, "msg-count", v.Msgs)
	if f, ok := v.MsgsPerOp(); ok {
		m = append(m, edn.Entry{Key: edn.Keyword("msgs-per-op"), Val: f})
	}
	return m
}

// NetStats is the :net checker's result as a typed value (see
// NetCounter.Result for its map).
type NetStats struct{ All, Clients, Servers NetView }

// Map renders the statistics as Maelstrom's :net map, always valid.
func (s NetStats) Map() edn.Map {
	return edn.K(
		"all", s.All.Map(),
		"clients", s.Clients.Map(),
		"servers", s.Servers.Map(),
		"valid?", true,
	)
}

// NetCounter computes the :net statistics incrementally, so a runner can
// feed journal events as they happen instead of keeping the journal in
// memory. The zero value is ready to use. It is not safe for concurrent
// use: callers that add from several goroutines must serialise Add.
type NetCounter struct {
	all, clients, servers netView
}

// Add counts one journal event in :all and in :clients (when the source or
// destination is a client) or :servers (otherwise; this includes traffic
// between nodes and services).
func (c *NetCounter) Add(e NetEvent) {
	c.all.add(e)
	if isClient(e.Src) || isClient(e.Dest) {
		c.clients.add(e)
	} else {
		c.servers.add(e)
	}
}

// Result returns the :net map for the events added so far:
//
//	{:all {:send-count s, :recv-count r, :msg-count m, :msgs-per-op x},
//	 :clients {:send-count s, :recv-count r, :msg-count m},
//	 :servers {:send-count s, :recv-count r, :msg-count m, :msgs-per-op y},
//	 :valid? true}
//
// :msg-count is the number of distinct message ids in the view.
// :msgs-per-op (a float32, like Maelstrom's) is msg-count divided by the
// number of client invocations in ops, and is present only in :all and
// :servers and only when there was at least one.
func (c *NetCounter) Result(ops []history.Op) edn.Map { return c.Stats(ops).Map() }

// Stats returns the statistics Result prints, as a typed value.
func (c *NetCounter) Stats(ops []history.Op) NetStats {
	opCount := 0
	for _, op := range ops {
		if op.IsClient() && op.Type == history.Invoke {
			opCount++
		}
	}
	return NetStats{All: c.all.stats(opCount), Clients: c.clients.stats(0), Servers: c.servers.stats(opCount)}
}

// Net computes the :net statistics of a whole journal; see NetCounter.
func Net(events []NetEvent, ops []history.Op) edn.Map {
	var c NetCounter
	for _, e := range events {
		c.Add(e)
	}
	return c.Result(ops)
}
