package listappend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/listappend"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// scenario is one txn-list-append command line, run in virtual time:
// --node-count nodes --rate rate --time-limit limit --latency latency
// --consistency-models strict-serializable, with --nemesis partition
// when partitions is set.
type scenario struct {
	nodes      int
	rate       float64
	limit      time.Duration
	latency    time.Duration
	partitions bool
}

// The brief's set-up: 3 nodes, 100 transactions a second, partitions.
var (
	base      = scenario{nodes: 3, rate: 100, limit: 10 * time.Second, partitions: true}
	slowLinks = scenario{nodes: 3, rate: 100, limit: 10 * time.Second, partitions: true, latency: 100 * time.Millisecond}
)

func (sc scenario) config(seed uint64, opts listappend.Options) workbench.Config {
	cfg := workbench.Config{
		Workload: "txn-list-append", Node: workbench.InProcess(func(n *node.Node) { listappend.RegisterWith(n, opts) }),
		NodeIDs: workbench.NodeIDs(sc.nodes), TimeLimit: sc.limit, Rate: sc.rate, Latency: sc.latency,
		ConsistencyModels: []string{"strict-serializable"}, Seed: seed,
	}
	if sc.partitions {
		cfg.Nemesis = []string{"partition"}
	}
	return cfg
}

// figures are what a run is judged and reported by.
type figures struct {
	valid      checker.Validity
	workload   any
	ops        int
	okFraction float64 // :ok completions / invocations (Maelstrom's :availability :ok-fraction)
	servers    float64 // :net :servers :msgs-per-op
	all        float64 // :net :all :msgs-per-op
	p50, p99   float64 // latency of :ok transactions, ms
	max        float64
	completed  map[history.Type]int // client completions by type
}

func (f figures) String() string {
	return fmt.Sprintf("valid=%v ops=%d :ok-fraction=%.4f msgs-per-op servers=%.3f all=%.3f latency p50=%.1fms p99=%.1fms max=%.1fms",
		f.valid, f.ops, f.okFraction, f.servers, f.all, f.p50, f.p99, f.max)
}

func measure(res *workbench.Result) figures {
	get := func(path ...any) any { v, _ := res.Results.Path(path...); return v }
	f := figures{valid: res.Valid, workload: get("workload"), completed: map[history.Type]int{}}
	f.servers = workbenchtest.Number(get("net", "servers", "msgs-per-op"))
	f.all = workbenchtest.Number(get("net", "all", "msgs-per-op"))
	invoked := map[int]int64{}
	var lat []int64
	for _, op := range res.History {
		if !op.IsClient() {
			continue
		}
		if op.Type != history.Invoke {
			f.completed[op.Type]++
		}
		switch op.Type {
		case history.Invoke:
			f.ops++
			invoked[op.Process] = op.Time
		case history.OK:
			lat = append(lat, op.Time-invoked[op.Process])
		}
	}
	if f.ops > 0 {
		f.okFraction = float64(len(lat)) / float64(f.ops)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		ms := func(ns int64) float64 { return float64(ns) / 1e6 }
		f.p50, f.p99, f.max = ms(checker.Quantile(lat, 0.5)), ms(checker.Quantile(lat, 0.99)), ms(lat[len(lat)-1])
	}
	return f
}

// requirePass fails unless the run is strict-serializable with every
// transaction acknowledged.
func requirePass(t *testing.T, f figures) {
	t.Helper()
	if f.valid != checker.Valid {
		t.Errorf("judged %v: %v", f.valid, f.workload)
	}
	if f.okFraction != 1 {
		t.Errorf(":ok-fraction %v, want 1 (%v)", f.okFraction, f)
	}
}

// TestStrictSerializable runs --node-count 3 --rate 100 --nemesis
// partition, strict-serializable, over 20 seeds (3 with -short), 10 s
// each in virtual time: every run valid, every transaction :ok.
func TestStrictSerializable(t *testing.T) { runSeeds(t, base) }

// TestStrictSerializableSlowLinks is the same with --latency 100: every
// lin-kv request costs at least 200 ms, three nodes race for the root
// each round trip, and only one wins.
func TestStrictSerializableSlowLinks(t *testing.T) { runSeeds(t, slowLinks) }

func runSeeds(t *testing.T, sc scenario) {
	var all []figures
	for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_LISTAPPEND_SEEDS", 20, 2)) {
		t.Run(fmt.Sprintf("seed=%d", seed+1), func(t *testing.T) {
			f := measure(workbenchtest.Run(t, sc.config(seed+1, listappend.Options{})))
			t.Log(f)
			requirePass(t, f)
			all = append(all, f)
		})
	}
	t.Logf("latency %v, %d seeds: %v", sc.latency, len(all), summarize(all))
}

// summary is the spread of figures over seeds.
type summary struct {
	okMin                    float64
	serversMean, allMean     float64
	p50Mean, p99Mean, p99Max float64
	opsMean                  float64
}

func (s summary) String() string {
	return fmt.Sprintf(":ok-fraction min %.4f, msgs-per-op servers %.3f all %.3f (means), latency p50 %.1fms p99 %.1fms (means), worst p99 %.1fms, %.0f ops per run",
		s.okMin, s.serversMean, s.allMean, s.p50Mean, s.p99Mean, s.p99Max, s.opsMean)
}

func summarize(fs []figures) summary {
	s := summary{okMin: 1}
	if len(fs) == 0 {
		return s
	}
	for _, f := range fs {
		s.okMin = min(s.okMin, f.okFraction)
		s.serversMean += f.servers
		s.allMean += f.all
		s.p50Mean += f.p50
		s.p99Mean += f.p99
		s.p99Max = max(s.p99Max, f.p99)
		s.opsMean += float64(f.ops)
	}
	n := float64(len(fs))
	s.serversMean /= n
	s.allMean /= n
	s.p50Mean /= n
	s.p99Mean /= n
	s.opsMean /= n
	return s
}

// The built binary as real processes: 3 nodes, --rate 100, partitions,
// 5 s.
func TestRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	bin := filepath.Join(t.TempDir(), "txn-list-append")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/txn-list-append")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := base.config(1, listappend.Options{})
	cfg.Node, cfg.Bin, cfg.TimeLimit = nil, bin, 5*time.Second
	res, err := workbench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := measure(res)
	t.Logf("real processes, 5 s: %v", f)
	requirePass(t, f)
}

// TestSweep (GLOMERS_LISTAPPEND_SWEEP=1) prints the figures of a few
// inline windows, with and without slow links.
func TestSweep(t *testing.T) {
	if os.Getenv("GLOMERS_LISTAPPEND_SWEEP") == "" {
		t.Skip("set GLOMERS_LISTAPPEND_SWEEP=1")
	}
	for _, sc := range []scenario{base, slowLinks} {
		for _, k := range []int{1, 4, 16, 64} {
			for _, conc := range []int{0, 10} {
				cfg := sc.config(1, listappend.Options{InlineCommits: k})
				cfg.Concurrency = conc
				f := measure(workbenchtest.Run(t, cfg))
				t.Logf("latency %v inline %d concurrency %d: %v", sc.latency, k, conc, f)
			}
		}
	}
}

// With exponentially distributed latency (mean 100 ms, so messages
// overtake each other) and lin-kv requests abandoned after 300 ms, many
// cas requests end in timeouts whose outcome is unknown (their
// transactions end :info, and some of those commits land later), reads
// of the root time out, and transactions are given up after 2 s
// (:fail). Whatever happens, the history stays strict-serializable and
// every transaction gets an answer.
func TestTimeoutsStayStrictSerializable(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			cfg := slowLinks.config(seed, listappend.Options{CallTimeout: 300 * time.Millisecond, GiveUpAfter: 2 * time.Second})
			cfg.LatencyDist, cfg.Concurrency = "exponential", 10
			res := workbenchtest.Run(t, cfg)
			f := measure(res)
			t.Logf("%v; completions %v", f, f.completed)
			if f.valid != checker.Valid {
				t.Fatalf("judged %v: %v", f.valid, f.workload)
			}
			if f.completed[history.Info] == 0 || f.completed[history.OK] == 0 {
				t.Errorf("want both :ok and :info transactions (timeouts), got %v", f.completed)
			}
		})
	}
}

// With a root that points to at most 4 keys and inlines 2 commits, most
// reads go through cold maps and segments stored in lin-kv, written by
// other nodes, sometimes still on their way (exponential latency, mean
// 20 ms, reorders messages): still strict-serializable, every
// transaction :ok.
func TestColdMapsAndStoredSegments(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			sc := base
			sc.latency = 20 * time.Millisecond
			cfg := sc.config(seed, listappend.Options{HotKeys: 4, InlineCommits: 2})
			cfg.LatencyDist, cfg.Concurrency = "exponential", 10
			res := workbenchtest.Run(t, cfg)
			f := measure(res)
			reads := map[byte]int{} // lin-kv reads by key kind: r(oot), s(egment), c(old map)
			for _, ev := range res.Journal {
				if ev.Recv || ev.Msg.Dest != "lin-kv" {
					continue
				}
				var b struct {
					Type string
					Key  any
				}
				if err := json.Unmarshal(ev.Msg.Body, &b); err != nil {
					t.Fatal(err)
				}
				if k, ok := b.Key.(string); ok && b.Type == "read" && k != "" {
					reads[k[0]]++
				}
			}
			t.Logf("%v; lin-kv reads of roots %d, segments %d, cold maps %d", f, reads['r'], reads['s'], reads['c'])
			requirePass(t, f)
			if reads['s'] == 0 || reads['c'] == 0 {
				t.Errorf("no segment or cold map was read: the test misses its point")
			}
		})
	}
}

// TestHighRate (GLOMERS_LISTAPPEND_HIGH=1) runs 30 s at --rate 1000
// with --concurrency 2n on 3 nodes: about 30,000 transactions and 2,000
// keys. It prints the figures and the largest request sent to lin-kv,
// which the cold maps keep from growing with the number of keys.
func TestHighRate(t *testing.T) {
	if os.Getenv("GLOMERS_LISTAPPEND_HIGH") == "" {
		t.Skip("set GLOMERS_LISTAPPEND_HIGH=1")
	}
	cfg := base.config(1, listappend.Options{})
	cfg.Rate, cfg.TimeLimit, cfg.Concurrency = 1000, 30*time.Second, 6
	res := workbenchtest.Run(t, cfg)
	largest, largestCAS := 0, 0
	for _, ev := range res.Journal {
		if ev.Recv || ev.Msg.Dest != "lin-kv" {
			continue
		}
		largest = max(largest, len(ev.Msg.Body))
		if strings.Contains(string(ev.Msg.Body), `"type":"cas"`) {
			largestCAS = max(largestCAS, len(ev.Msg.Body))
		}
	}
	f := measure(res)
	t.Logf("%v; largest lin-kv request %d bytes, largest cas %d bytes", f, largest, largestCAS)
	requirePass(t, f)
}

// Nodes are killed and restarted with empty memory (and partitioned):
// a restarted node knows nothing but what lin-kv holds, and a node
// killed between its cas and the writes it owes must not leave the
// root pointing at values nobody will ever store. Transactions whose
// node dies end :info; the rest must go on committing.
func TestKills(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			cfg := base.config(seed, listappend.Options{HotKeys: 8, InlineCommits: 2})
			cfg.Nemesis, cfg.NemesisInterval, cfg.Latency = []string{"partition", "kill"}, time.Second, 5*time.Millisecond
			cfg.Concurrency = 6
			res := workbenchtest.Run(t, cfg)
			f := measure(res)
			t.Logf("%v; completions %v", f, f.completed)
			if f.valid != checker.Valid {
				t.Fatalf("judged %v: %v", f.valid, f.workload)
			}
			if f.okFraction < 0.9 {
				t.Errorf(":ok-fraction %.3f: transactions stopped committing", f.okFraction)
			}
		})
	}
}
