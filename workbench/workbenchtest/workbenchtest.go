// Package workbenchtest runs whole Maelstrom-style tests inside Go tests,
// in virtual time: the nodes run in-process and every clock, timer and
// sleep belongs to a testing/synctest bubble, so a 25-node, 20-second
// broadcast test costs well under a second.
//
//	func TestMyBroadcast(t *testing.T) {
//		res := workbenchtest.Run(t, workbench.Config{
//			Workload: "broadcast", Node: workbench.InProcess(mynode.Register),
//			NodeIDs: workbench.NodeIDs(5), TimeLimit: 20 * time.Second, Rate: 10,
//			Nemesis: []string{"partition"}, Seed: 1,
//		})
//		if res.Summary.Valid != checker.Valid {
//			t.Fatal(res.Summary.Failing, workbenchtest.Get(t, res, "workload"))
//		}
//		if res.Summary.MsgsPerOp.Servers > 30 {
//			t.Errorf("%v messages per operation", res.Summary.MsgsPerOp.Servers)
//		}
//	}
//
// Result.Summary (package results) holds the figures every run has: the
// verdict, the failing sections, messages per operation, op counts and
// latency quantiles. Get reads anything else from the results map by
// path.
//
// Explore runs a configuration over many seeds and, when one fails,
// shrinks it to the smallest configuration that still fails (see
// Explore). Nodes written against Jepsen's Go library run in-process
// through package maelstrom (maelstrom.InProcess).
package workbenchtest

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/workbench"
)

// Run performs cfg in a synctest bubble and returns its result. A test
// that cannot run (a node that crashes, hangs in init or breaks the
// protocol) fails t with the error and the end of the log. When cfg.Log
// is nil the log is kept only for that message.
func Run(t *testing.T, cfg workbench.Config) *workbench.Result {
	t.Helper()
	var log bytes.Buffer
	if cfg.Log == nil {
		cfg.Log = &log
	}
	var res *workbench.Result
	var err error
	synctest.Test(t, func(t *testing.T) {
		res, err = workbench.Run(context.Background(), cfg)
		settle()
	})
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, tail(log.String(), 3000))
	}
	return res
}

// Get returns the value at path in the results map (keywords given as
// strings: Get(t, res, "workload", "stable-latencies", 0.5)), failing t
// when it is missing: for what res.Summary does not hold.
func Get(t testing.TB, res *workbench.Result, path ...any) any {
	t.Helper()
	v, ok := res.Results.Path(path...)
	if !ok {
		t.Fatalf("no %v in the results", path)
	}
	return v
}

// Number converts a value of the results map to a float64 (EDN integers
// and floats alike), or -1 when it is not a number.
func Number(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return -1
}

// LongEnv is the environment variable that asks for the long suite:
// GLOMERS_LONG=1 go test ./... runs the many-seed sweeps and the long
// real-process runs that the default suite leaves out (CI runs both).
const LongEnv = "GLOMERS_LONG"

// Long reports whether the long suite was asked for (see LongEnv).
func Long() bool {
	v := os.Getenv(LongEnv)
	return v != "" && v != "0"
}

// SkipUnlessLong skips t unless the long suite was asked for, saying how
// to run it.
func SkipUnlessLong(t testing.TB) {
	t.Helper()
	if !Long() {
		t.Skipf("part of the long suite: %s=1 go test runs it", LongEnv)
	}
}

// Seeds returns how many seeds a scenario test runs: quick in the default
// suite (and with -short), n in the long suite (see Long), or the
// positive count in the environment variable env when it is set (to run
// more, or fewer, without editing the test).
func Seeds(t testing.TB, env string, n, quick int) int {
	t.Helper()
	if s := os.Getenv(env); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			t.Fatalf("%s=%q: want a positive integer", env, s)
		}
		return k
	}
	if Long() && !testing.Short() {
		return n
	}
	return quick
}

// settle lets goroutines a node left behind (a gossip ticker started
// with a bare go statement) wake once more after the test: a node of
// package maelstrom ends the goroutine that sends after it stopped, and
// synctest.Test fails if any goroutine is still asleep when the test
// function returns. It costs nothing when no goroutine is left, since the
// bubble's clock jumps to the end of the sleep.
func settle() { time.Sleep(settleTime) }

// settleTime is how long settle waits, in virtual time: longer than any
// gossip period.
const settleTime = 10 * time.Second

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
