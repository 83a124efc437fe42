package faulty

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// txnFaults are the broken transactional stores (txn-rw-register and
// txn-list-append).
func txnFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"txn-dirty-abort":           TxnDirtyAbort,
		"txn-intermediate":          TxnIntermediate,
		"txn-lost-update":           TxnLostUpdate,
		"txn-append-read-committed": TxnReadCommittedAppend,
		"txn-append-lin-kv-per-key": TxnLinKVPerKey,
	}
}

// txnMop is one micro-operation [f, k, v] of a txn request. V stays raw:
// null for reads, an integer for writes and appends.
type txnMop struct {
	F string
	K int64
	V json.RawMessage
}

func (m *txnMop) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 3 {
		return fmt.Errorf("micro-operation %s is not a list [f k v]", b)
	}
	if err := json.Unmarshal(raw[0], &m.F); err != nil {
		return fmt.Errorf("micro-operation %s: f is not a string", b)
	}
	if err := json.Unmarshal(raw[1], &m.K); err != nil {
		return fmt.Errorf("micro-operation %s: the key is not an integer", b)
	}
	m.V = raw[2]
	return nil
}

func (m txnMop) MarshalJSON() ([]byte, error) {
	v := m.V
	if len(v) == 0 {
		v = json.RawMessage("null")
	}
	return json.Marshal([]any{m.F, m.K, v})
}

// writtenKeys lists the keys a transaction writes or appends to, each
// once, in ascending order: the order a store that locks them must take
// their locks in to avoid deadlocks.
func writtenKeys(txn []txnMop) []int64 {
	var keys []int64
	for _, m := range txn {
		if m.F != "r" && !slices.Contains(keys, m.K) {
			keys = append(keys, m.K)
		}
	}
	slices.Sort(keys)
	return keys
}

// decodeTxn reads the micro-operations of a txn request.
func decodeTxn(msg node.Message) ([]txnMop, error) {
	var body struct {
		Txn []txnMop `json:"txn"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return nil, node.NewRPCError(node.MalformedRequest, err.Error())
	}
	return body.Txn, nil
}

func replyTxn(n *node.Node, msg node.Message, txn []txnMop) error {
	return n.Reply(msg, map[string]any{"type": "txn_ok", "txn": txn})
}

// registers is a map of integer registers; the zero value is empty.
type registers struct {
	mu   sync.Mutex
	data map[int64]json.RawMessage
}

// do runs one micro-operation with mu held: a read fills in the value
// (null when absent), a write stores it.
func (r *registers) do(m *txnMop) {
	if r.data == nil {
		r.data = map[int64]json.RawMessage{}
	}
	if m.F == "r" {
		m.V = r.data[m.K]
		return
	}
	r.data[m.K] = m.V
}

// dirtyAbortEvery is how often TxnDirtyAbort aborts a writing transaction.
const dirtyAbortEvery = 4

// dirtyAbortDelay is how long TxnDirtyAbort leaves an aborted
// transaction's writes in place before rolling them back.
const dirtyAbortDelay = 10 * time.Millisecond

// TxnDirtyAbort applies each transaction at once to one map per node, but
// aborts every fourth transaction that writes (txn-conflict, code 30)
// only after leaving its writes in place for 10 ms, then rolls them back.
// Transactions in between read values of a transaction that failed:
// G1a, which read-committed forbids and read-uncommitted allows.
func TxnDirtyAbort(n *node.Node) {
	var st registers
	var mu sync.Mutex
	writers := 0
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		before := map[int64]json.RawMessage{}
		after := map[int64]json.RawMessage{}
		st.mu.Lock()
		for i := range txn {
			if txn[i].F != "r" {
				if _, ok := before[txn[i].K]; !ok {
					before[txn[i].K] = st.data[txn[i].K]
				}
				after[txn[i].K] = txn[i].V
			}
			st.do(&txn[i])
		}
		st.mu.Unlock()
		if len(after) == 0 {
			return replyTxn(n, msg, txn)
		}
		mu.Lock()
		writers++
		abort := writers%dirtyAbortEvery == 0
		mu.Unlock()
		if !abort {
			return replyTxn(n, msg, txn)
		}
		time.Sleep(dirtyAbortDelay)
		st.mu.Lock()
		for k, v := range after {
			if string(st.data[k]) == string(v) { // not overwritten since
				if before[k] == nil {
					delete(st.data, k)
				} else {
					st.data[k] = before[k]
				}
			}
		}
		st.mu.Unlock()
		return node.NewRPCError(node.TxnConflict, "aborted after the fact")
	})
}

// intermediatePause is how long TxnIntermediate leaves an intermediate
// write visible.
const intermediatePause = 5 * time.Millisecond

// TxnIntermediate runs micro-operations one at a time on one map per
// node, and after a write that the transaction will overwrite (its
// second write to a key comes later) it pauses 5 ms with nothing locked.
// Other transactions read the intermediate value: G1b, forbidden by
// read-committed.
func TxnIntermediate(n *node.Node) {
	var st registers
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		last := map[int64]int{}
		for i, m := range txn {
			if m.F != "r" {
				last[m.K] = i
			}
		}
		for i := range txn {
			st.mu.Lock()
			st.do(&txn[i])
			st.mu.Unlock()
			if txn[i].F != "r" && last[txn[i].K] != i {
				time.Sleep(intermediatePause)
			}
		}
		return replyTxn(n, msg, txn)
	})
}

// lostUpdateFlush is how often TxnLostUpdate ships its writes to peers.
const lostUpdateFlush = 50 * time.Millisecond

// TxnLostUpdate is totally available and replicates: each node applies a
// transaction atomically to its own map and answers at once, and every
// 50 ms sends the final writes of the transactions it ran to every peer
// (fire and forget), which overwrite their copies with them. Two nodes
// that read the same value of a key and both write it each acknowledge
// their update, and one of them is lost when the writes cross: the
// :lost-update anomaly, which strict-serializable (Maelstrom's default)
// forbids and read-committed allows. Every transaction reads and writes
// atomically, so it is read-committed; writes lost to a partition are
// never resent.
func TxnLostUpdate(n *node.Node) {
	var st registers
	var pending []txnMop // final writes not yet shipped; guarded by st.mu
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		final := map[int64]int{}
		st.mu.Lock()
		for i := range txn {
			st.do(&txn[i])
			if txn[i].F != "r" {
				final[txn[i].K] = i
			}
		}
		for i, m := range txn {
			if m.F != "r" && final[m.K] == i {
				pending = append(pending, m)
			}
		}
		st.mu.Unlock()
		return replyTxn(n, msg, txn)
	})
	n.Handle("replicate", func(msg node.Message) error {
		var body struct {
			Writes []txnMop `json:"writes"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		st.mu.Lock()
		for i := range body.Writes {
			st.do(&body.Writes[i])
		}
		st.mu.Unlock()
		return nil
	})
	n.Every(lostUpdateFlush, func(context.Context) {
		st.mu.Lock()
		batch := pending
		pending = nil
		st.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, p := range n.NodeIDs() {
			if p != n.ID() {
				_ = n.Send(p, map[string]any{"type": "replicate", "writes": batch})
			}
		}
	})
}

// readCommittedPause is how long TxnReadCommittedAppend waits between
// micro-operations, so that transactions interleave.
const readCommittedPause = time.Millisecond

// keyLocks are per-key write locks taken in key order (so there are no
// deadlocks). Each is a one-slot channel: a goroutine waiting on one is
// durably blocked, so virtual time still moves.
type keyLocks struct {
	mu    sync.Mutex
	locks map[int64]chan struct{}
}

// lock takes the locks of keys, sorted, and returns what releases them.
func (l *keyLocks) lock(keys []int64) (unlock func()) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[int64]chan struct{}{}
	}
	held := make([]chan struct{}, len(keys))
	for i, k := range keys {
		if l.locks[k] == nil {
			l.locks[k] = make(chan struct{}, 1)
		}
		held[i] = l.locks[k]
	}
	l.mu.Unlock()
	for _, c := range held {
		c <- struct{}{}
	}
	return func() {
		for _, c := range held {
			<-c
		}
	}
}

// TxnReadCommittedAppend is a txn-list-append store on one node that is
// read-committed and no more, like a lock-based database at that level:
// a transaction first locks every key it will append to (in key order,
// so there are no deadlocks), buffers its appends and applies them all at
// once when it commits, so nobody reads uncommitted or partial writes and
// appends to a key happen in commit order. But reads take no locks: each
// returns the list committed at that moment, plus the transaction's own
// appends, with a 1 ms pause between micro-operations. A transaction
// that reads two keys can see another commit between the reads (read
// skew, G-single): serializable forbids that, read-committed allows it.
func TxnReadCommittedAppend(n *node.Node) {
	var mu sync.Mutex
	lists := map[int64][]json.RawMessage{}
	locks := &keyLocks{}
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		defer locks.lock(writtenKeys(txn))()
		buffered := map[int64][]json.RawMessage{}
		for i := range txn {
			if i > 0 {
				time.Sleep(readCommittedPause)
			}
			k := txn[i].K
			if txn[i].F != "r" {
				buffered[k] = append(buffered[k], txn[i].V)
				continue
			}
			mu.Lock()
			cur := append([]json.RawMessage(nil), lists[k]...)
			mu.Unlock()
			cur = append(cur, buffered[k]...)
			txn[i].V = nil
			if len(cur) > 0 {
				b, err := json.Marshal(cur)
				if err != nil {
					return err
				}
				txn[i].V = b
			}
		}
		mu.Lock()
		for k, vs := range buffered {
			lists[k] = append(lists[k], vs...)
		}
		mu.Unlock()
		return replyTxn(n, msg, txn)
	})
}
