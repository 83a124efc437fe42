// Command gcounter is challenge 4 as learners often write it: the counter
// is one key of seq-kv, incremented with a read and a compare-and-swap
// until the swap succeeds. A read first writes a fresh value to a key of
// its own, which brings this node's view of seq-kv up to date, so the
// final reads see every add.
package main

import (
	"context"
	"encoding/json"
	"log"
	"sync/atomic"
	"time"

	maelstrom "github.com/glomers/glomers/maelstrom"
)

const key = "counter"

func main() {
	n := maelstrom.NewNode()
	setup(n)
	if err := n.Run(); err != nil {
		log.Fatal(err)
	}
}

// setup registers the node's handlers.
func setup(n *maelstrom.Node) {
	kv := maelstrom.NewSeqKV(n)
	var syncs atomic.Int64

	n.Handle("add", func(msg maelstrom.Message) error {
		var body struct {
			Delta int `json:"delta"`
		}
		if err := json.Unmarshal(msg.Body, &body); err != nil {
			return err
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			v, err := kv.ReadInt(ctx, key)
			if err != nil && maelstrom.ErrorCode(err) != maelstrom.KeyDoesNotExist {
				cancel()
				continue
			}
			err = kv.CompareAndSwap(ctx, key, v, v+body.Delta, true)
			cancel()
			if err == nil {
				break
			}
		}
		return n.Reply(msg, map[string]any{"type": "add_ok"})
	})

	n.Handle("read", func(msg maelstrom.Message) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := kv.Write(ctx, "sync-"+n.ID(), syncs.Add(1)); err != nil {
			return err
		}
		v, err := kv.ReadInt(ctx, key)
		if err != nil && maelstrom.ErrorCode(err) != maelstrom.KeyDoesNotExist {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "read_ok", "value": v})
	})
}
