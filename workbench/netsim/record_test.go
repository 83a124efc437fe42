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
