package fuzznode

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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

// request reads lines as node.Run does.
func TestRequest(t *testing.T) {
	for _, tc := range []struct {
		line string
		want key
		ok   bool
	}{
		{`{"src":"c1","dest":"n0","body":{"type":"x","msg_id":3}}`, key{"c1", 3}, true},
		{`{"src":"c1","dest":"n0","body":{"msg_id":0},"":""}`, key{"c1", 0}, true},
		{`{"src":"c1","dest":"n0","body":{"msg_id":0},"src":"c9"}`, key{"c9", 0}, true},
		{`{"src":"c1","dest":"n0","body":{"msg_id":0},"src":null}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":{"msg_id":0},"src":7}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":{"msg_id":0},"Src":7}`, key{"c1", 0}, true},
		{`{"src":"c1","dest":"n0","body":{"msg_id":1,"in_reply_to":null}}`, key{"c1", 1}, true},
		{`{"src":"c1","dest":"n0","body":{"msg_id":1,"in_reply_to":2}}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":{"msg_id":1.0}}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":{"msg_id":1,"type":1}}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":{"msg_id":null}}`, key{}, false},
		{`{"src":"c1","body":{"msg_id":1}}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":[1]}`, key{}, false},
		{`{"src":"c1","dest":"n0","body":{"msg_id":1}}}`, key{}, false},
	} {
		got, ok := request(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("request(%s) = %v, %v; want %v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
		// The node agrees: it answers (every request, whatever its type)
		// exactly the requests request finds.
		n := node.New(node.WithLogOutput(io.Discard))
		n.Init("n0", []string{"n0"})
		var out bytes.Buffer
		if err := n.Run(strings.NewReader(tc.line+"\n"), &out); err != nil {
			t.Fatal(err)
		}
		var answer struct {
			Dest string
			Body struct {
				InReplyTo *int `json:"in_reply_to"`
			}
		}
		answered := out.Len() > 0 && json.Unmarshal(out.Bytes(), &answer) == nil && answer.Body.InReplyTo != nil
		if answered != tc.ok || (answered && (key{answer.Dest, *answer.Body.InReplyTo}) != tc.want) {
			t.Errorf("node.Run answered %s with %q", tc.line, out.String())
		}
	}
}
