package uniqueids

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
)

func TestGeneratorStridesByNodeIndex(t *testing.T) {
	ids := []string{"n0", "n1", "n2"}
	var g generator
	for _, want := range []int64{1, 4, 7} {
		got, err := g.id("n1", ids)
		if err != nil || got != want {
			t.Fatalf("id = %d, %v; want %d", got, err, want)
		}
	}
	var lost generator
	if _, err := lost.id("n9", ids); err == nil {
		t.Fatal("a node missing from node_ids got an id")
	}
}

// TestUniqueAcrossNodes runs three nodes over pipes and has many
// concurrent clients ask each of them for ids; every id must be distinct
// across the whole cluster, and every reply must fit the bench's schema.
func TestUniqueAcrossNodes(t *testing.T) {
	ids := []string{"n0", "n1", "n2"}
	conns := make([]*nodetest.Conn, len(ids))
	for i, id := range ids {
		n := node.New(node.WithLogOutput(io.Discard))
		Register(n)
		conns[i] = nodetest.Start(t, n)
		conns[i].Init(id, ids)
	}
	const clientsPerNode, perClient = 20, 60
	var (
		mu   sync.Mutex
		seen = map[int64]string{}
		wg   sync.WaitGroup
	)
	for i, c := range conns {
		for k := range clientsPerNode {
			wg.Go(func() {
				src := fmt.Sprintf("c%d", i*clientsPerNode+k+1)
				for range perClient {
					m, err := c.Call(t.Context(), src, map[string]string{"type": "generate"})
					if err != nil {
						t.Error(err)
						return
					}
					var body map[string]json.RawMessage
					if err := json.Unmarshal(m.Body, &body); err != nil || len(body) != 3 ||
						string(body["type"]) != `"generate_ok"` || body["in_reply_to"] == nil {
						t.Errorf("reply %s, want exactly type generate_ok, id and in_reply_to", m.Body)
						return
					}
					var id int64
					if err := json.Unmarshal(body["id"], &id); err != nil {
						t.Errorf("id %s is not an integer: %v", body["id"], err)
						return
					}
					mu.Lock()
					if prev, dup := seen[id]; dup {
						t.Errorf("id %d handed out by %s and again by %s", id, prev, m.Src)
					}
					seen[id] = m.Src
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if want := len(ids) * clientsPerNode * perClient; len(seen) != want {
		t.Errorf("%d distinct ids, want %d", len(seen), want)
	}
}
