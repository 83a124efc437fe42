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

// edn renders the view; opCount > 0 adds :msgs-per-op.
func (v *netView) edn(opCount int) edn.Map {
	m := edn.K("send-count", v.sends, "recv-count", v.recvs, "msg-count", v.ids.n)
	if opCount > 0 {
		m = append(m, edn.Entry{Key: edn.Keyword("msgs-per-op"), Val: float32(float64(v.ids.n) / float64(opCount))})
	}
	return m
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
func (c *NetCounter) Result(ops []history.Op) edn.Map {
	opCount := 0
	for _, op := range ops {
		if op.IsClient() && op.Type == history.Invoke {
			opCount++
		}
	}
	return edn.K(
		"all", c.all.edn(opCount),
		"clients", c.clients.edn(0),
		"servers", c.servers.edn(opCount),
		"valid?", true,
	)
}

// Net computes the :net statistics of a whole journal; see NetCounter.
func Net(events []NetEvent, ops []history.Op) edn.Map {
	var c NetCounter
	for _, e := range events {
		c.Add(e)
	}
	return c.Result(ops)
}
