package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// testEnv is an environment for generator tests, seeded.
func testEnv(seed uint64) *Env {
	return &Env{Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3, Rand: rand.New(rand.NewPCG(seed, 1))}
}

func newTestWorkload(t *testing.T, name string, seed uint64) Workload {
	t.Helper()
	w, err := builtin.New(name, testEnv(seed))
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return w
}

// draw takes n main-phase operations from w.
func draw(t *testing.T, w Workload, n int) []history.Op {
	t.Helper()
	ops := make([]history.Op, n)
	for i := range ops {
		op, ok := w.NextOp(i%3, i%3)
		if !ok {
			t.Fatalf("generator exhausted after %d ops", i)
		}
		ops[i] = op
	}
	return ops
}

// fakeNode answers every request with a canned reply (raw JSON) or an error
// and remembers what it was asked.
type fakeNode struct {
	reply string
	err   error
	got   []map[string]any
}

func (f *fakeNode) call(_ context.Context, body map[string]any, _ time.Duration) (netsim.Reply, error) {
	f.got = append(f.got, body)
	if f.err != nil {
		return netsim.Reply{}, f.err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(f.reply)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	return netsim.Reply{Body: m, Raw: json.RawMessage(f.reply)}, nil
}
