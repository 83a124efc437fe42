package faulty

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// txnExplainFaults are the broken transactional stores added to test
// the explanations of txn anomalies.
func txnExplainFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"txn-register-read-committed": TxnReadCommittedRegister,
		"txn-register-snapshot":       TxnSnapshotRegister,
	}
}

// TxnReadCommittedRegister is a txn-rw-register store on one node that
// is read-committed and no more, the register twin of
// TxnReadCommittedAppend: a transaction locks every key it writes (in
// key order), buffers its writes and installs them all at once when it
// commits, so nobody reads an aborted or intermediate write; but its
// reads take no lock and return what is committed at that moment (or
// the transaction's own buffered write), 1 ms apart; a key read twice
// reads the same (reads are repeatable per key). A transaction can
// see another commit between two reads (read skew, G-single-item), and
// two transactions can each read a key the other then writes (write
// skew, G2-item): serializable forbids both, read-committed allows them.
func TxnReadCommittedRegister(n *node.Node) {
	var mu sync.Mutex
	data := map[int64]json.RawMessage{}
	locks := &keyLocks{}
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		defer locks.lock(writtenKeys(txn))()
		seen := map[int64]json.RawMessage{} // first reads
		buffered := runBuffered(txn, func(k int64) json.RawMessage {
			if v, ok := seen[k]; ok {
				return v
			}
			mu.Lock()
			defer mu.Unlock()
			seen[k] = data[k]
			return data[k]
		})
		mu.Lock()
		for k, v := range buffered {
			data[k] = v
		}
		mu.Unlock()
		return replyTxn(n, msg, txn)
	})
}

// snapshotVersion is one committed version of a key in
// TxnSnapshotRegister: the commit's sequence number and the value.
type snapshotVersion struct {
	seq int64
	v   json.RawMessage
}

// TxnSnapshotRegister is a txn-rw-register store on one node with
// snapshot isolation: a transaction reads the state committed when it
// began (plus its own writes), runs its micro-operations 1 ms apart,
// and commits its writes at once unless another transaction committed
// a write to one of its keys since it began (first committer wins; it
// then fails with txn-conflict). Nobody sees another transaction in
// part or in between its reads, so there is no read skew, but two
// transactions that each read what the other writes both commit: write
// skew (G2-item), which serializable forbids and snapshot isolation
// allows.
func TxnSnapshotRegister(n *node.Node) {
	var mu sync.Mutex
	var seq int64                             // the last commit's sequence number
	versions := map[int64][]snapshotVersion{} // key → committed versions, oldest first
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		mu.Lock()
		snap := seq
		mu.Unlock()
		buffered := runBuffered(txn, func(k int64) json.RawMessage {
			mu.Lock()
			defer mu.Unlock()
			vs := versions[k]
			for j := len(vs) - 1; j >= 0; j-- {
				if vs[j].seq <= snap {
					return vs[j].v
				}
			}
			return nil
		})
		if len(buffered) == 0 {
			return replyTxn(n, msg, txn)
		}
		mu.Lock()
		defer mu.Unlock()
		for k := range buffered {
			if vs := versions[k]; len(vs) > 0 && vs[len(vs)-1].seq > snap {
				return node.NewRPCError(node.TxnConflict, "a concurrent transaction wrote this key first")
			}
		}
		seq++
		for k, v := range buffered {
			versions[k] = append(versions[k], snapshotVersion{seq: seq, v: v})
		}
		return replyTxn(n, msg, txn)
	})
}

// runBuffered carries out a register transaction's micro-operations
// 1 ms apart: a write goes to a buffer, returned for the caller to
// commit; a read returns the transaction's own last write to the key,
// or else what read gives.
func runBuffered(txn []txnMop, read func(k int64) json.RawMessage) map[int64]json.RawMessage {
	buffered := map[int64]json.RawMessage{}
	for i := range txn {
		if i > 0 {
			time.Sleep(readCommittedPause)
		}
		k := txn[i].K
		if txn[i].F != "r" {
			buffered[k] = txn[i].V
			continue
		}
		if v, ok := buffered[k]; ok {
			txn[i].V = v
			continue
		}
		txn[i].V = read(k)
	}
	return buffered
}
