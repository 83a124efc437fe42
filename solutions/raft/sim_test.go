package raft_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/glomers/glomers/solutions/raft"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workbenchtest"
	"github.com/glomers/glomers/workbench/workload/linkv"
)

// figures are the numbers a lin-kv run is judged by.
type figures struct {
	valid      checker.Validity
	okFraction float64 // :ok client completions / client completions, as Maelstrom's :availability counts
	served     float64 // completions :ok or refused for the data's sake (20, 22) / client completions
	ok, fail   int     // client completions :ok and :fail
	refused    int     // :fail completions with errors 20 or 22: the service worked
	info       int     // client completions :info (indefinite)
	servers    float64 // :net :servers :msgs-per-op
	p50, p99   float64 // latency of :ok operations, ms
	failP99    float64 // latency of :fail operations (how fast refusals come), ms
}

func (f figures) String() string {
	return fmt.Sprintf("valid=%v served=%.4f ok-fraction=%.4f ok=%d fail=%d (20/22: %d) info=%d servers-msgs-per-op=%.2f ok-latency p50=%.1fms p99=%.1fms other-fail-latency p99=%.1fms",
		f.valid, f.served, f.okFraction, f.ok, f.fail, f.refused, f.info, f.servers, f.p50, f.p99, f.failP99)
}

// run runs lin-kv with 5 nodes, --concurrency 10 --rate 50, in virtual
// time.
func run(t *testing.T, seed uint64, limit time.Duration, nemesis ...string) (*workbench.Result, figures) {
	t.Helper()
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "lin-kv", Node: workbench.InProcess(raft.Register),
		NodeIDs: workbench.NodeIDs(5), Concurrency: 10, Rate: 50, TimeLimit: limit,
		Nemesis: nemesis, Seed: seed,
	})
	return res, figuresOf(t, res)
}

func figuresOf(t *testing.T, res *workbench.Result) figures {
	t.Helper()
	f := figures{valid: res.Valid}
	switch v := workbenchtest.Get(t, res, "net", "servers", "msgs-per-op").(type) {
	case float64:
		f.servers = v
	case float32:
		f.servers = float64(v)
	case int64:
		f.servers = float64(v)
	default:
		t.Fatalf(":msgs-per-op is %T %v", v, v)
	}
	invoked := map[int]history.Op{}
	var oks, fails []float64
	for _, op := range res.History {
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			invoked[op.Process] = op
			continue
		}
		inv, ok := invoked[op.Process]
		if !ok {
			continue
		}
		delete(invoked, op.Process)
		ms := float64(op.Time-inv.Time) / 1e6
		switch op.Type {
		case history.OK:
			f.ok++
			oks = append(oks, ms)
		case history.Fail:
			f.fail++
			if linkv.RefusedForTheData(op) {
				f.refused++
			} else {
				fails = append(fails, ms)
			}
		default:
			f.info++
		}
	}
	if n := f.ok + f.fail + f.info; n > 0 {
		f.okFraction = float64(f.ok) / float64(n)
		f.served = float64(f.ok+f.refused) / float64(n)
	}
	slices.Sort(oks)
	slices.Sort(fails)
	if len(oks) > 0 {
		f.p50, f.p99 = checker.Quantile(oks, 0.5), checker.Quantile(oks, 0.99)
	}
	if len(fails) > 0 {
		f.failP99 = checker.Quantile(fails, 0.99)
	}
	return f
}

// nemesisOps counts the completed nemesis operations f in the history.
func nemesisOps(res *workbench.Result, f string) int {
	n := 0
	for _, op := range res.History {
		if !op.IsClient() && op.F == f && op.Type != history.Invoke {
			n++
		}
	}
	return n
}

// TestNoFaults: valid, and at least 99 % of the operations served: :ok,
// or refused for the data's sake (a cas whose key is missing or holds
// another value, a read of a missing key). Those refusals are :fail in
// Maelstrom's :ok-fraction, which no lin-kv service can lift near 0.99:
// most cas ask for a value the key does not hold.
func TestNoFaults(t *testing.T) {
	for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_RAFT_SEEDS", 5, 1)) {
		t.Run(fmt.Sprintf("seed=%d", seed+1), func(t *testing.T) {
			res, f := run(t, seed+1, 20*time.Second)
			t.Log(f)
			if f.valid != checker.Valid {
				t.Errorf("invalid: %v", workbenchtest.Get(t, res, "workload"))
			}
			if f.served < 0.99 {
				t.Errorf("%.4f served, want ≥ 0.99", f.served)
			}
		})
	}
}

// TestPartitions: valid under Maelstrom's partition nemesis over 20
// seeds, with at least 75 % of the operations served (the minority
// side's share of the time bounds it near 0.8).
func TestPartitions(t *testing.T) {
	for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_RAFT_SEEDS", 20, 1)) {
		t.Run(fmt.Sprintf("seed=%d", seed+1), func(t *testing.T) {
			res, f := run(t, seed+1, 20*time.Second, "partition")
			t.Log(f)
			if f.valid != checker.Valid {
				t.Errorf("invalid: %v", workbenchtest.Get(t, res, "workload"))
			}
			if f.served < 0.75 {
				t.Errorf("%.4f served, want ≥ 0.75", f.served)
			}
		})
	}
}

// TestPauses: valid under the pause nemesis (a node stops, its messages
// queue, then it resumes) over 20 seeds.
func TestPauses(t *testing.T) { requireValidUnder(t, "pause") }

// requireValidUnder runs 20 seeds under one nemesis fault, each of which
// must really happen, and requires every run to be valid.
func requireValidUnder(t *testing.T, fault string) {
	for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_RAFT_SEEDS", 20, 1)) {
		t.Run(fmt.Sprintf("seed=%d", seed+1), func(t *testing.T) {
			res, f := run(t, seed+1, 20*time.Second, fault)
			t.Log(f)
			if nemesisOps(res, fault) == 0 {
				t.Errorf("no %s happened", fault)
			}
			if f.valid != checker.Valid {
				t.Errorf("invalid: %v", workbenchtest.Get(t, res, "workload"))
			}
		})
	}
}

// TestKills: under the kill nemesis (a node restarts with empty memory,
// one at a time) every acknowledged write survives: the history stays
// linearizable. Availability is what the package documentation says it
// costs: each restarted node loses its vote, so once three of the five
// have restarted nothing commits any more; the figures are logged.
func TestKills(t *testing.T) { requireValidUnder(t, "kill") }

// TestAllFaults: linearizable under partitions, pauses and kills
// together. Only the workload's verdict is required: some schedules
// leave fewer than three voters able to talk for the whole run (seed 9
// isolates two nodes at once, then pauses one of the other three and
// kills another), so nothing can commit, and the stats checker calls a
// run where some operation never succeeded invalid.
func TestAllFaults(t *testing.T) {
	for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_RAFT_SEEDS", 10, 1)) {
		t.Run(fmt.Sprintf("seed=%d", seed+1), func(t *testing.T) {
			res, f := run(t, seed+1, 20*time.Second, "partition", "kill", "pause")
			t.Log(f)
			w, _ := workbenchtest.Get(t, res, "workload").(edn.Map)
			if checker.ValidityOf(w) != checker.Valid {
				t.Errorf("not linearizable: %v", w)
			}
		})
	}
}

// TestRealProcesses builds cmd/lin-kv and runs it as real processes for
// 5 s under partitions (GLOMERS_RAFT_REAL=60s for the full length).
func TestRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	limit := 5 * time.Second
	if v := os.Getenv("GLOMERS_RAFT_REAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("GLOMERS_RAFT_REAL: %v", err)
		}
		limit = d
	}
	bin := filepath.Join(t.TempDir(), "lin-kv")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/lin-kv").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	res, err := workbench.Run(context.Background(), workbench.Config{
		Workload: "lin-kv", Bin: bin, NodeIDs: workbench.NodeIDs(5), Concurrency: 10, Rate: 50,
		TimeLimit: limit, Nemesis: []string{"partition"}, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := figuresOf(t, res)
	t.Logf("real processes, partition, %v: %v", limit, f)
	if f.valid != checker.Valid {
		t.Errorf("invalid: %v", workbenchtest.Get(t, res, "workload"))
	}
}
