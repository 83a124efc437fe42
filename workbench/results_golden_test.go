package workbench_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
	"github.com/glomers/glomers/solutions/counter"
	"github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/solutions/kafka"
	"github.com/glomers/glomers/solutions/listappend"
	"github.com/glomers/glomers/solutions/txn"
	"github.com/glomers/glomers/solutions/uniqueids"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// updateGolden rewrites the files under testdata/golden from this run's
// results instead of comparing with them; GLOMERS_UPDATE_GOLDEN=1 does
// the same without the flag.
var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from this run's results.edn")

// goldenRun is one fixed-seed, virtual-time run whose results.edn is kept
// under testdata/golden/<name>.edn.
type goldenRun struct {
	name  string
	valid checker.Validity // the verdict the run must reach
	cfg   workbench.Config
}

func goldenRuns() []goldenRun {
	nodes := faulty.Nodes()
	return []goldenRun{
		{"echo", checker.Valid, workbench.Config{
			Workload: "echo", Node: workbench.InProcess(echo.Register),
			NodeIDs: workbench.NodeIDs(1), TimeLimit: 3 * time.Second, Rate: 10, Seed: 1,
		}},
		{"unique-ids", checker.Valid, workbench.Config{
			Workload: "unique-ids", Node: workbench.InProcess(uniqueids.Register),
			NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second, Rate: 50, Seed: 2,
			Availability: "total",
		}},
		{"broadcast-partition", checker.Valid, workbench.Config{
			Workload: "broadcast", Node: workbench.InProcess(func(n *node.Node) { broadcast.Register(n) }),
			NodeIDs: workbench.NodeIDs(5), TimeLimit: 4 * time.Second, Rate: 20, Seed: 3,
			Latency: 10 * time.Millisecond, Topology: "grid",
			Nemesis: []string{"partition"}, NemesisInterval: time.Second,
		}},
		{"g-counter", checker.Valid, workbench.Config{
			Workload: "g-counter", Node: workbench.InProcess(counter.Register),
			NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second, Rate: 20, Seed: 4,
		}},
		{"kafka", checker.Valid, workbench.Config{
			Workload: "kafka", Node: workbench.InProcess(kafka.Register),
			NodeIDs: workbench.NodeIDs(1), Concurrency: 2, TimeLimit: 3 * time.Second, Rate: 50, Seed: 5,
		}},
		{"txn-rw-register", checker.Valid, workbench.Config{
			Workload: "txn-rw-register", Node: workbench.InProcess(func(n *node.Node) { txn.Register(n) }),
			NodeIDs: workbench.NodeIDs(1), TimeLimit: 3 * time.Second, Rate: 20, Seed: 6,
			ConsistencyModels: []string{"read-committed"}, Availability: "total",
		}},
		{"lin-kv", checker.Valid, workbench.Config{
			Workload: "lin-kv", Node: workbench.InProcess(kvProxy("lin-kv")),
			NodeIDs: workbench.NodeIDs(2), Concurrency: 4, TimeLimit: 3 * time.Second, Rate: 20, Seed: 7,
		}},
		{"txn-list-append", checker.Valid, workbench.Config{
			Workload: "txn-list-append", Node: workbench.InProcess(listappend.Register),
			NodeIDs: workbench.NodeIDs(2), TimeLimit: 3 * time.Second, Rate: 20, Seed: 8,
			ConsistencyModels: []string{"strict-serializable"},
		}},
		{"invalid-mangled-echo", checker.Invalid, workbench.Config{
			Workload: "echo", Node: workbench.InProcess(nodes["mangled-echo"]),
			NodeIDs: workbench.NodeIDs(1), TimeLimit: 3 * time.Second, Rate: 10, Seed: 9,
		}},
		{"invalid-colliding-ids", checker.Invalid, workbench.Config{
			Workload: "unique-ids", Node: workbench.InProcess(nodes["colliding-ids"]),
			NodeIDs: workbench.NodeIDs(3), TimeLimit: 3 * time.Second, Rate: 50, Seed: 10,
		}},
	}
}

// TestResultsGolden runs several workloads with fixed seeds in virtual
// time and compares each run's results.edn, as written to the store,
// byte for byte with testdata/golden: Maelstrom's results map must not
// change in content, order or layout when the code that builds it does.
// Run with -update (or GLOMERS_UPDATE_GOLDEN=1) to rewrite the files
// after a change that is meant to alter them.
//
// A run is the same for the same seed only where no two goroutines act
// at one virtual instant in a way that changes what is recorded: the
// seed fixes the generator's, the nemesis's and the network's choices,
// but the Go scheduler orders what happens at one instant. So the runs
// here avoid what makes results vary from run to run (each varied in
// :net counts, :stats or the order of final reads when tried): nodes
// with periodic timers that race the end of the test (multi-node kafka
// and txn, Raft), and several nodes' final reads completing at once
// (checked by faulty counters and broadcasts). lin-kv runs a proxy to
// the bench's own lin-kv service (kvProxy) for that reason.
func TestResultsGolden(t *testing.T) {
	update := *updateGolden || os.Getenv("GLOMERS_UPDATE_GOLDEN") == "1"
	for _, g := range goldenRuns() {
		t.Run(g.name, func(t *testing.T) {
			cfg := g.cfg
			cfg.StoreRoot = t.TempDir()
			res := workbenchtest.Run(t, cfg)
			if res.Valid != g.valid {
				t.Errorf("verdict %v, want %v", res.Valid, g.valid)
			}
			checkSummary(t, res)
			got, err := os.ReadFile(filepath.Join(res.Dir, "results.edn"))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", "golden", g.name+".edn")
			if update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("results.edn differs from %s:\n%s", file, firstDifference(want, got))
			}
		})
	}
}

// firstDifference shows the lines around where want and got first differ.
func firstDifference(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) || i >= len(wl) || i >= len(gl) {
			return "line " + strconv.Itoa(i+1) + ":\nwant " + string(w) + "\ngot  " + string(g)
		}
	}
	return "(no line differs)"
}
