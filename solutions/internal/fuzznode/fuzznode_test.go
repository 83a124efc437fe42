package fuzznode

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
)

// run checks script against a node set up by register, in a bubble, and
// returns the problems found.
func run(t *testing.T, register func(*node.Node), nodes int, script string) []string {
	var problems []string
	synctest.Test(t, func(t *testing.T) {
		problems = check(t, register, nodes, []byte(script), &logWatch{})
	})
	return problems
}

// wantProblem fails unless exactly one problem was found and it mentions
// want.
func wantProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	if len(problems) != 1 || !strings.Contains(problems[0], want) {
		t.Errorf("problems %q, want one mentioning %q", problems, want)
	}
}

// The harness finds what it promises to find, and nothing in a node that
// behaves.
func TestCheckFindsBrokenPromises(t *testing.T) {
	kv := func(n *node.Node) {
		store := node.NewLinKV(n)
		tso := node.NewTSO(n)
		n.Handle("get", func(msg node.Message) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := store.Write(ctx, "k", 5); err != nil {
				return err
			}
			if err := store.CompareAndSwap(ctx, "k", 5, 6, false); err != nil {
				return err
			}
			v, err := store.ReadInt(ctx, "k")
			if err != nil {
				return err
			}
			ts, err := tso.Timestamp(ctx)
			if err != nil {
				return err
			}
			return n.Reply(msg, map[string]any{"type": "get_ok", "value": v, "ts": ts})
		})
	}
	t.Run("well-behaved", func(t *testing.T) {
		if p := run(t, kv, 2, `{"type":"get","msg_id":1}`+"\n"+`n1 {"type":"get","msg_id":1}`+"\n{\"type\":\"x\",\"msg_id\":2}\n{junk\n"); len(p) != 0 {
			t.Errorf("problems %q for a node that answers everything", p)
		}
	})
	t.Run("drops", func(t *testing.T) {
		drop := func(n *node.Node) {
			n.Handle("drop", func(node.Message) error { return nil })
		}
		wantProblem(t, run(t, drop, 1, `{"type":"drop","msg_id":7}`+"\n"+`{"type":"drop"}`), "(c1, 7: 1, 0)")
	})
	t.Run("waits forever", func(t *testing.T) {
		hang := func(n *node.Node) {
			n.Handle("hang", func(msg node.Message) error {
				_, err := n.Call(context.Background(), "n1", map[string]any{"type": "ping"})
				return err
			})
		}
		wantProblem(t, run(t, hang, 2, `{"type":"hang","msg_id":3}`), "not answered")
	})
	t.Run("panics in a handler", func(t *testing.T) {
		boom := func(n *node.Node) {
			n.Handle("boom", func(node.Message) error { panic("boom") })
		}
		wantProblem(t, run(t, boom, 1, `{"type":"boom","msg_id":1}`), "panicked")
	})
	t.Run("answers twice", func(t *testing.T) {
		twice := func(n *node.Node) {
			n.Handle("twice", func(msg node.Message) error {
				if err := n.Reply(msg, node.Body{Type: "twice_ok"}); err != nil {
					return err
				}
				return n.Reply(msg, node.Body{Type: "twice_ok"})
			})
		}
		wantProblem(t, run(t, twice, 1, `{"type":"twice","msg_id":1}`), "answered too often")
	})
}
