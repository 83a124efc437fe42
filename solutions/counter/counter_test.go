package counter_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/solutions/counter"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// toFloat reads a numeric result figure.
func toFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	t.Fatalf("%#v is not a number", v)
	return 0
}

// challenge4 is the official challenge 4 command in virtual time:
// -w g-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition.
func challenge4(seed uint64) workbench.Config {
	return workbench.Config{
		Workload: "g-counter", Node: workbench.InProcess(counter.Register),
		NodeIDs: []string{"n0", "n1", "n2"}, TimeLimit: 20 * time.Second, Rate: 100,
		Nemesis: []string{"partition"}, Seed: seed,
	}
}

// Challenge 4 must be valid, with at most 1.0 server messages per client
// operation, whatever the seed.
func TestChallenge4ValidAndCheapAcrossSeeds(t *testing.T) {
	const seeds = 20
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			res := workbenchtest.Run(t, challenge4(seed))
			if res.Valid != checker.Valid {
				t.Fatalf("judged %v: %v", res.Valid, res.Results)
			}
			perOp := toFloat(t, workbenchtest.Get(t, res, "net", "servers", "msgs-per-op"))
			if perOp > 1.0 {
				t.Errorf("servers msgs-per-op %.3f > 1.0", perOp)
			}
			reads := workbenchtest.Get(t, res, "workload", "final-reads").(edn.List)
			if len(reads) != 3 {
				t.Fatalf("final reads %v, want one per node", reads)
			}
			// The run must exercise something: partitions happened and adds
			// were acknowledged, so a counter that always reads 0 fails.
			var nemesis, okAdds int
			var sum int64
			for _, op := range res.History {
				switch {
				case op.Process == history.NemesisProcess:
					nemesis++
				case op.F == "add" && op.Type == history.OK:
					okAdds++
					d, _ := history.Int(op.Value)
					sum += d
				}
			}
			if nemesis < 2 || okAdds < 500 {
				t.Errorf("%d nemesis entries, %d acknowledged adds: the run did not exercise the counter", nemesis, okAdds)
			}
			for _, r := range reads {
				if v, _ := history.Int(r); v != sum {
					t.Errorf("final read %v, want the sum of acknowledged adds %d", r, sum)
				}
			}
			t.Logf("msgs-per-op %.3f, final reads %v", perOp, reads)
		})
	}
}

// With slow, jittery links to seq-kv (exponential latency, mean 50, 200
// and 300 ms: a sync then takes up to several seconds) the counter stays
// exact and cheap: every node's final read is the sum of the
// acknowledged adds.
func TestChallenge4WithExponentialLatency(t *testing.T) {
	for _, latency := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond} {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprint(latency, "/seed", seed), func(t *testing.T) {
				t.Parallel()
				cfg := challenge4(seed)
				cfg.Latency, cfg.LatencyDist = latency, "exponential"
				res := workbenchtest.Run(t, cfg)
				if res.Valid != checker.Valid {
					t.Fatalf("judged %v: %v", res.Valid, workbenchtest.Get(t, res, "workload"))
				}
				perOp := toFloat(t, workbenchtest.Get(t, res, "net", "servers", "msgs-per-op"))
				if perOp > 1.0 {
					t.Errorf("servers msgs-per-op %.3f > 1.0", perOp)
				}
				reads := workbenchtest.Get(t, res, "workload", "final-reads").(edn.List)
				sum := ackedSum(res.History)
				if len(reads) != 3 {
					t.Errorf("final reads %v, want one per node", reads)
				}
				for _, r := range reads {
					if v, _ := history.Int(r); v != sum {
						t.Errorf("final read %v, want the sum of acknowledged adds %d", r, sum)
					}
				}
				t.Logf("msgs-per-op %.3f, final reads %v", perOp, reads)
			})
		}
	}
}

// ackedSum is the sum of the deltas of the acknowledged adds.
func ackedSum(h []history.Op) int64 {
	var sum int64
	for _, op := range h {
		if op.F == "add" && op.Type == history.OK {
			d, _ := history.Int(op.Value)
			sum += d
		}
	}
	return sum
}

func TestPNCounterValidUnderPartitions(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			res := workbenchtest.Run(t, workbench.Config{
				Workload: "pn-counter", Node: workbench.InProcess(counter.RegisterPN),
				NodeIDs: []string{"n0", "n1", "n2", "n3", "n4"}, TimeLimit: 20 * time.Second, Rate: 50,
				Latency: 10 * time.Millisecond, Nemesis: []string{"partition"}, NemesisInterval: 3 * time.Second, Seed: seed,
			})
			if res.Valid != checker.Valid {
				t.Fatalf("judged %v: %v", res.Valid, workbenchtest.Get(t, res, "workload"))
			}
			if reads := workbenchtest.Get(t, res, "workload", "final-reads").(edn.List); len(reads) != 5 {
				t.Errorf("final reads %v, want 5", reads)
			}
		})
	}
}

// With 600 ms between nodes a push's round trip (1.2 s) exceeds the
// replicator's 1 s timeout. The pn-counter must still be valid, and the
// cluster must go quiet once updates stop: acknowledgements that come
// after a push was repeated still count.
func TestPNCounterSettlesUnderHighLatency(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			res := workbenchtest.Run(t, workbench.Config{
				Workload: "pn-counter", Node: workbench.InProcess(counter.RegisterPN),
				NodeIDs: []string{"n0", "n1", "n2", "n3", "n4"}, TimeLimit: 20 * time.Second, Rate: 50,
				Latency: 600 * time.Millisecond, Nemesis: []string{"partition"}, NemesisInterval: 3 * time.Second, Seed: seed,
			})
			if res.Valid != checker.Valid {
				t.Fatalf("judged %v: %v", res.Valid, workbenchtest.Get(t, res, "workload"))
			}
			if reads := workbenchtest.Get(t, res, "workload", "final-reads").(edn.List); len(reads) != 5 {
				t.Errorf("final reads %v, want 5", reads)
			}
			_, end := recoveryWait(t, res.Journal)
			// The heal, then 6 s to settle, then 4 s of silence.
			if n := serverSends(res.Journal, end-4*time.Second.Nanoseconds(), end); n != 0 {
				t.Errorf("%d server messages in the last 4 s before the final reads, want none", n)
			}
		})
	}
}

// recoveryWait returns the longest stretch of the run with no client
// message, in journal time: the 10 s between the heal and the final reads.
func recoveryWait(t *testing.T, journal []netsim.Event) (from, to int64) {
	t.Helper()
	last := int64(-1)
	for _, e := range journal {
		if !isClient(e.Msg) {
			continue
		}
		if last >= 0 && e.Time-last > to-from {
			from, to = last, e.Time
		}
		last = e.Time
	}
	if to-from < 9*time.Second.Nanoseconds() {
		t.Fatalf("longest gap between client messages %v, want the 10 s recovery wait", time.Duration(to-from))
	}
	return from, to
}

// serverSends counts the messages between servers (services included)
// sent in [from, to).
func serverSends(journal []netsim.Event, from, to int64) int {
	n := 0
	for _, e := range journal {
		if !e.Recv && !isClient(e.Msg) && e.Time >= from && e.Time < to {
			n++
		}
	}
	return n
}

// isClient reports whether a client sent or receives m.
func isClient(m *netsim.Message) bool {
	return strings.HasPrefix(m.Src, "c") || strings.HasPrefix(m.Dest, "c")
}
