package netsim

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// TestRecordKeepsNothing floods the network with 200 MB of bodies while
// a Record hook counts them: every event reaches the hook in order, the
// network keeps none of them (Journal is nil), and the heap stays far
// below what the bodies add up to, so what the journal costs is up to
// whoever records it.
func TestRecordKeepsNothing(t *testing.T) {
	var sends, recvs int
	var lastID int64 = -1
	ordered := true
	n := mustNet(t, Config{Record: func(e Event) {
		if e.Recv {
			recvs++
			return
		}
		sends++
		if e.Msg.ID != lastID+1 {
			ordered = false
		}
		lastID = e.Msg.ID
	}})
	eps := mustRegister(t, n, "n0", "n1")
	body := json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)
	var peak uint64
	var ms runtime.MemStats
	const count = 200
	for i := range count {
		// A fresh copy each time, as a node's every line is.
		b := append(json.RawMessage(nil), body...)
		if _, err := n.Send("n0", "n1", b); err != nil {
			t.Fatal(err)
		}
		if _, err := eps[1].Recv(t.Context()); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if sends != count || recvs != count || !ordered {
		t.Errorf("Record saw %d sends and %d deliveries (ids in order: %v), want %d each", sends, recvs, ordered, count)
	}
	if j := n.Journal(); j != nil {
		t.Errorf("the network kept %d events although Record takes them", len(j))
	}
	if peak > 64<<20 {
		t.Errorf("heap in use reached %d MB while 200 MB of bodies went through", peak>>20)
	}
}

// TestMaxQueuedBoundsWaitingBytes floods an endpoint that does not read:
// once MaxQueued bytes wait, further messages are journalled as sent
// and lost, and counted; once the reader drains the queue, messages
// flow again.
func TestMaxQueuedBoundsWaitingBytes(t *testing.T) {
	sends, overflows := 0, 0
	n := mustNet(t, Config{MaxQueued: 1 << 20, Record: func(e Event) {
		switch {
		case e.Drop == DropOverflow:
			overflows++
		case !e.Recv && e.Drop == "":
			sends++
		}
	}})
	eps := mustRegister(t, n, "n0", "n1")
	body := json.RawMessage(`"` + strings.Repeat("x", 10_000) + `"`)
	for range 1000 {
		if _, err := n.Send("n0", "n1", body); err != nil {
			t.Fatal(err)
		}
	}
	waiting := eps[1].Pending()
	if waiting < 90 || waiting > 105 || n.Overflowed() != int64(1000-waiting) || sends != 1000 || overflows != 1000-waiting {
		t.Fatalf("%d waiting, %d lost, %d journalled, %d journalled as dropped; want about 100 of 10 kB in 1 MB, the rest lost, all journalled and the lost ones as dropped",
			waiting, n.Overflowed(), sends, overflows)
	}
	for range waiting {
		if _, err := eps[1].Recv(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Send("n0", "n1", body); err != nil || eps[1].Pending() != 1 {
		t.Errorf("after draining, a send is queued: %v, %d waiting", err, eps[1].Pending())
	}
	n.Close("n1")
	if q := n.queued.Load(); q != 0 {
		t.Errorf("%d bytes still counted as queued after the endpoint closed", q)
	}
}
