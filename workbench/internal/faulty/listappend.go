package faulty

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/node"
)

// linKVPause is how long TxnLinKVPerKey waits between micro-operations,
// so that transactions interleave even when lin-kv answers at once.
const linKVPause = time.Millisecond

// linKVCallTimeout bounds each lin-kv request of TxnLinKVPerKey.
const linKVCallTimeout = 2 * time.Second

// TxnLinKVPerKey is a txn-list-append store on lin-kv without a
// transaction root: each key's list is its own lin-kv value, and nothing
// ties the keys of one transaction together. It is read-committed like a
// lock-based database at that level, and no more:
//
//   - a transaction first takes a lock (a lin-kv key, set by cas) on every
//     key it appends to, in key order, so there are no deadlocks;
//   - it runs its micro-operations in order, 1 ms apart: a read goes
//     straight to lin-kv and returns the committed list plus the
//     transaction's own appends; appends are buffered;
//   - then it appends, key by key, each key's buffered values with one
//     read-modify-cas of the key's list, and releases the locks.
//
// Nobody reads an intermediate or aborted append (a key gets all of one
// transaction's appends in one cas), and appends to a key happen in lock
// order, so neither G0 nor G1 can occur. But reads take no locks: a
// transaction that reads two keys can see another commit between the
// reads, or after them see lists that a transaction which finished
// before it began has already grown (G-single, G-single-realtime), which
// serializability forbids and read-committed allows.
func TxnLinKVPerKey(n *node.Node) {
	kv := node.NewLinKV(n)
	var tokens atomic.Int64
	n.Handle("txn", func(msg node.Message) error {
		txn, err := decodeTxn(msg)
		if err != nil {
			return err
		}
		keys := writtenKeys(txn)
		token := n.ID() + "/" + strconv.FormatInt(tokens.Add(1), 10)
		ctx := n.Context()
		var held []int64
		defer func() {
			for _, k := range held {
				if err := call(ctx, func(ctx context.Context) error { return kv.Write(ctx, lockKey(k), "") }); err != nil {
					n.Logf("faulty: release lock of %d: %v", k, err)
				}
			}
		}()
		for _, k := range keys {
			if err := lock(ctx, kv, k, token); err != nil {
				return err
			}
			held = append(held, k)
		}
		buffered := map[int64][]json.RawMessage{}
		for i := range txn {
			if i > 0 {
				time.Sleep(linKVPause)
			}
			k := txn[i].K
			if txn[i].F != "r" {
				buffered[k] = append(buffered[k], txn[i].V)
				continue
			}
			cur, err := readList(ctx, kv, k)
			if err != nil {
				return err
			}
			cur = append(cur, buffered[k]...)
			txn[i].V = nil
			if len(cur) > 0 {
				if txn[i].V, err = json.Marshal(cur); err != nil {
					return err
				}
			}
		}
		for _, k := range keys {
			if err := appendAll(ctx, kv, k, buffered[k]); err != nil {
				return err
			}
		}
		return replyTxn(n, msg, txn)
	})
}

func lockKey(k int64) string { return "lock-" + strconv.FormatInt(k, 10) }

// call runs one lin-kv request with a timeout.
func call(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, linKVCallTimeout)
	defer cancel()
	return f(ctx)
}

// lock takes key k's lock: a cas of its lock key from free ("", or
// missing) to token, retried while someone else holds it. A failure
// other than a lost race is returned as crash (13): the lock may or may
// not have been taken, and nothing was appended yet, but the caller
// cannot tell its client that nothing happened.
func lock(ctx context.Context, kv *node.KV, k int64, token string) error {
	for {
		err := call(ctx, func(ctx context.Context) error {
			return kv.CompareAndSwap(ctx, lockKey(k), "", token, true)
		})
		if err == nil {
			return nil
		}
		if !node.IsPreconditionFailed(err) {
			return node.Errorf(node.Crash, "lock key %d: %v", k, err)
		}
		time.Sleep(linKVPause)
	}
}

// readList reads key k's list (nil when it has none).
func readList(ctx context.Context, kv *node.KV, k int64) ([]json.RawMessage, error) {
	var cur []json.RawMessage
	err := call(ctx, func(ctx context.Context) error { return kv.ReadInto(ctx, k, &cur) })
	if node.IsKeyDoesNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, node.Errorf(node.Crash, "read key %d: %v", k, err)
	}
	return cur, nil
}

// appendAll appends vs to key k's list with a read-modify-cas (the lock
// makes the cas uncontended, but it is checked anyway).
func appendAll(ctx context.Context, kv *node.KV, k int64, vs []json.RawMessage) error {
	for {
		cur, err := readList(ctx, kv, k)
		if err != nil {
			return err
		}
		var from any // a missing list: create it
		if cur != nil {
			from = cur
		}
		next := append(slices.Clone(cur), vs...)
		err = call(ctx, func(ctx context.Context) error { return kv.CompareAndSwap(ctx, k, from, next, cur == nil) })
		if err == nil {
			return nil
		}
		if !node.IsPreconditionFailed(err) {
			return node.Errorf(node.Crash, "append to key %d: %v", k, err)
		}
	}
}
