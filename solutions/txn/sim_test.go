package txn_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/txn"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// scenario is one of the challenges' command lines, run in virtual time.
type scenario struct {
	name    string
	nodes   int
	model   string
	nemesis bool
	// interval is the mean time between nemesis operations (zero: 10 s).
	interval time.Duration
	limit    time.Duration
	rate     float64
}

// The official set-ups (the 6c page's "–-nemesis" typo corrected).
var (
	setup6a  = scenario{name: "6a", nodes: 1, model: "read-uncommitted", limit: 20 * time.Second, rate: 1000}
	setup6b1 = scenario{name: "6b", nodes: 2, model: "read-uncommitted", limit: 20 * time.Second, rate: 1000}
	setup6b2 = scenario{name: "6b-partition", nodes: 2, model: "read-uncommitted", nemesis: true, limit: 20 * time.Second, rate: 1000}
	setup6c  = scenario{name: "6c", nodes: 2, model: "read-committed", nemesis: true, limit: 20 * time.Second, rate: 1000}
	// setup6cFrequent partitions about every 2 s instead of 10 s, to see
	// many heals per run.
	setup6cFrequent = scenario{name: "6c-frequent", nodes: 2, model: "read-committed", nemesis: true,
		interval: 2 * time.Second, limit: 20 * time.Second, rate: 1000}
)

// figures are the numbers a run is judged by.
type figures struct {
	valid      checker.Validity // the verdict Maelstrom would print
	workload   any              // the :workload result, for messages
	okFraction float64
	msgsPerOp  float64
	ops        int
	// Visibility lag (ms) from the bench's :glomers section: quantiles of
	// the lag outside partitions (a lower bound: from the acknowledgement
	// to the last read there that missed the write), of the time to the
	// first read that saw it (an upper bound), the worst lag after a
	// heal, and writes never seen on some node for longer than allowed.
	lagMedian, lagP99, lagMax float64
	seenMedian, seenP99       float64
	healMax                   float64
	heals                     int64
	neverSeen                 int64
	visibility                checker.Validity
	// latency quantiles of :ok transactions, ms
	latMedian, latP99, latMax float64
}

func (f figures) String() string {
	return fmt.Sprintf("valid=%v ok=%.3f msgs/op=%.4f ops=%d lag median=%.1fms p99=%.1fms max=%.1fms first-seen median=%.1fms p99=%.1fms after-heal max=%.1fms (%d heals) never-seen=%d visibility=%v latency median=%.2fms p99=%.2fms max=%.2fms",
		f.valid, f.okFraction, f.msgsPerOp, f.ops, f.lagMedian, f.lagP99, f.lagMax, f.seenMedian, f.seenP99, f.healMax, f.heals, f.neverSeen, f.visibility,
		f.latMedian, f.latP99, f.latMax)
}

// run performs sc in a synctest bubble with the given seed.
func (sc scenario) run(t *testing.T, seed uint64, opts txn.Options) figures {
	t.Helper()
	cfg := workbench.Config{
		Workload: "txn-rw-register", Node: workbench.InProcess(func(n *node.Node) { txn.RegisterWith(n, opts) }),
		NodeIDs: workbench.NodeIDs(sc.nodes), TimeLimit: sc.limit, Rate: sc.rate,
		ConsistencyModels: []string{sc.model}, Availability: "total", Seed: seed,
	}
	if sc.nemesis {
		cfg.Nemesis = []string{"partition"}
		cfg.NemesisInterval = sc.interval
	}
	return measure(workbenchtest.Run(t, cfg))
}

// measure reads the figures out of a result.
func measure(res *workbench.Result) figures {
	f := figures{valid: res.Valid}
	for _, op := range res.History {
		if op.Type == history.Invoke && op.IsClient() {
			f.ops++
		}
	}
	get := func(path ...any) any { v, _ := res.Results.Path(path...); return v }
	f.workload = get("workload")
	f.okFraction = workbenchtest.Number(get("availability", "ok-fraction"))
	f.msgsPerOp = workbenchtest.Number(get("net", "servers", "msgs-per-op"))
	vis := []any{"glomers", "workload"}
	q := func(m any, k float64) float64 {
		mm, _ := m.(edn.Map)
		for _, e := range mm {
			if workbenchtest.Number(e.Key) == k {
				return workbenchtest.Number(e.Val)
			}
		}
		return -1
	}
	lags := get(append(vis, "lag-ms")...)
	f.lagMedian, f.lagP99, f.lagMax = q(lags, 0.5), q(lags, 0.99), q(lags, 1)
	f.healMax = workbenchtest.Number(get(append(vis, "after-heal", "max-ms")...))
	f.heals = int64(workbenchtest.Number(get(append(vis, "after-heal", "heals")...)))
	seen := get(append(vis, "first-seen-ms")...)
	f.seenMedian, f.seenP99 = q(seen, 0.5), q(seen, 0.99)
	f.neverSeen = int64(workbenchtest.Number(get(append(vis, "never-seen-writes")...)))
	f.visibility = checker.ValidityOf(asMap(get(vis...)))
	var lat []int64
	invoked := map[int]int64{}
	for _, op := range res.History {
		if !op.IsClient() {
			continue
		}
		switch op.Type {
		case history.Invoke:
			invoked[op.Process] = op.Time
		case history.OK:
			lat = append(lat, op.Time-invoked[op.Process])
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		ms := func(ns int64) float64 { return float64(ns) / 1e6 }
		f.latMedian, f.latP99, f.latMax = ms(checker.Quantile(lat, 0.5)), ms(checker.Quantile(lat, 0.99)), ms(lat[len(lat)-1])
	}
	return f
}

func asMap(v any) edn.Map { m, _ := v.(edn.Map); return m }

// requirePass fails unless the run is what the challenge asks for:
// valid, and (total availability) every transaction :ok.
func requirePass(t *testing.T, sc scenario, seed uint64, f figures) {
	t.Helper()
	if f.valid != checker.Valid || f.okFraction != 1 {
		t.Errorf("%s seed %d: want valid with every transaction ok; got %v\n%v", sc.name, seed, f, f.workload)
	}
}

// requireTargets fails unless a run with replication meets the issue's
// targets: ≤ 0.25 server messages per operation, visibility lag outside
// partitions median ≤ 100 ms and p99 ≤ 500 ms, every write visible
// within 1 s of a heal, and no write left unseen.
func requireTargets(t *testing.T, sc scenario, seed uint64, f figures) {
	t.Helper()
	if f.msgsPerOp > 0.25 || f.msgsPerOp < 0 {
		t.Errorf("%s seed %d: msgs-per-op %.4f, want ≤ 0.25", sc.name, seed, f.msgsPerOp)
	}
	if f.lagMedian < 0 || f.lagMedian > 100 || f.lagP99 > 500 || f.healMax > 1000 || f.neverSeen != 0 || f.visibility != checker.Valid {
		t.Errorf("%s seed %d: visibility misses its targets: %v", sc.name, seed, f)
	}
}

func TestChallenge6a(t *testing.T) {
	t.Parallel()
	for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_TXN_SEEDS", 3, 1)) {
		f := setup6a.run(t, seed+1, txn.Options{})
		requirePass(t, setup6a, seed+1, f)
		if f.msgsPerOp != 0 {
			t.Errorf("6a seed %d: a single node sent server messages: %v", seed+1, f)
		}
		t.Logf("6a seed %d: %v", seed+1, f)
	}
}

func TestChallenge6b(t *testing.T) {
	t.Parallel()
	for _, sc := range []scenario{setup6b1, setup6b2} {
		for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_TXN_SEEDS", 3, 1)) {
			f := sc.run(t, seed+1, txn.Options{})
			requirePass(t, sc, seed+1, f)
			requireTargets(t, sc, seed+1, f)
			t.Logf("%s seed %d: %v", sc.name, seed+1, f)
		}
	}
}

func TestChallenge6c(t *testing.T) {
	t.Parallel()
	for _, sc := range []scenario{setup6c, setup6cFrequent} {
		for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_TXN_SEEDS", 3, 1)) {
			f := sc.run(t, seed+1, txn.Options{})
			requirePass(t, sc, seed+1, f)
			requireTargets(t, sc, seed+1, f)
			t.Logf("%s seed %d: %v", sc.name, seed+1, f)
		}
	}
}

// Elle cannot tell a store that does not replicate from one that does;
// the visibility figures can. With a flush interval of an hour a node
// sends its first batch and then nothing: the run stays valid for
// Maelstrom, and the visibility check fails. (Without partitions: the
// check judges writes made during a partition only after its heal.)
func TestVisibilityCatchesAStoreThatDoesNotReplicate(t *testing.T) {
	t.Parallel()
	sc := setup6b1
	sc.model = "read-committed"
	sc.limit = 10 * time.Second
	f := sc.run(t, 1, txn.Options{FlushInterval: time.Hour})
	requirePass(t, sc, 1, f)
	t.Logf("no replication: %v", f)
	if f.visibility != checker.Invalid {
		t.Fatalf("visibility %v for a store that does not replicate, want invalid: %v", f.visibility, f)
	}
}

// The built binary, as real processes, on the 6c set-up shortened to
// 5 s with a partition every second or so.
func TestRealProcesses6c(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	bin := filepath.Join(t.TempDir(), "txn-rw-register")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/txn-rw-register")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := workbench.Config{
		Workload: "txn-rw-register", Bin: bin, NodeIDs: workbench.NodeIDs(2),
		TimeLimit: 5 * time.Second, Rate: 1000, ConsistencyModels: []string{"read-committed"},
		Availability: "total", Nemesis: []string{"partition"}, NemesisInterval: time.Second, Seed: 1,
	}
	res, err := workbench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := measure(res)
	t.Logf("real 6c, 5 s: %v", f)
	requirePass(t, setup6c, 1, f)
	requireTargets(t, setup6c, 1, f)
}
