package all

import (
	"math/rand/v2"
	"testing"

	"github.com/glomers/glomers/workbench/workload"
)

// Every workload Maelstrom knows is registered, and only kafka writes a
// file of its own (realtime-lag.png): an echo run, say, has none.
func TestRegistryAndFileWriters(t *testing.T) {
	for _, name := range workload.AllNames() {
		env := &workload.Env{Nodes: []string{"n0"}, Concurrency: 2, Rand: rand.New(rand.NewPCG(1, 1))}
		w, err := New(name, env)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, ok := w.(workload.FileWriter); ok != (name == "kafka") {
			t.Errorf("%s writes files of its own: %v", name, ok)
		}
	}
}
