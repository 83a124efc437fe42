package txn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/txn"
)

// start runs a txn server in-process as id among ids.
func start(t *testing.T, opts txn.Options, id string, ids ...string) (*nodetest.Conn, *txn.Server) {
	t.Helper()
	n := node.New(node.WithLogOutput(t.Output()))
	s := txn.RegisterWith(n, opts)
	c := nodetest.Start(t, n)
	c.Init(id, ids)
	return c, s
}

// run sends a transaction, written as JSON, from client c1 and returns
// the reply's txn array as JSON; it fails the test on an error reply.
func run(t *testing.T, c *nodetest.Conn, ops string) string {
	t.Helper()
	got, err := try(c, "c1", ops)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// try is run without the test: usable from several goroutines.
func try(c *nodetest.Conn, client, ops string) (string, error) {
	m, err := c.Call(context.Background(), client, map[string]any{"type": "txn", "txn": json.RawMessage(ops)})
	if err != nil {
		return "", fmt.Errorf("txn %s: %w", ops, err)
	}
	if e := m.RPCError(); e != nil {
		return "", fmt.Errorf("txn %s: error reply %v", ops, e)
	}
	var body struct {
		Type string          `json:"type"`
		Txn  json.RawMessage `json:"txn"`
	}
	if err := m.Unmarshal(&body); err != nil || body.Type != "txn_ok" {
		return "", fmt.Errorf("txn %s: reply %s", ops, m.Body)
	}
	return string(body.Txn), nil
}

// quiet fails t if the node sends anything within d.
func quiet(t *testing.T, c *nodetest.Conn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.Recv(ctx); err == nil {
		t.Fatalf("sent %s to %s, want silence", m.Body, m.Dest)
	}
}

// syncMsg is a decoded node-to-node batch.
type syncMsg struct {
	dest   string
	lo, hi int64
	ack    int64
	urgent bool
	writes map[string]string // key → value (JSON)
	ts     map[string]int64  // key → timestamp
}

// recvSync waits up to wait for the node's next message, which must be a
// txn_sync.
func recvSync(t *testing.T, c *nodetest.Conn, wait time.Duration) syncMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("expected a txn_sync within %v: %v", wait, err)
	}
	var body struct {
		Type   string               `json:"type"`
		Lo     int64                `json:"lo"`
		Hi     int64                `json:"hi"`
		Ack    int64                `json:"ack"`
		Urgent bool                 `json:"urgent"`
		Writes [][3]json.RawMessage `json:"writes"`
	}
	if err := m.Unmarshal(&body); err != nil || body.Type != "txn_sync" {
		t.Fatalf("expected a txn_sync, got %s to %s", m.Body, m.Dest)
	}
	s := syncMsg{dest: m.Dest, lo: body.Lo, hi: body.Hi, ack: body.Ack, urgent: body.Urgent,
		writes: map[string]string{}, ts: map[string]int64{}}
	for _, w := range body.Writes {
		k := string(w[0])
		if _, dup := s.writes[k]; dup {
			t.Fatalf("batch %s carries key %s twice", m.Body, k)
		}
		s.writes[k] = string(w[1])
		var ts int64
		if err := json.Unmarshal(w[2], &ts); err != nil {
			t.Fatalf("batch %s: timestamp %s: %v", m.Body, w[2], err)
		}
		s.ts[k] = ts
	}
	return s
}

// send delivers a txn_sync from peer src.
func send(t *testing.T, c *nodetest.Conn, src string, body map[string]any) {
	t.Helper()
	body["type"] = "txn_sync"
	if err := c.Send(src, body); err != nil {
		t.Fatal(err)
	}
}

// A transaction's reads see the replica before it, overlaid with the
// transaction's own earlier writes; only its last write of each key
// reaches the replica. The reply echoes every micro-op in order with the
// reads filled in, and carries exactly type, in_reply_to and txn.
func TestReadYourWritesInsideATransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := start(t, txn.Options{}, "n0", "n0")
		got := run(t, c, `[["r",1,null],["w",1,6],["r",1,null],["w",2,9],["w",1,7],["r",1,null],["r",3,null]]`)
		if want := `[["r",1,null],["w",1,6],["r",1,6],["w",2,9],["w",1,7],["r",1,7],["r",3,null]]`; got != want {
			t.Fatalf("reply %s, want %s", got, want)
		}
		got = run(t, c, `[["r", 1, null], ["r",2,null], ["w", 3, 1], ["r", 3, null]]`)
		if want := `[["r",1,7],["r",2,9],["w",3,1],["r",3,1]]`; got != want {
			t.Fatalf("second reply %s, want %s", got, want)
		}
		want := map[string]json.RawMessage{"1": json.RawMessage("7"), "2": json.RawMessage("9"), "3": json.RawMessage("1")}
		if snap := s.Snapshot(); !reflect.DeepEqual(snap, want) {
			t.Fatalf("replica %s, want %s", snap, want)
		}
		m, err := c.Call(context.Background(), "c1", map[string]any{"type": "txn", "txn": [][]any{{"r", 1, nil}}})
		if err != nil {
			t.Fatal(err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(m.Body, &keys); err != nil {
			t.Fatal(err)
		}
		if ks := slices.Sorted(maps.Keys(keys)); !reflect.DeepEqual(ks, []string{"in_reply_to", "txn", "type"}) {
			t.Fatalf("reply keys %v, want in_reply_to, txn, type", ks)
		}
		quiet(t, c, time.Second) // a single node has nobody to talk to
	})
}

// Malformed transactions are refused with malformed-request (a definite
// error) and change nothing.
func TestMalformedTransactionsAreRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := start(t, txn.Options{}, "n0", "n0")
		for _, ops := range []string{`[]`, `null`, `[["w",1,5],["x",1,2]]`, `[["w",1,5],["r",1]]`, `[["w",1,5],"r"]`, `5`} {
			m, err := c.Call(context.Background(), "c1", map[string]any{"type": "txn", "txn": json.RawMessage(ops)})
			if err != nil {
				t.Fatal(err)
			}
			if e := m.RPCError(); e == nil || e.Code != node.MalformedRequest {
				t.Errorf("txn %s answered %s, want error %d", ops, m.Body, node.MalformedRequest)
			}
		}
		if snap := s.Snapshot(); len(snap) != 0 {
			t.Fatalf("refused transactions wrote %s", snap)
		}
	})
}

// Transactions are applied atomically: with many writers and readers at
// once, no reader sees part of a transaction (keys 1 and 2 are always
// written together) nor an intermediate write (the negative values are
// always overwritten within their transaction).
func TestTransactionsApplyAtomically(t *testing.T) {
	c, _ := start(t, txn.Options{}, "n0", "n0")
	const writers, readers, rounds = 4, 4, 200
	var wg gosync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				v := w*rounds + i + 1
				ops := fmt.Sprintf(`[["w",1,%d],["w",1,%d],["w",2,%d],["w",2,%d]]`, -v, v, -v, v)
				if _, err := try(c, fmt.Sprintf("c%d", w+1), ops); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for range rounds {
				got, err := try(c, fmt.Sprintf("c%d", writers+r+1), `[["r",1,null],["r",2,null]]`)
				if err != nil {
					errs <- err
					return
				}
				var ops [][]any
				_ = json.Unmarshal([]byte(got), &ops)
				a, b := ops[0][2], ops[1][2]
				if a != b {
					errs <- fmt.Errorf("read %s: keys 1 and 2 differ, a transaction was seen in part", got)
					return
				}
				if f, ok := a.(float64); ok && f < 0 {
					errs <- fmt.Errorf("read %s: an intermediate write was seen", got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Transactions that arrive within one flush interval go to the peer in
// one batch, which carries only the newest write of each key, each
// stamped with one timestamp per transaction; a transaction that only
// reads is not replicated at all.
func TestWritesAreBatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := txn.Options{FlushInterval: 50 * time.Millisecond}
		c, _ := start(t, opts, "n0", "n0", "n1")
		run(t, c, `[["r",1,null]]`)
		quiet(t, c, time.Second)
		run(t, c, `[["w",1,1]]`)
		first := recvSync(t, c, time.Millisecond) // the link was idle: at once
		if first.dest != "n1" || first.lo != 0 || first.hi != 1 || !maps.Equal(first.writes, map[string]string{"1": "1"}) {
			t.Fatalf("first batch %+v, want position 0 with 1=1 to n1", first)
		}
		t1 := time.Now()
		for i := 2; i <= 20; i++ {
			run(t, c, fmt.Sprintf(`[["w",1,%d],["w",%d,1],["r",1,null]]`, i, 100+i%3))
		}
		run(t, c, `[["w",7,1],["w",8,1]]`)
		run(t, c, `[["r",7,null]]`)
		b := recvSync(t, c, time.Second)
		if waited := time.Since(t1); waited != opts.FlushInterval {
			t.Errorf("second batch after %v, want the flush interval %v", waited, opts.FlushInterval)
		}
		want := map[string]string{"1": "20", "100": "1", "101": "1", "102": "1", "7": "1", "8": "1"}
		if b.lo != 1 || b.hi != 21 || !maps.Equal(b.writes, want) || b.urgent {
			t.Fatalf("second batch %+v, want positions [1, 21) with %v", b, want)
		}
		if b.ts["7"] != b.ts["8"] || b.ts["7"] <= b.ts["1"] || b.ts["1"] <= first.ts["1"] {
			t.Errorf("timestamps %v after %v: want one per transaction, increasing", b.ts, first.ts)
		}
		// n1 acknowledges both on its own batch; nothing more to send.
		send(t, c, "n1", map[string]any{"ack": 21})
		quiet(t, c, 5*time.Second)
	})
}

// A batch that is never acknowledged (lost to a partition) is sent
// again, with everything unacknowledged, marked urgent, after the
// retransmission timeout; while the peer stays silent no ordinary batches
// go out, only one retransmission per timeout. Once the peer
// acknowledges, the node sends nothing more.
func TestRetransmitsUntilAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := txn.Options{FlushInterval: 25 * time.Millisecond, RetransmitTimeout: 400 * time.Millisecond}
		c, _ := start(t, opts, "n0", "n0", "n1")
		t0 := time.Now()
		run(t, c, `[["w",1,1]]`)
		if b := recvSync(t, c, time.Millisecond); b.hi != 1 {
			t.Fatalf("first batch %+v", b)
		}
		time.Sleep(100 * time.Millisecond)
		run(t, c, `[["w",2,1]]`)
		if b := recvSync(t, c, time.Millisecond); b.lo != 1 || b.hi != 2 {
			t.Fatalf("second batch %+v, want [1, 2)", b)
		}
		// Both are lost. 400 ms after the first: everything again.
		r := recvSync(t, c, time.Second)
		if at := time.Since(t0); at != opts.RetransmitTimeout || !r.urgent || r.lo != 0 || r.hi != 2 ||
			!maps.Equal(r.writes, map[string]string{"1": "1", "2": "1"}) {
			t.Fatalf("retransmission %+v after %v, want urgent [0, 2) after %v", r, at, opts.RetransmitTimeout)
		}
		// New writes while the peer is silent wait for the next
		// retransmission, which carries them too.
		t1 := time.Now()
		run(t, c, `[["w",3,1]]`)
		run(t, c, `[["w",1,2]]`)
		r = recvSync(t, c, time.Second)
		if at := time.Since(t1); at != opts.RetransmitTimeout || !r.urgent || r.lo != 0 || r.hi != 4 ||
			!maps.Equal(r.writes, map[string]string{"1": "2", "2": "1", "3": "1"}) {
			t.Fatalf("second retransmission %+v after %v, want urgent [0, 4) after %v", r, at, opts.RetransmitTimeout)
		}
		// The partition heals: n1 acknowledges the retransmission at once.
		send(t, c, "n1", map[string]any{"ack": 4})
		quiet(t, c, 5*time.Second)
		// An ordinary batch goes out at once again.
		run(t, c, `[["w",5,1]]`)
		if b := recvSync(t, c, time.Millisecond); b.urgent || b.lo != 4 || b.hi != 5 {
			t.Fatalf("batch after the heal %+v, want [4, 5) at once", b)
		}
	})
}

// A peer's batch is merged last-writer-wins: the larger (timestamp,
// origin) wins, whatever the arrival order. The node acknowledges an
// ordinary batch within AckDelay and a retransmission at once, and
// counts positions that arrive past a gap only once the gap is filled.
func TestPeerBatchesMergeLastWriterWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := txn.Options{AckDelay: 100 * time.Millisecond}
		c, s := start(t, opts, "n1", "n0", "n1", "n2")
		run(t, c, `[["w",1,10],["w",2,10]]`) // stamped about now
		for range 2 {                        // one batch to each peer
			recvSync(t, c, time.Millisecond)
		}
		now := time.Now().UnixNano()
		t0 := time.Now()
		send(t, c, "n0", map[string]any{"lo": 0, "hi": 1, "ack": 1,
			"writes": [][]any{{1, 20, now + int64(time.Hour)}, {2, 20, now - int64(time.Hour)}, {3, 20, 5}}})
		got := run(t, c, `[["r",1,null],["r",2,null],["r",3,null]]`)
		if want := `[["r",1,20],["r",2,10],["r",3,20]]`; got != want {
			t.Fatalf("after n0's batch read %s, want %s", got, want)
		}
		a := recvSync(t, c, time.Second)
		if a.dest != "n0" || a.ack != 1 || len(a.writes) != 0 || time.Since(t0) != opts.AckDelay {
			t.Fatalf("acknowledgement %+v after %v, want ack 1 to n0 after %v", a, time.Since(t0), opts.AckDelay)
		}
		// Equal timestamps: the larger origin wins (n2 > n0).
		send(t, c, "n2", map[string]any{"lo": 0, "hi": 1, "ack": 1, "urgent": true,
			"writes": [][]any{{3, 30, 5}}})
		if a := recvSync(t, c, time.Millisecond); a.dest != "n2" || a.ack != 1 {
			t.Fatalf("urgent acknowledgement %+v, want ack 1 to n2 at once", a)
		}
		send(t, c, "n0", map[string]any{"lo": 1, "hi": 2, "writes": [][]any{{3, 40, 5}}})
		if got := run(t, c, `[["r",3,null]]`); got != `[["r",3,30]]` {
			t.Fatalf("read %s, want n2's 30 to beat n0's 40 at the same timestamp", got)
		}
		// Positions [3, 4) arrive before [2, 3): no acknowledgement past 2
		// until the gap fills.
		send(t, c, "n0", map[string]any{"lo": 3, "hi": 4, "urgent": true, "writes": [][]any{{4, 1, now + 2*int64(time.Hour)}}})
		if a := recvSync(t, c, time.Millisecond); a.dest != "n0" || a.ack != 2 {
			t.Fatalf("acknowledgement %+v with a gap, want 2", a)
		}
		send(t, c, "n0", map[string]any{"lo": 2, "hi": 3, "urgent": true, "writes": [][]any{{5, 1, 6}}})
		if a := recvSync(t, c, time.Millisecond); a.dest != "n0" || a.ack != 4 {
			t.Fatalf("acknowledgement %+v once the gap filled, want 4", a)
		}
		// A local write after seeing a far-future timestamp still wins:
		// the clock moved past it.
		run(t, c, `[["w",4,2]]`)
		if got := s.Snapshot()["4"]; string(got) != "2" {
			t.Fatalf("key 4 holds %s after a local write, want 2", got)
		}
		// Batches from strangers and malformed ones are dropped.
		send(t, c, "c9", map[string]any{"lo": 0, "hi": 1, "writes": [][]any{{9, 9, 9}}})
		send(t, c, "n0", map[string]any{"lo": 4, "hi": 5, "writes": [][]any{{9, 9, "x"}}})
		synctest.Wait()
		if _, ok := s.Snapshot()["9"]; ok {
			t.Fatal("a batch from a client or with a bad timestamp was merged")
		}
	})
}

// pair is two txn nodes wired to each other through a network the test
// controls: it can cut the link and count the messages.
type pair struct {
	conns   [2]*nodetest.Conn
	servers [2]*txn.Server
	mu      gosync.Mutex
	cut     bool
	sent    int
	cancel  context.CancelFunc
	wg      gosync.WaitGroup
}

func startPair(t *testing.T, opts txn.Options) *pair {
	p := &pair{}
	ids := []string{"n0", "n1"}
	for i := range 2 {
		p.conns[i], p.servers[i] = start(t, opts, ids[i], ids...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for i := range 2 {
		from, to := p.conns[i], p.conns[1-i]
		p.wg.Go(func() {
			for {
				m, err := from.Recv(ctx)
				if err != nil {
					return
				}
				p.mu.Lock()
				p.sent++
				cut := p.cut
				p.mu.Unlock()
				if !cut {
					_ = to.Send(m.Src, m.Body)
				}
			}
		})
	}
	return p
}

func (p *pair) stop() { p.cancel(); p.wg.Wait() }

func (p *pair) setCut(cut bool) {
	p.mu.Lock()
	p.cut = cut
	p.mu.Unlock()
}

// Two replicas running transactions converge to the same state, the last
// writer of every key by (timestamp, origin), after a partition that
// lasts until the last write: what it lost is retransmitted after the
// heal. Batching, and one retransmission per timeout while the peer is
// silent, keep the messages far below one per transaction.
func TestReplicasConvergeThroughAPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := startPair(t, txn.Options{})
		defer p.stop()
		var wg gosync.WaitGroup
		var txns [2]int
		for i := range 2 {
			wg.Go(func() {
				for j := range 3000 {
					if j == 1500 && i == 0 {
						p.setCut(true) // until every write is done
					}
					k := (j*7 + i*3) % 13
					v := 2*j + i + 1 // unique per key
					ops := fmt.Sprintf(`[["r",%d,null],["w",%d,%d],["r",%d,null]]`, k, k, v, (k+1)%13)
					if _, err := try(p.conns[i], fmt.Sprintf("c%d", i), ops); err != nil {
						t.Error(err)
						return
					}
					txns[i]++
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		p.setCut(false)
		healed := time.Now()
		// Within a retransmission timeout and a flush, the replicas agree.
		time.Sleep(DefaultSettle)
		a, b := p.servers[0].Snapshot(), p.servers[1].Snapshot()
		if !maps.EqualFunc(a, b, func(x, y json.RawMessage) bool { return string(x) == string(y) }) {
			t.Fatalf("replicas differ %v after the heal:\nn0 %s\nn1 %s", time.Since(healed), a, b)
		}
		if len(a) != 13 {
			t.Fatalf("replicas hold %d keys, want 13: %s", len(a), a)
		}
		p.mu.Lock()
		sent := p.sent
		p.mu.Unlock()
		if perTxn := float64(sent) / float64(txns[0]+txns[1]); perTxn > 0.1 {
			t.Errorf("%d node-to-node messages for %d transactions: %.3f per transaction, want ≤ 0.1", sent, txns[0]+txns[1], perTxn)
		}
		t.Logf("%d transactions, %d node-to-node messages", txns[0]+txns[1], sent)
	})
}

// DefaultSettle is how long after the last write two connected replicas
// surely agree: a retransmission timeout (for what a partition lost) plus
// a flush interval and an acknowledgement delay.
const DefaultSettle = txn.DefaultRetransmitTimeout + txn.DefaultFlushInterval + txn.DefaultAckDelay

// The replica is identical on both nodes whatever the order the writes
// of one key were made in on different nodes: the larger timestamp wins
// on both.
func TestConcurrentWritesConvergeToOneWinner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := startPair(t, txn.Options{})
		defer p.stop()
		p.setCut(true)
		run(t, p.conns[0], `[["w",1,1],["w",2,1]]`)
		time.Sleep(time.Millisecond)
		run(t, p.conns[1], `[["w",1,2]]`) // later: wins on key 1
		time.Sleep(time.Millisecond)
		run(t, p.conns[0], `[["w",3,1]]`)
		run(t, p.conns[1], `[["w",3,2]]`) // same wall time: origin n1 beats n0
		p.setCut(false)
		time.Sleep(DefaultSettle)
		want := map[string]string{"1": "2", "2": "1", "3": "2"}
		for i, s := range p.servers {
			got := map[string]string{}
			for k, v := range s.Snapshot() {
				got[k] = string(v)
			}
			if !maps.Equal(got, want) {
				t.Errorf("n%d holds %v, want %v", i, got, want)
			}
		}
	})
}
