package maelstrom_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/maelstrom"
)

// These tests talk to a Node over pipes, line by line, and compare what
// it writes with what Jepsen's Go demo library (Maelstrom 0.2.4,
// demo/go/node.go and its node_test.go) writes for the same input. Bodies
// are compared as JSON values: the demo library sorts their keys, this
// package does not.

// conn is a node running on pipes.
type conn struct {
	t    *testing.T
	n    *maelstrom.Node
	in   *io.PipeWriter
	out  *bufio.Reader
	done chan error

	draining sync.Once
}

// start runs n on pipes. The test must call stop (or read Run's result
// from done) before it ends.
func start(t *testing.T, n *maelstrom.Node) *conn {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	n.Stdin, n.Stdout = inR, outW
	c := &conn{t: t, n: n, in: inW, out: bufio.NewReader(outR), done: make(chan error, 1)}
	go func() {
		err := n.Run()
		outW.Close()
		c.done <- err
	}()
	return c
}

// send writes one input line.
func (c *conn) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("write %s: %v", line, err)
	}
}

// expect reads the node's next line and compares it, as JSON, with want.
func (c *conn) expect(want string) {
	c.t.Helper()
	line, err := c.out.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read the node's output: %v (want %s)", err, want)
	}
	if !sameJSON(c.t, line, want) {
		c.t.Fatalf("node wrote\n  %s\nwant\n  %s", strings.TrimSpace(line), want)
	}
}

// stop ends the input and returns Run's result.
func (c *conn) stop() error {
	c.in.Close()
	c.drain() // let late writes through
	err := <-c.done
	synctest.Wait() // the goroutines of the node end too
	return err
}

// drain discards the rest of the node's output from now on, as the bench
// reads everything; only one reader ever drains, however often it is asked.
func (c *conn) drain() {
	c.draining.Do(func() { go io.Copy(io.Discard, c.out) })
}

// initNode performs the handshake as the bench does.
func (c *conn) initNode(id string, ids ...string) {
	c.t.Helper()
	b, _ := json.Marshal(ids)
	c.send(fmt.Sprintf(`{"src":"c0","dest":"%s","body":{"type":"init","msg_id":1,"node_id":"%s","node_ids":%s}}`, id, id, b))
	c.expect(fmt.Sprintf(`{"src":"%s","dest":"c0","body":{"in_reply_to":1,"type":"init_ok"}}`, id))
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		s string
		v *any
	}{{a, &x}, {b, &y}} {
		d := json.NewDecoder(strings.NewReader(p.s))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			t.Fatalf("not JSON: %s: %v", p.s, err)
		}
	}
	return reflect.DeepEqual(x, y)
}

func TestInit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		var sawID string
		var sawIDs []string
		n.Handle("init", func(msg maelstrom.Message) error {
			sawID, sawIDs = n.ID(), n.NodeIDs()
			return nil
		})
		c := start(t, n)
		c.initNode("n3", "n1", "n2", "n3")
		if sawID != "n3" || !reflect.DeepEqual(sawIDs, []string{"n1", "n2", "n3"}) {
			t.Errorf("the init handler saw ID %q and NodeIDs %q", sawID, sawIDs)
		}
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInitHandlerError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		n.Handle("init", func(msg maelstrom.Message) error {
			return maelstrom.NewRPCError(maelstrom.TemporarilyUnavailable, "not yet")
		})
		c := start(t, n)
		c.send(`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":7,"node_id":"n1","node_ids":["n1"]}}`)
		// The error instead of init_ok, not as well as it.
		c.expect(`{"src":"n1","dest":"c0","body":{"type":"error","code":11,"text":"not yet","in_reply_to":7}}`)
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReplyCopiesMsgID is the demo library's echo test: the handler sends
// the request's body back with a new type, msg_id included, and Reply adds
// in_reply_to.
func TestReplyCopiesMsgID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		n.Handle("echo", func(msg maelstrom.Message) error {
			var body map[string]any
			if err := json.Unmarshal(msg.Body, &body); err != nil {
				return err
			}
			body["type"] = "echo_ok"
			return n.Reply(msg, body)
		})
		c := start(t, n)
		c.initNode("n1", "n1")
		c.send(`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":2,"echo":"hi"}}`)
		c.expect(`{"src":"n1","dest":"c1","body":{"echo":"hi","in_reply_to":2,"msg_id":2,"type":"echo_ok"}}`)
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReplyWithoutMsgID: the demo library answers a message that had no
// msg_id with "in_reply_to": 0, and takes a message whose in_reply_to is
// 0 for a request to its type's handler, not for a reply.
func TestReplyWithoutMsgID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		acks := make(chan string, 1)
		n.Handle("gossip", func(msg maelstrom.Message) error {
			return n.Reply(msg, map[string]any{"type": "gossip_ok"})
		})
		n.Handle("gossip_ok", func(msg maelstrom.Message) error {
			acks <- msg.Src
			return nil
		})
		c := start(t, n)
		c.initNode("n1", "n1", "n2")
		c.send(`{"src":"n2","dest":"n1","body":{"type":"gossip"}}`)
		c.expect(`{"src":"n1","dest":"n2","body":{"type":"gossip_ok","in_reply_to":0}}`)
		c.send(`{"src":"n2","dest":"n1","body":{"type":"gossip_ok","in_reply_to":0}}`)
		if got := <-acks; got != "n2" {
			t.Errorf("gossip_ok handler saw src %q", got)
		}
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHandlerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"RPCError", maelstrom.NewRPCError(maelstrom.NotSupported, "bad call"),
			`{"src":"n1","dest":"c1","body":{"code":10,"in_reply_to":1000,"text":"bad call","type":"error"}}`},
		{"plain error", errors.New("bad call"),
			`{"src":"n1","dest":"c1","body":{"code":13,"in_reply_to":1000,"text":"bad call","type":"error"}}`},
		// The demo library looks at the error's own type only: a wrapped
		// *RPCError is a crash too, with the wrapper's text.
		{"wrapped RPCError", fmt.Errorf("kv: %w", maelstrom.NewRPCError(maelstrom.KeyDoesNotExist, "missing")),
			`{"src":"n1","dest":"c1","body":{"code":13,"in_reply_to":1000,"text":"kv: RPCError(KeyDoesNotExist, \"missing\")","type":"error"}}`},
		// Code 0 is kept (the demo library drops it, a defect).
		{"timeout", maelstrom.NewRPCError(maelstrom.Timeout, "slow"),
			`{"src":"n1","dest":"c1","body":{"code":0,"in_reply_to":1000,"text":"slow","type":"error"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := maelstrom.NewNode()
				n.Handle("foo", func(msg maelstrom.Message) error { return tc.err })
				c := start(t, n)
				c.initNode("n1", "n1")
				c.send(`{"src":"c1","dest":"n1","body":{"type":"foo","msg_id":1000}}`)
				c.expect(tc.want)
				if err := c.stop(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestHandlerErrorWithoutMsgID: the demo library answers a failed
// message that had no msg_id too, with "in_reply_to": 0.
func TestHandlerErrorWithoutMsgID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		n.Handle("gossip", func(msg maelstrom.Message) error { return errors.New("no") })
		c := start(t, n)
		c.initNode("n1", "n1", "n2")
		c.send(`{"src":"n2","dest":"n1","body":{"type":"gossip"}}`)
		c.expect(`{"src":"n1","dest":"n2","body":{"type":"error","code":13,"text":"no","in_reply_to":0}}`)
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRunErrors: where the demo library's Run returns an error (and a
// node's main exits), so does this one's.
func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
	}{
		{"empty line", ``, `unmarshal message: unexpected end of JSON input`},
		{"not JSON", `{"src":`, `unmarshal message: unexpected end of JSON input`},
		{"body not an object", `{"src":"c1","dest":"n1","body":[1]}`, `unmarshal message body: json: cannot unmarshal array into Go value of type maelstrom.MessageBody`},
		{"no handler", `{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":1}}`, `No handler for {"src":"c1","dest":"n1","body":{"type":"echo","msg_id":1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := maelstrom.NewNode()
				n.Handle("read", func(maelstrom.Message) error { return nil })
				c := start(t, n)
				c.initNode("n1", "n1")
				go io.WriteString(c.in, tc.line+"\n") // Run stops reading at this line (no t.Fatalf off the test goroutine)
				err := <-c.done
				if err == nil || err.Error() != tc.want {
					t.Fatalf("Run returned %v, want %s", err, tc.want)
				}
			})
		})
	}
}

func TestDuplicateHandler(t *testing.T) {
	n := maelstrom.NewNode()
	n.Handle("foo", func(maelstrom.Message) error { return nil })
	defer func() {
		if r := recover(); r != `duplicate message handler for "foo" message type` {
			t.Fatalf("recovered %v", r)
		}
	}()
	n.Handle("foo", func(maelstrom.Message) error { return nil })
}

func TestRPC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		c := start(t, n)
		c.initNode("n1", "n1", "n2")
		replies := make(chan maelstrom.Message, 1)
		errs := make(chan error, 1)
		go func() {
			errs <- n.RPC("n2", map[string]any{"type": "foo", "bar": "baz"}, func(m maelstrom.Message) error {
				replies <- m
				return nil
			})
		}()
		c.expect(`{"src":"n1","dest":"n2","body":{"bar":"baz","msg_id":1,"type":"foo"}}`)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		// A reply nobody waits for is ignored; the node goes on.
		c.send(`{"src":"n2","dest":"n1","body":{"type":"foo_ok","msg_id":7,"in_reply_to":1000}}`)
		c.send(`{"src":"n2","dest":"n1","body":{"type":"foo_ok", "msg_id":2, "in_reply_to":1}}`)
		m := <-replies
		if m.Src != "n2" || m.Dest != "n1" || string(m.Body) != `{"type":"foo_ok", "msg_id":2, "in_reply_to":1}` {
			t.Errorf("callback got %+v (body %s)", m, m.Body)
		}
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSyncRPC(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := maelstrom.NewNode()
			c := start(t, n)
			c.initNode("n1", "n1", "n2")
			type result struct {
				m   maelstrom.Message
				err error
			}
			res := make(chan result, 1)
			go func() {
				m, err := n.SyncRPC(context.Background(), "n2", map[string]any{"type": "foo", "bar": "baz"})
				res <- result{m, err}
			}()
			c.expect(`{"src":"n1","dest":"n2","body":{"bar":"baz","msg_id":1,"type":"foo"}}`)
			c.send(`{"src":"n2","dest":"n1","body":{"type":"foo_ok","msg_id":2,"in_reply_to":1}}`)
			r := <-res
			if r.err != nil || r.m.Src != "n2" || r.m.Type() != "foo_ok" {
				t.Errorf("SyncRPC returned %+v, %v", r.m, r.err)
			}
			if err := c.stop(); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("error reply", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := maelstrom.NewNode()
			c := start(t, n)
			c.initNode("n1", "n1", "n2")
			errs := make(chan error, 1)
			go func() {
				_, err := n.SyncRPC(context.Background(), "n2", map[string]any{"type": "foo"})
				errs <- err
			}()
			c.expect(`{"src":"n1","dest":"n2","body":{"msg_id":1,"type":"foo"}}`)
			// As in the demo library's test: a code makes an error, whatever the type.
			c.send(`{"src":"n2","dest":"n1","body":{"type":"foo_ok","msg_id":2,"in_reply_to":1,"code":20,"text":"key does not exist"}}`)
			err := <-errs
			var e *maelstrom.RPCError
			if !errors.As(err, &e) || e.Code != maelstrom.KeyDoesNotExist || e.Text != "key does not exist" || maelstrom.ErrorCode(err) != 20 {
				t.Errorf("SyncRPC returned %#v", err)
			}
			if err := c.stop(); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("timeout, then a late reply", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := maelstrom.NewNode()
			c := start(t, n)
			c.initNode("n1", "n1", "n2")
			errs := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				_, err := n.SyncRPC(ctx, "n2", map[string]any{"type": "foo"})
				errs <- err
			}()
			c.expect(`{"src":"n1","dest":"n2","body":{"msg_id":1,"type":"foo"}}`)
			if err := <-errs; err == nil || err.Error() != "context deadline exceeded" {
				t.Fatalf("SyncRPC returned %v", err)
			}
			// The late reply is dropped: nothing waits for it, so no
			// goroutine is left blocked (the bubble would report it).
			c.send(`{"src":"n2","dest":"n1","body":{"type":"foo_ok","in_reply_to":1}}`)
			if err := c.stop(); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// TestStopEndsRetryLoops: when the input ends, a handler retrying
// SyncRPC, and a ticker that sends, end with the node instead of keeping
// Run (or the test) alive.
func TestStopEndsRetryLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		attempts := 0
		n.Handle("broadcast", func(msg maelstrom.Message) error {
			for {
				attempts++
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_, err := n.SyncRPC(ctx, "n2", map[string]any{"type": "broadcast"})
				cancel()
				if err == nil {
					return nil
				}
			}
		})
		c := start(t, n)
		c.initNode("n1", "n1", "n2")
		c.drain()
		go func() {
			for {
				time.Sleep(300 * time.Millisecond)
				_ = n.Send("n2", map[string]any{"type": "tick"})
			}
		}()
		c.send(`{"src":"c1","dest":"n1","body":{"type":"broadcast","msg_id":5}}`)
		time.Sleep(2500 * time.Millisecond)
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
		if attempts != 3 {
			t.Errorf("%d attempts in 2.5 s with a 1 s timeout, want 3", attempts)
		}
		// The ticker wakes, sends and ends; synctest.Test would fail if
		// it were left behind.
		time.Sleep(time.Second)
	})
}

func TestLongLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		n.Handle("echo", func(msg maelstrom.Message) error {
			var body map[string]any
			if err := json.Unmarshal(msg.Body, &body); err != nil {
				return err
			}
			body["type"] = "echo_ok"
			return n.Reply(msg, body)
		})
		c := start(t, n)
		c.initNode("n1", "n1")
		big := strings.Repeat("x", 200<<10) // past bufio.Scanner's 64 KiB
		c.send(`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":3,"echo":"` + big + `"}}`)
		c.expect(`{"src":"n1","dest":"c1","body":{"type":"echo_ok","msg_id":3,"in_reply_to":3,"echo":"` + big + `"}}`)
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct {
		body string
		typ  string
		err  *maelstrom.RPCError
	}{
		{`{"type":"read_ok","value":1}`, "read_ok", nil},
		{`{"type":"error","code":20,"text":"missing"}`, "error", &maelstrom.RPCError{Code: 20, Text: "missing"}},
		{`{"type":"foo_ok","code":22}`, "foo_ok", &maelstrom.RPCError{Code: 22}},
		{`{"type":"error","code":0,"text":"slow"}`, "error", &maelstrom.RPCError{Code: 0, Text: "slow"}},
		{`{"type":`, "", &maelstrom.RPCError{Code: maelstrom.Crash, Text: "unexpected end of JSON input"}},
	} {
		m := maelstrom.Message{Src: "n2", Dest: "n1", Body: json.RawMessage(tc.body)}
		if got := m.Type(); got != tc.typ {
			t.Errorf("%s: Type() = %q, want %q", tc.body, got, tc.typ)
		}
		if got := m.RPCError(); !reflect.DeepEqual(got, tc.err) {
			t.Errorf("%s: RPCError() = %#v, want %#v", tc.body, got, tc.err)
		}
	}
}

func TestRPCErrorText(t *testing.T) {
	e := maelstrom.NewRPCError(maelstrom.PreconditionFailed, "from 1")
	if got := e.Error(); got != `RPCError(PreconditionFailed, "from 1")` {
		t.Errorf("Error() = %s", got)
	}
	if got := maelstrom.ErrorCodeText(1000); got != "ErrorCode<1000>" {
		t.Errorf("ErrorCodeText(1000) = %s", got)
	}
	if maelstrom.ErrorCode(fmt.Errorf("x: %w", e)) != 22 || maelstrom.ErrorCode(errors.New("x")) != -1 || maelstrom.ErrorCode(nil) != -1 {
		t.Error("ErrorCode does not find the code in the chain")
	}
	b, _ := json.Marshal(maelstrom.NewRPCError(maelstrom.TxnConflict, ""))
	if !bytes.Equal(b, []byte(`{"type":"error","code":30}`)) {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func decode(t *testing.T, s string, v any) error {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return nil
}

func itoa(i int) string { return fmt.Sprint(i) }
