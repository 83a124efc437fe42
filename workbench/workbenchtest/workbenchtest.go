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
//		if res.Valid != checker.Valid {
//			t.Fatal(workbenchtest.Get(t, res, "workload"))
//		}
//	}
package workbenchtest

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"

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
	})
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, tail(log.String(), 3000))
	}
	return res
}

// Get returns the value at path in the results map (keywords given as
// strings: Get(t, res, "net", "servers", "msgs-per-op")), failing t when
// it is missing.
func Get(t testing.TB, res *workbench.Result, path ...any) any {
	t.Helper()
	v, ok := res.Results.Path(path...)
	if !ok {
		t.Fatalf("no %v in the results", path)
	}
	return v
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
