package txn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/txn"
)

// BenchmarkTxn measures a client transaction through a node running
// in-process, request to reply, on a node with one peer (so every
// writing transaction is also logged for replication; the peer's
// batches go nowhere). Transactions of four micro-operations, half reads,
// over 100 keys:
//
//	go test ./solutions/txn -bench Txn -run '^$' -benchtime 20000x
func BenchmarkTxn(b *testing.B) {
	n := node.New(node.WithLogOutput(discard{}))
	txn.Register(n)
	c := nodetest.Start(b, n)
	c.Init("n0", []string{"n0", "n1"})
	go func() { // drain the batches to n1
		for {
			if _, err := c.Recv(context.Background()); err != nil {
				return
			}
		}
	}()
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		k := i % 100
		ops := fmt.Sprintf(`[["r",%d,null],["w",%d,%d],["r",%d,null],["w",%d,%d]]`, k, k, i, (k+1)%100, (k+2)%100, i)
		m, err := c.Call(ctx, "c1", map[string]any{"type": "txn", "txn": json.RawMessage(ops)})
		if err != nil || m.Type() != "txn_ok" {
			b.Fatalf("txn: %s %v", m.Body, err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
