package faulty

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/glomers/glomers/node"
)

// linKVFaults are the broken lin-kv nodes.
func linKVFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"stale-lin-kv": StaleLinKV,
	}
}

// staleFor is how long StaleLinKV answers a key's reads from its own
// copy before it asks lin-kv again.
const staleFor = 2 * time.Second

// staleCallTimeout bounds StaleLinKV's calls to lin-kv.
const staleCallTimeout = time.Second

// StaleLinKV is a lin-kv node that writes and compare-and-sets through
// the lin-kv service but answers reads from a copy of each key it keeps
// for staleFor: the value it last wrote, set or read there. Writes made
// through other nodes stay invisible to its reads until the copy
// expires, so a read can return a value that another node had already
// overwritten: not linearizable.
func StaleLinKV(n *node.Node) {
	kv := node.NewLinKV(n)
	type copyOf struct {
		value any
		at    time.Time
	}
	var mu sync.Mutex
	copies := map[string]copyOf{}
	remember := func(key, v any) {
		mu.Lock()
		copies[fmt.Sprint(key)] = copyOf{v, time.Now()}
		mu.Unlock()
	}
	call := func(do func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(n.Context(), staleCallTimeout)
		defer cancel()
		return do(ctx)
	}
	n.Handle("read", func(msg node.Message) error {
		var body struct {
			Key any `json:"key"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		mu.Lock()
		c, ok := copies[fmt.Sprint(body.Key)]
		mu.Unlock()
		if !ok || time.Since(c.at) >= staleFor {
			var v any
			err := call(func(ctx context.Context) (err error) {
				v, err = kv.Read(ctx, body.Key)
				return err
			})
			if err != nil {
				return err
			}
			remember(body.Key, v)
			c.value = v
		}
		return n.Reply(msg, map[string]any{"type": "read_ok", "value": c.value})
	})
	n.Handle("write", func(msg node.Message) error {
		var body struct {
			Key   any `json:"key"`
			Value any `json:"value"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		if err := call(func(ctx context.Context) error { return kv.Write(ctx, body.Key, body.Value) }); err != nil {
			return err
		}
		remember(body.Key, body.Value)
		return n.Reply(msg, map[string]any{"type": "write_ok"})
	})
	n.Handle("cas", func(msg node.Message) error {
		var body struct {
			Key  any `json:"key"`
			From any `json:"from"`
			To   any `json:"to"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		if err := call(func(ctx context.Context) error { return kv.CompareAndSwap(ctx, body.Key, body.From, body.To, false) }); err != nil {
			return err
		}
		remember(body.Key, body.To)
		return n.Reply(msg, map[string]any{"type": "cas_ok"})
	})
}
