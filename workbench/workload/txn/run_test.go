package txn_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// txnRun is one in-process txn test in virtual time.
type txnRun struct {
	workload    string // default txn-rw-register
	concurrency int    // default 2n
	nodes       int
	seconds     int
	rate        float64
	models      []string
	partitions  bool
	latency     time.Duration
	strict      bool
	seed        uint64
	store       string // StoreRoot: "" keeps nothing
}

func (c txnRun) run(t *testing.T, register func(*node.Node)) *workbench.Result {
	t.Helper()
	if c.workload == "" {
		c.workload = "txn-rw-register"
	}
	if c.concurrency == 0 {
		c.concurrency = 2 * c.nodes
	}
	cfg := workbench.Config{
		Workload: c.workload, Node: workbench.InProcess(register),
		NodeIDs: workbench.NodeIDs(c.nodes), Concurrency: c.concurrency,
		TimeLimit: time.Duration(c.seconds) * time.Second, Rate: c.rate, Latency: c.latency,
		ConsistencyModels: c.models, Availability: "total", Strict: c.strict, Seed: c.seed,
		StoreRoot: c.store,
	}
	if c.partitions {
		cfg.Nemesis, cfg.NemesisInterval = []string{"partition"}, 2*time.Second
	}
	return workbenchtest.Run(t, cfg)
}

// anomalyTypes renders the workload's :anomaly-types for matching.
func anomalyTypes(t *testing.T, res *workbench.Result) string {
	v, _ := res.Results.Path("workload", "anomaly-types")
	return history.Key(v)
}

func hasAnomaly(t *testing.T, res *workbench.Result, name string) bool {
	return strings.Contains(anomalyTypes(t, res), `"`+name+`"`)
}

// txnBody is a txn request or reply: micro-operations [f k v].
type txnBody struct {
	Txn [][3]any `json:"txn"`
}

// atomicStore is a correct single-node store: one map behind one lock,
// each transaction applied whole. On several nodes it never replicates.
func atomicStore(n *node.Node) {
	var mu sync.Mutex
	data := map[any]any{}
	n.Handle("txn", func(msg node.Message) error {
		var b txnBody
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		for i, m := range b.Txn {
			if m[0] == "r" {
				b.Txn[i][2] = data[m[1]]
			} else {
				data[m[1]] = m[2]
			}
		}
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "txn_ok", "txn": b.Txn})
	})
}

// resendingStore applies transactions atomically on the node that gets
// them and replicates their final writes to every peer every 50 ms,
// resending whatever a peer has not acknowledged, so writes cut off by
// a partition arrive after the heal.
func resendingStore(n *node.Node) {
	var mu sync.Mutex
	data := map[any]any{}
	var log [][2]any            // this node's final writes, in order
	acked := map[string]int{}   // peer → entries of log it confirmed
	applied := map[string]int{} // peer → entries of its log applied here
	n.Handle("txn", func(msg node.Message) error {
		var b txnBody
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		last := map[any]int{}
		for i, m := range b.Txn {
			if m[0] == "r" {
				b.Txn[i][2] = data[m[1]]
			} else {
				data[m[1]] = m[2]
				last[m[1]] = i
			}
		}
		for i, m := range b.Txn {
			if m[0] != "r" && last[m[1]] == i {
				log = append(log, [2]any{m[1], m[2]})
			}
		}
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "txn_ok", "txn": b.Txn})
	})
	n.Handle("sync", func(msg node.Message) error {
		var b struct {
			From   int
			Writes [][2]any
		}
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		if have := applied[msg.Src]; b.From <= have && have < b.From+len(b.Writes) {
			for _, kv := range b.Writes[have-b.From:] {
				data[kv[0]] = kv[1]
			}
			applied[msg.Src] = b.From + len(b.Writes)
		}
		upto := applied[msg.Src]
		mu.Unlock()
		return n.Send(msg.Src, map[string]any{"type": "sync_ack", "upto": upto})
	})
	n.Handle("sync_ack", func(msg node.Message) error {
		var b struct{ Upto int }
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		acked[msg.Src] = max(acked[msg.Src], b.Upto)
		mu.Unlock()
		return nil
	})
	n.Every(50*time.Millisecond, func(context.Context) {
		for _, p := range n.NodeIDs() {
			if p == n.ID() {
				continue
			}
			mu.Lock()
			from := acked[p]
			batch := append([][2]any(nil), log[from:]...)
			mu.Unlock()
			if len(batch) > 0 {
				_ = n.Send(p, map[string]any{"type": "sync", "from": from, "writes": batch})
			}
		}
	})
}

// The correct single-node store passes the strongest model at
// challenge 6a's parameters (1 node, 20 s, --rate 1000, --concurrency 2n)
// with every transaction acknowledged.
func TestTxnAtomicStoreIsStrictSerializable(t *testing.T) {
	t.Parallel()
	res := txnRun{nodes: 1, seconds: 20, rate: 1000, models: []string{"strict-serializable"}, seed: 1}.run(t, atomicStore)
	if res.Valid != checker.Valid {
		t.Fatalf("judged %v: %v", res.Valid, workbenchtest.Get(t, res, "workload"))
	}
	count := workbenchtest.Get(t, res, "stats", "count")
	okFrac := workbenchtest.Get(t, res, "availability", "ok-fraction")
	mpo := workbenchtest.Get(t, res, "net", "all", "msgs-per-op")
	t.Logf("6a parameters, strict-serializable: %v ops, ok-fraction %v, msgs-per-op %v, workload %v",
		count, okFrac, mpo, workbenchtest.Get(t, res, "workload"))
	if n, _ := history.Int(count); n < 15000 {
		t.Errorf("only %d operations in 20 s at --rate 1000", n)
	}
	if !history.Equal(okFrac, 1.0) && !history.Equal(okFrac, int64(1)) {
		t.Errorf("ok-fraction %v, want 1", okFrac)
	}
}

// Each faulty store is invalid under the model that forbids its anomaly,
// and the anomaly is named.
func TestFaultyTxnStoresAreInvalid(t *testing.T) {
	t.Parallel()
	nodes := faulty.Nodes()
	for _, c := range []struct {
		fault   string
		nodes   int
		model   string
		anomaly string
	}{
		{"txn-dirty-abort", 1, "read-committed", "G1a"},
		{"txn-intermediate", 1, "read-committed", "G1b"},
		{"txn-lost-update", 2, "strict-serializable", "lost-update"},
	} {
		for seed := range uint64(workbenchtest.Seeds(t, "GLOMERS_TXN_SEEDS", 2, 1)) {
			seed++
			t.Run(fmt.Sprintf("%s/seed%d", c.fault, seed), func(t *testing.T) {
				t.Parallel()
				res := txnRun{nodes: c.nodes, seconds: 5, rate: 1000, models: []string{c.model}, seed: seed}.run(t, nodes[c.fault])
				if res.Valid != checker.Invalid {
					t.Fatalf("%s judged %v under %s, want invalid: %v", c.fault, res.Valid, c.model, workbenchtest.Get(t, res, "workload"))
				}
				if !hasAnomaly(t, res, c.anomaly) {
					t.Errorf("%s under %s: anomaly types %s, want %s among them", c.fault, c.model, anomalyTypes(t, res), c.anomaly)
				}
				t.Logf("%s under %s: anomaly types %s", c.fault, c.model, anomalyTypes(t, res))
			})
		}
	}
}

// The faults are specific: each store passes a model that allows its
// anomaly (aborted reads under read-uncommitted, lost updates under
// read-committed).
func TestFaultyTxnStoresPassWeakerModels(t *testing.T) {
	t.Parallel()
	nodes := faulty.Nodes()
	for _, c := range []struct {
		fault string
		nodes int
		model string
	}{
		{"txn-dirty-abort", 1, "read-uncommitted"},
		{"txn-lost-update", 2, "read-committed"},
	} {
		t.Run(c.fault, func(t *testing.T) {
			res := txnRun{nodes: c.nodes, seconds: 5, rate: 1000, models: []string{c.model}, seed: 3}.run(t, nodes[c.fault])
			if v, _ := res.Results.Path("workload", "valid?"); v != true {
				t.Fatalf("%s judged %v under %s: %v", c.fault, v, c.model, workbenchtest.Get(t, res, "workload"))
			}
		})
	}
}

// Two nodes that never replicate pass read-committed, as in Maelstrom,
// but not the visibility check, which counts with --strict.
func TestTxnVisibilityCatchesAStoreThatNeverReplicates(t *testing.T) {
	t.Parallel()
	res := txnRun{nodes: 2, seconds: 10, rate: 1000, models: []string{"read-committed"}, strict: true, seed: 4}.run(t, atomicStore)
	if v, _ := res.Results.Path("workload", "valid?"); v != true {
		t.Fatalf("workload judged %v: %v", v, workbenchtest.Get(t, res, "workload"))
	}
	vis := workbenchtest.Get(t, res, "glomers", "workload").(edn.Map)
	t.Logf("visibility: %v", vis)
	if checker.ValidityOf(vis) != checker.Invalid || res.Valid != checker.Invalid {
		t.Fatalf("a store that never replicates: visibility %v, verdict %v; want both invalid", checker.ValidityOf(vis), res.Valid)
	}
}

// Stores that replicate every 50 ms pass the visibility check; the one
// that resends what partitions dropped passes it with partitions too.
func TestTxnVisibilityOfReplicatingStores(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		register   func(*node.Node)
		partitions bool
		want       checker.Validity
	}{
		{"resending", resendingStore, false, checker.Valid},
		{"resending/partitions", resendingStore, true, checker.Valid},
		{"lost-update", faulty.TxnLostUpdate, false, checker.Valid},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := txnRun{nodes: 2, seconds: 10, rate: 1000, models: []string{"read-committed"},
				partitions: c.partitions, latency: 5 * time.Millisecond, seed: 5}.run(t, c.register)
			vis := workbenchtest.Get(t, res, "glomers", "workload").(edn.Map)
			t.Logf("visibility: %v", vis)
			if got := checker.ValidityOf(vis); got != c.want {
				t.Fatalf("visibility judged %v, want %v", got, c.want)
			}
			if v, _ := res.Results.Path("workload", "valid?"); v != true {
				t.Errorf("workload judged %v under read-committed: %v", v, workbenchtest.Get(t, res, "workload"))
			}
		})
	}
}

// atomicListStore is a correct single-node txn-list-append store: one map
// of lists behind one lock, each transaction applied whole.
func atomicListStore(n *node.Node) {
	var mu sync.Mutex
	lists := map[any][]any{}
	n.Handle("txn", func(msg node.Message) error {
		var b txnBody
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		for i, m := range b.Txn {
			if m[0] == "r" {
				if l := lists[m[1]]; l != nil {
					b.Txn[i][2] = append([]any(nil), l...)
				}
			} else {
				lists[m[1]] = append(lists[m[1]], m[2])
			}
		}
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "txn_ok", "txn": b.Txn})
	})
}

// The correct list-append store is strict-serializable; a transactor
// that commits atomically, in write-lock order, but reads whatever is
// committed at each read is read-committed and no more.
func TestTxnListAppendStores(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		register func(*node.Node)
		model    string
		valid    bool
		anomaly  string
	}{
		{"atomic", atomicListStore, "strict-serializable", true, ""},
		{"read-committed", faulty.TxnReadCommittedAppend, "read-committed", true, ""},
		{"read-committed", faulty.TxnReadCommittedAppend, "serializable", false, "G-single-item"},
		{"read-committed", faulty.TxnReadCommittedAppend, "strict-serializable", false, "G-single-item-realtime"},
	} {
		t.Run(c.name+"/"+c.model, func(t *testing.T) {
			res := txnRun{workload: "txn-list-append", nodes: 1, concurrency: 4, seconds: 5, rate: 1000,
				models: []string{c.model}, seed: 6}.run(t, c.register)
			wl := workbenchtest.Get(t, res, "workload")
			if got := res.Valid == checker.Valid; got != c.valid {
				t.Fatalf("judged %v under %s, want valid=%v: %v", res.Valid, c.model, c.valid, wl)
			}
			if c.anomaly != "" && !hasAnomaly(t, res, c.anomaly) {
				t.Errorf("anomaly types %s, want %s among them", anomalyTypes(t, res), c.anomaly)
			}
			t.Logf("%s under %s: %v ops, anomaly types %s", c.name, c.model,
				workbenchtest.Get(t, res, "stats", "count"), anomalyTypes(t, res))
		})
	}
}
