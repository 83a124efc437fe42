package linkv_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/raft"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workbenchtest"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/linkv"
)

// linKVConfig is a lin-kv run on three in-process nodes, stored under
// root.
func linKVConfig(register func(*node.Node), root string, seed uint64) workbench.Config {
	return workbench.Config{
		Workload: "lin-kv", Node: workbench.InProcess(register), NodeIDs: workbench.NodeIDs(3), Concurrency: 6,
		TimeLimit: 10 * time.Second, Rate: 50, Latency: 5 * time.Millisecond, Seed: seed, StoreRoot: root,
	}
}

// storyOp is an operation as a story line names it: "process 4 (on n1)
// wrote 3 at 1.203–1.221 s (ok)".
var storyOp = regexp.MustCompile(`process (\d+) \(on (n\d+)\) (?:had )?(wrote|written|set it to|read|cas) (\S+) at (\d+\.\d+)–(\d+\.\d+) s`)

type named struct {
	process    int
	node, f, v string
	call, ret  float64 // seconds
}

func parseStory(s string) []named {
	var out []named
	for _, m := range storyOp.FindAllStringSubmatch(s, -1) {
		p, _ := strconv.Atoi(m[1])
		c, _ := strconv.ParseFloat(m[5], 64)
		r, _ := strconv.ParseFloat(m[6], 64)
		f := map[string]string{"wrote": "write", "written": "write", "set it to": "cas", "read": "read", "cas": "cas"}[m[3]]
		out = append(out, named{p, m[2], f, m[4], c, r})
	}
	return out
}

// inHistory reports whether the history holds the operation a story
// names: its process and kind, invoked and completed :ok at the times
// given (to the millisecond), with the value given.
func inHistory(ops []history.Op, n named) bool {
	open := map[int]history.Op{}
	for _, op := range ops {
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = op
			continue
		}
		inv, ok := open[op.Process]
		if !ok || op.Process != n.process || op.F != n.f || op.Type != history.OK {
			continue
		}
		near := func(ns int64, s float64) bool { return math.Abs(float64(ns)/1e9-s) <= 0.0005 }
		if !near(inv.Time, n.call) || !near(op.Time, n.ret) {
			continue
		}
		kv, _ := op.Value.([]any)
		if len(kv) != 2 {
			continue
		}
		var v string
		switch n.f {
		case "cas":
			ft, _ := kv[1].([]any)
			if len(ft) == 2 {
				v = history.Key(ft[0]) + "→" + history.Key(ft[1])
				if !strings.Contains(n.v, "→") { // "had set it to 4"
					v = history.Key(ft[1])
				}
			}
		default:
			v = history.Key(kv[1])
		}
		if v == n.v {
			return true
		}
	}
	return false
}

// The stale lin-kv node answers reads from a copy other nodes' writes do
// not reach: the explanation counts the keys the checker failed, and its
// story names real operations, on the nodes that served them, where a
// write of another value completed before the read of an older one
// began; porcupine's visualization of the window is in the run's folder.
func TestStaleLinKVIsExplained(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			res := workbenchtest.Run(t, linKVConfig(faulty.StaleLinKV, t.TempDir(), seed))
			if res.Valid != checker.Invalid {
				t.Fatalf("stale lin-kv judged %v", res.Valid)
			}
			wl := workbenchtest.Get(t, res, "workload", "results").(edn.Map)
			invalid := 0
			for _, e := range wl {
				if checker.ValidityOf(e.Val.(edn.Map)) == checker.Invalid {
					invalid++
				}
			}
			x := res.Explanation
			if x == nil || len(x.Findings) == 0 {
				t.Fatal("an invalid run without an explanation")
			}
			f := x.Findings[0]
			if f.Section != "workload" || f.Kind != "not-linearizable" || f.Count != invalid || len(f.Examples) != min(invalid, results.MaxExamples) {
				t.Fatalf("finding %s/%s ×%d with %d examples, want workload/not-linearizable ×%d", f.Section, f.Kind, f.Count, len(f.Examples), invalid)
			}
			if !slices.Contains(res.Summary.Reasons, f.Short) {
				t.Errorf("summary reasons %q lack %q", res.Summary.Reasons, f.Short)
			}
			for _, ex := range f.Examples {
				ops := parseStory(ex.Text)
				if len(ops) != 2 {
					t.Fatalf("example %q does not name a read (or cas) and the write that overwrote its value", ex.Text)
				}
				seen, over := ops[0], ops[1]
				for _, n := range ops {
					if !inHistory(res.History, n) {
						t.Errorf("example %q names %+v, which is not in the history", ex.Text, n)
					}
					if want := fmt.Sprintf("n%d", (n.process%6)%3); n.node != want {
						t.Errorf("process %d is on %s, not %s", n.process, want, n.node)
					}
				}
				saw := seen.v
				if seen.f == "cas" {
					saw, _, _ = strings.Cut(seen.v, "→")
				}
				wrote := over.v
				if over.f == "cas" && strings.Contains(over.v, "→") {
					_, wrote, _ = strings.Cut(over.v, "→")
				}
				if saw == wrote || over.ret > seen.call {
					t.Errorf("example %q: %+v does not contradict %+v", ex.Text, over, seen)
				}
				// Every line of the window names a real operation.
				for _, l := range ex.Lines {
					for _, n := range parseStory(l) {
						if !inHistory(res.History, n) && !strings.Contains(l, "(outcome unknown") {
							t.Errorf("line %q names an operation not in the history", l)
						}
					}
				}
				if ex.File == "" {
					continue
				}
				page, err := os.ReadFile(filepath.Join(res.Dir, ex.File))
				if err != nil || !strings.Contains(string(page), "<script>") || !strings.Contains(string(page), "read") {
					t.Errorf("%s: %v, not porcupine's page", ex.File, err)
				}
			}
			if f.Examples[0].File == "" {
				t.Errorf("the first example has no visualization")
			}
		})
	}
}

// A correct store (the Raft solution) is valid, so the run is not
// explained; asked anyway, the workload finds nothing.
func TestRaftIsNotExplained(t *testing.T) {
	cfg := linKVConfig(raft.Register, "", 2)
	cfg.Nemesis, cfg.NemesisInterval = []string{"partition"}, 2*time.Second
	res := workbenchtest.Run(t, cfg)
	if res.Valid != checker.Valid {
		t.Fatalf("raft judged %v: %v", res.Valid, workbenchtest.Get(t, res, "workload"))
	}
	if res.Explanation != nil {
		t.Errorf("a valid run explained: %+v", res.Explanation)
	}
	w, err := linkv.New(&workload.Env{Nodes: cfg.NodeIDs, Concurrency: cfg.Concurrency})
	if err != nil {
		t.Fatal(err)
	}
	wl, _ := res.Results.Get(edn.Keyword("workload"))
	ev := &explain.Evidence{Ops: res.History, Nodes: cfg.NodeIDs, Concurrency: cfg.Concurrency, Workload: wl.(edn.Map)}
	if found := w.(explain.Explainer).Explain(ev); len(found) != 0 {
		t.Errorf("raft's valid history explained: %+v", found)
	}
}
