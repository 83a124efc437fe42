package faulty

import (
	"context"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// counterCallTimeout bounds BlindCounter's seq-kv calls.
const counterCallTimeout = time.Second

// addDelta decodes the delta of an add request.
func addDelta(msg node.Message) (int64, error) {
	var body struct {
		Delta *int64 `json:"delta"`
	}
	if err := msg.Unmarshal(&body); err != nil || body.Delta == nil {
		return 0, node.NewRPCError(node.MalformedRequest, "add needs an integer delta")
	}
	return *body.Delta, nil
}

// replyValue answers a counter read.
func replyValue(n *node.Node, msg node.Message, v int64) error {
	return n.Reply(msg, map[string]any{"type": "read_ok", "value": v})
}

// LocalCounter counts the adds it receives and never tells anyone: each
// node reads only its own share of the total.
func LocalCounter(n *node.Node) {
	var mu sync.Mutex
	var total int64
	n.Handle("add", func(msg node.Message) error {
		d, err := addDelta(msg)
		if err != nil {
			return err
		}
		mu.Lock()
		total += d
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "add_ok"})
	})
	n.Handle("read", func(msg node.Message) error {
		mu.Lock()
		defer mu.Unlock()
		return replyValue(n, msg, total)
	})
}

// BlindCounter keeps one shared total in seq-kv and adds by reading it
// and writing back the sum: no compare-and-swap, so concurrent adds on
// different nodes overwrite each other, and seq-kv's stale reads make a
// node add onto an old total even when nothing runs concurrently. Its
// reads are plain seq-kv reads, which may stay stale forever for a node
// that stops writing.
func BlindCounter(n *node.Node) {
	kv := node.NewSeqKV(n)
	const key = "blind-counter"
	read := func() (int64, error) {
		ctx, cancel := context.WithTimeout(n.Context(), counterCallTimeout)
		defer cancel()
		v, err := kv.ReadInt(ctx, key)
		if node.IsKeyDoesNotExist(err) {
			return 0, nil
		}
		return int64(v), err
	}
	n.Handle("add", func(msg node.Message) error {
		d, err := addDelta(msg)
		if err != nil {
			return err
		}
		cur, err := read()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(n.Context(), counterCallTimeout)
		defer cancel()
		if err := kv.Write(ctx, key, cur+d); err != nil {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "add_ok"})
	})
	n.Handle("read", func(msg node.Message) error {
		v, err := read()
		if err != nil {
			return err
		}
		return replyValue(n, msg, v)
	})
}
