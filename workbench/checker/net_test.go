package checker

import (
	"fmt"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/history"
)

func send(id int64, src, dest string) NetEvent { return NetEvent{MsgID: id, Src: src, Dest: dest} }
func recv(id int64, src, dest string) NetEvent {
	return NetEvent{Recv: true, MsgID: id, Src: src, Dest: dest}
}

func TestNetViews(t *testing.T) {
	events := []NetEvent{
		// client traffic: init and init_ok
		send(0, "c0", "n0"), recv(0, "c0", "n0"),
		send(1, "n0", "c0"), recv(1, "n0", "c0"),
		// server to server: one delivered twice, one dropped by a partition
		send(2, "n0", "n1"), recv(2, "n0", "n1"), recv(2, "n0", "n1"),
		send(3, "n1", "n0"),
		// server to service counts as :servers
		send(4, "n0", "lin-kv"), recv(4, "n0", "lin-kv"),
		send(5, "lin-kv", "n0"), recv(5, "lin-kv", "n0"),
	}
	// Three client invocations; the nemesis invocation does not count.
	b := newBuilder().
		Inv(0, "read", nil).OK(0, "read", nil).
		Add(history.Invoke, history.NemesisProcess, "start-partition", nil).
		Inv(1, "read", nil).Inv(2, "read", nil)
	// all: 6 sends, 6 recvs, 6 ids → 6/3 = 2; servers: 4 ids → 4/3 as float32.
	want := "{:all {:send-count 6, :recv-count 6, :msg-count 6, :msgs-per-op 2.0}, " +
		":clients {:send-count 2, :recv-count 2, :msg-count 2}, " +
		":servers {:send-count 4, :recv-count 4, :msg-count 4, :msgs-per-op 1.3333334}, " +
		":valid? true}"
	checkertest.Expect(t, Net(events, b.Ops), want)

	var c NetCounter
	for _, e := range events {
		c.Add(e)
	}
	checkertest.Expect(t, c.Result(b.Ops), want)

	// The typed statistics hold what the map prints.
	st := c.Stats(b.Ops)
	if f, ok := st.Servers.MsgsPerOp(); !ok || f != float32(4.0/3) || st.Servers.Msgs != 4 {
		t.Errorf("servers %+v: msgs-per-op %v %v", st.Servers, f, ok)
	}
	if _, ok := st.Clients.MsgsPerOp(); ok {
		t.Error(":clients has a msgs-per-op")
	}
}

func TestNetEchoExample(t *testing.T) {
	// Maelstrom's net/checker.clj: one node, 12 echo ops: 12 requests, 12 replies, init, init_ok.
	var events []NetEvent
	var id int64
	pair := func(src, dest string) {
		events = append(events, send(id, src, dest), recv(id, src, dest))
		id++
	}
	pair("c0", "n0")
	pair("n0", "c0")
	b := newBuilder()
	for i := range 12 {
		client := fmt.Sprintf("c%d", i+1)
		pair(client, "n0")
		pair("n0", client)
		b.Inv(0, "echo", i).OK(0, "echo", i)
	}
	checkertest.Expect(t, Net(events, b.Ops), "{:all {:send-count 26, :recv-count 26, :msg-count 26, :msgs-per-op 2.1666667}, "+
		":clients {:send-count 26, :recv-count 26, :msg-count 26}, "+
		":servers {:send-count 0, :recv-count 0, :msg-count 0, :msgs-per-op 0.0}, :valid? true}")
}

func TestNetWithoutOperationsHasNoMsgsPerOp(t *testing.T) {
	events := []NetEvent{send(0, "n0", "n1"), recv(0, "n0", "n1")}
	checkertest.Expect(t, Net(events, newBuilder().Nemesis("x").Ops), "{:all {:send-count 1, :recv-count 1, :msg-count 1}, "+
		":clients {:send-count 0, :recv-count 0, :msg-count 0}, "+
		":servers {:send-count 1, :recv-count 1, :msg-count 1}, :valid? true}")
}

func TestIDSetCountsDistinctDenseAndSparse(t *testing.T) {
	var s idSet
	for _, id := range []int64{0, 63, 64, 5000, 0, 64, -1, -1, 1 << 40, 1 << 40, denseIDs, denseIDs - 1} {
		s.add(id)
	}
	// distinct: 0, 63, 64, 5000, -1, 1<<40, denseIDs, denseIDs-1
	if s.n != 8 {
		t.Errorf("distinct ids = %d, want 8", s.n)
	}
}
