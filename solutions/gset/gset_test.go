package gset_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/gset"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

func TestGSetValidUnderPartitions(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			res := workbenchtest.Run(t, workbench.Config{
				Workload: "g-set", Node: workbench.InProcess(gset.Register),
				NodeIDs: workbench.NodeIDs(5), TimeLimit: 20 * time.Second, Rate: 50,
				Latency: 10 * time.Millisecond, Nemesis: []string{"partition"}, NemesisInterval: 3 * time.Second,
				Seed: seed,
			})
			wl, _ := res.Results.Get(edn.Keyword("workload"))
			if res.Valid != checker.Valid {
				t.Fatalf("judged %v: %v", res.Valid, wl)
			}
			// Every element must have become visible everywhere.
			m := wl.(edn.Map)
			attempts, _ := m.Get(edn.Keyword("attempt-count"))
			stable, _ := m.Get(edn.Keyword("stable-count"))
			if attempts != stable || attempts.(int) < 300 {
				t.Errorf("%v elements added, %v stable", attempts, stable)
			}
		})
	}
}

// Pushes are retried until acknowledged, carry only what the peer lacks,
// and stop once the peer has everything.
func TestGSetPushesWhatThePeerLacksUntilAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := node.New(node.WithLogOutput(t.Output()))
		gset.Register(n)
		c := nodetest.Start(t, n)
		c.Init("n0", []string{"n0", "n1"})
		ctx := context.Background()
		for _, e := range []any{1, "two", []any{3}} {
			if m, err := c.Call(ctx, "c1", map[string]any{"type": "add", "element": e}); err != nil || m.Type() != "add_ok" {
				t.Fatalf("add %v: %v %v", e, m.Body, err)
			}
		}
		// n1 pushes element 4 to us: we must not push it back.
		if m, err := c.Call(ctx, "n1", map[string]any{"type": "gset_replicate", "elements": []any{4}}); err != nil || m.Type() != "gset_replicate_ok" {
			t.Fatalf("replicate: %v %v", m.Body, err)
		}
		push := func() (node.Message, []string) {
			t.Helper()
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			m, err := c.Recv(rctx)
			if err != nil {
				t.Fatalf("expected a push: %v", err)
			}
			var body struct {
				Type     string
				Elements []any
			}
			if err := m.Unmarshal(&body); err != nil || m.Dest != "n1" || body.Type != "gset_replicate" {
				t.Fatalf("unexpected message %s to %s", m.Body, m.Dest)
			}
			var got []string
			for _, e := range body.Elements {
				got = append(got, fmt.Sprint(e))
			}
			return m, got
		}
		// Unacknowledged pushes repeat with the same content.
		_, first := push()
		_, again := push()
		if fmt.Sprint(first) != "[1 two [3]]" || fmt.Sprint(again) != fmt.Sprint(first) {
			t.Fatalf("pushes %v then %v, want [1 two [3]] twice (4 came from n1)", first, again)
		}
		m, _ := push()
		id, _ := m.MsgID()
		if err := c.Send("n1", map[string]any{"type": "gset_replicate_ok", "in_reply_to": id}); err != nil {
			t.Fatal(err)
		}
		// One push at a time: nothing can have raced the acknowledgement,
		// and nothing is missing any more.
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if m, err := c.Recv(qctx); err == nil {
			t.Fatalf("pushed again after the acknowledgement: %s", m.Body)
		}
		rm, err := c.Call(ctx, "c2", map[string]any{"type": "read"})
		if err != nil {
			t.Fatal(err)
		}
		var read struct{ Value []any }
		if err := rm.Unmarshal(&read); err != nil || len(read.Value) != 4 {
			t.Fatalf("read %s, want four elements", rm.Body)
		}
	})
}
