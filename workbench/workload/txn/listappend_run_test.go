package txn_test

import (
	"fmt"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// A txn-list-append store on lin-kv without a root, whose transactions
// lock the keys they append to but read each key straight from lin-kv,
// is read-committed and no more: valid under read-committed, invalid
// under serializable and strict-serializable, on three nodes.
func TestTxnLinKVPerKeyIsOnlyReadCommitted(t *testing.T) {
	for _, c := range []struct {
		model   string
		valid   bool
		anomaly string
	}{
		{"read-committed", true, ""},
		{"serializable", false, "G-single-item"},
		{"strict-serializable", false, "G-single-item"},
	} {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", c.model, seed), func(t *testing.T) {
				res := txnRun{workload: "txn-list-append", nodes: 3, seconds: 5, rate: 200,
					models: []string{c.model}, seed: seed}.run(t, faulty.TxnLinKVPerKey)
				wl := workbenchtest.Get(t, res, "workload")
				if got := res.Valid == checker.Valid; got != c.valid {
					t.Fatalf("judged %v under %s, want valid=%v: %v", res.Valid, c.model, c.valid, wl)
				}
				if c.anomaly != "" && !hasAnomaly(t, res, c.anomaly) {
					t.Errorf("anomaly types %s, want %s among them", anomalyTypes(t, res), c.anomaly)
				}
				t.Logf("under %s: %v ops (%v ok), anomaly types %s", c.model,
					workbenchtest.Get(t, res, "stats", "count"), workbenchtest.Get(t, res, "stats", "ok-count"), anomalyTypes(t, res))
			})
		}
	}
}
