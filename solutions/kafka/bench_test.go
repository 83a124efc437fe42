package kafka_test

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkFinalPoll measures a final-phase poll: every key of a 5c-sized
// run (1,200 keys of 16 messages) from offset 0, on a single node,
// through the node's JSON input and output.
func BenchmarkFinalPoll(b *testing.B) {
	c := start(b, "n0", []string{"n0"})
	offsets := map[string]any{}
	for k := range 1200 {
		key := strconv.Itoa(k)
		offsets[key] = 0
		for m := 1; m <= 16; m++ {
			if _, err := c.Call(context.Background(), "c1", map[string]any{"type": "send", "key": key, "msg": m}); err != nil {
				b.Fatal(err)
			}
		}
	}
	req := map[string]any{"type": "poll", "offsets": offsets}
	b.ResetTimer()
	for b.Loop() {
		m, err := c.Call(context.Background(), "c1", req)
		if err != nil || m.RPCError() != nil {
			b.Fatal(err, m.RPCError())
		}
	}
}
