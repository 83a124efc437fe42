package node_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
)

// logBuffer collects a node's log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newNode returns a node logging into the returned buffer.
func newNode() (*node.Node, *logBuffer) {
	logs := &logBuffer{}
	return node.New(node.WithLogOutput(logs)), logs
}

// echoBody is the body of echo requests and replies.
type echoBody struct {
	node.Body
	Echo json.RawMessage `json:"echo,omitempty"`
}

// handleEcho registers an echo handler on n.
func handleEcho(n *node.Node) {
	n.Handle("echo", func(msg node.Message) error {
		var req echoBody
		if err := msg.Unmarshal(&req); err != nil {
			return err
		}
		return n.Reply(msg, echoBody{Body: node.Body{Type: "echo_ok"}, Echo: req.Echo})
	})
}

// bodyMap decodes a body into a generic map, numbers kept literal.
func bodyMap(t *testing.T, m node.Message) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(m.Body))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode body %s: %v", m.Body, err)
	}
	return v
}

// wantBody fails unless m's body equals the JSON object want (key order
// and white space aside).
func wantBody(t *testing.T, m node.Message, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(m.Body, &got); err != nil {
		t.Fatalf("body %s: %v", m.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if !bytes.Equal(gb, eb) {
		t.Fatalf("body = %s, want %s", m.Body, want)
	}
}

// recv returns the next unclaimed message, failing the test on error.
func recv(t *testing.T, c *nodetest.Conn) node.Message {
	t.Helper()
	m, err := c.Recv(t.Context())
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	return m
}

// call performs a request, failing the test on error.
func call(t *testing.T, c *nodetest.Conn, src string, body any) node.Message {
	t.Helper()
	m, err := c.Call(t.Context(), src, body)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	return m
}

func TestInitHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		var seenID atomic.Value
		n.Handle("init", func(msg node.Message) error {
			seenID.Store(n.ID()) // ids are stored before the user's handler runs
			return nil
		})
		c := nodetest.Start(t, n)
		m := call(t, c, "c3", map[string]any{"type": "init", "node_id": "n2", "node_ids": []string{"n1", "n2", "n3"}})
		if m.Src != "n2" || m.Dest != "c3" {
			t.Errorf("init_ok from %s to %s, want n2 to c3", m.Src, m.Dest)
		}
		wantBody(t, m, `{"type":"init_ok","in_reply_to":1}`)
		if got := seenID.Load(); got != "n2" {
			t.Errorf("init handler saw ID %v, want n2", got)
		}
		if got := n.NodeIDs(); strings.Join(got, ",") != "n1,n2,n3" {
			t.Errorf("NodeIDs = %v", got)
		}
		ids := n.NodeIDs()
		ids[0] = "changed"
		if n.NodeIDs()[0] != "n1" {
			t.Error("NodeIDs returned the node's own slice")
		}
	})
}

func TestInitHandlerErrorIsReplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		n.Handle("init", func(node.Message) error { return node.NewRPCError(node.Abort, "no") })
		c := nodetest.Start(t, n)
		m := call(t, c, "c0", map[string]any{"type": "init", "node_id": "n1", "node_ids": []string{"n1"}})
		wantBody(t, m, `{"type":"error","code":14,"text":"no","in_reply_to":1}`)

		// An init without node_id is malformed and leaves the node uninitialised.
		m = call(t, c, "c1", map[string]any{"type": "init"})
		if e := m.RPCError(); e == nil || e.Code != node.MalformedRequest {
			t.Fatalf("init without node_id: reply %s, want malformed-request", m.Body)
		}
	})
}

// The init handler runs until it first succeeds and never again: a
// repeated init with the same ids is answered init_ok, one with other ids
// is refused and leaves the node's identity alone.
func TestRepeatedInitRunsHandlerOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		var runs atomic.Int32
		n.Handle("init", func(node.Message) error {
			if runs.Add(1) == 1 {
				return node.NewRPCError(node.Abort, "not yet")
			}
			return nil
		})
		c := nodetest.Start(t, n)
		initN1 := map[string]any{"type": "init", "node_id": "n1", "node_ids": []string{"n1", "n2"}}
		m := call(t, c, "c0", initN1)
		if e := m.RPCError(); e == nil || e.Code != node.Abort {
			t.Fatalf("first init: reply %s, want the handler's abort", m.Body)
		}
		// A failed init handler is run again by the next init.
		wantBody(t, call(t, c, "c0", initN1), `{"type":"init_ok","in_reply_to":2}`)
		wantBody(t, call(t, c, "c1", initN1), `{"type":"init_ok","in_reply_to":3}`)
		m = call(t, c, "c2", map[string]any{"type": "init", "node_id": "n2", "node_ids": []string{"n1", "n2"}})
		if e := m.RPCError(); e == nil || e.Code != node.PreconditionFailed {
			t.Fatalf("init as another node: reply %s, want precondition-failed", m.Body)
		}
		m = call(t, c, "c3", map[string]any{"type": "init", "node_id": "n1", "node_ids": []string{"n1"}})
		if e := m.RPCError(); e == nil || e.Code != node.PreconditionFailed {
			t.Fatalf("init with other node_ids: reply %s, want precondition-failed", m.Body)
		}
		if got := runs.Load(); got != 2 {
			t.Errorf("init handler ran %d times, want 2 (one failure, one success)", got)
		}
		if n.ID() != "n1" || strings.Join(n.NodeIDs(), ",") != "n1,n2" {
			t.Errorf("identity after refused inits: %s of %v, want n1 of [n1 n2]", n.ID(), n.NodeIDs())
		}
		// Concurrent inits: still one run of the handler, every one answered.
		for i := range 5 {
			if err := c.Send(fmt.Sprint("c", 10+i), map[string]any{"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": []string{"n1", "n2"}}); err != nil {
				t.Fatal(err)
			}
		}
		for range 5 {
			if m := recv(t, c); m.Type() != "init_ok" {
				t.Errorf("concurrent repeated init answered %s", m.Body)
			}
		}
		if got := runs.Load(); got != 2 {
			t.Errorf("init handler ran %d times after concurrent inits, want 2", got)
		}
	})
}

// Inits are handled in arrival order, so the first valid one sets the
// identity even when others follow at once; a malformed init that comes
// before any identity is still answered, from the id it was sent to.
func TestInitsInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		n.Handle("init", func(node.Message) error {
			time.Sleep(time.Second) // a slow handler: later inits must wait
			return nil
		})
		c := nodetest.Start(t, n)
		lines := []string{
			`{"src":"c0","dest":"n5","body":{"type":"init","msg_id":1}}`,
			`{"src":"c1","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2"]}}`,
			`{"src":"c2","dest":"n2","body":{"type":"init","msg_id":1,"node_id":"n2","node_ids":["n1","n2"]}}`,
			`{"src":"c3","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2"]}}`,
		}
		for _, l := range lines {
			if err := c.WriteLine(l); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]node.Message{}
		for range lines {
			m := recv(t, c)
			got[m.Dest] = m
		}
		if m := got["c0"]; m.Src != "n5" || m.RPCError() == nil || m.RPCError().Code != node.MalformedRequest {
			t.Errorf("malformed first init answered %s from %q, want malformed-request from n5", m.Body, m.Src)
		}
		if m := got["c1"]; m.Type() != "init_ok" || m.Src != "n1" {
			t.Errorf("first valid init answered %s from %q, want init_ok from n1", m.Body, m.Src)
		}
		if m := got["c2"]; m.RPCError() == nil || m.RPCError().Code != node.PreconditionFailed {
			t.Errorf("init as n2 after n1 answered %s, want precondition-failed", m.Body)
		}
		if m := got["c3"]; m.Type() != "init_ok" {
			t.Errorf("repeated init as n1 answered %s, want init_ok", m.Body)
		}
	})
}

func TestRequestsBeforeInitWaitForIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		handleEcho(n)
		var initDone atomic.Bool
		release := make(chan struct{})
		n.Handle("init", func(node.Message) error {
			<-release
			initDone.Store(true)
			return nil
		})
		c := nodetest.Start(t, n)
		if err := c.Send("c5", map[string]any{"type": "echo", "echo": "early", "msg_id": 7}); err != nil {
			t.Fatal(err)
		}
		if err := c.Send("c0", map[string]any{"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": []string{"n1"}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		if m, err := c.Recv(ctx); err == nil {
			t.Fatalf("node sent %s before its init handler returned", m.Body)
		}
		cancel()
		close(release)
		replies := map[string]node.Message{}
		for range 2 {
			m := recv(t, c)
			replies[m.Dest] = m
		}
		wantBody(t, replies["c0"], `{"type":"init_ok","in_reply_to":1}`)
		wantBody(t, replies["c5"], `{"type":"echo_ok","echo":"early","in_reply_to":7}`)
		if replies["c5"].Src != "n1" {
			t.Errorf("early request answered from %q, want n1", replies["c5"].Src)
		}
		if !initDone.Load() {
			t.Error("replies sent before the init handler finished")
		}
	})
}

func TestReplySetsInReplyTo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		n.Handle("ping", func(msg node.Message) error {
			// A body that already has in_reply_to: Reply must replace it.
			return n.Reply(msg, map[string]any{"type": "pong", "in_reply_to": 99, "x": []int{1}})
		})
		n.Handle("shout", func(msg node.Message) error {
			// A value containing the key's spelling must survive intact.
			return n.Reply(msg, map[string]string{"type": "shout_ok", "said": `"in_reply_to" \ "msg_id"`})
		})
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1"})

		if err := c.Send("c1", map[string]any{"type": "ping", "msg_id": 0}); err != nil {
			t.Fatal(err)
		}
		m := recv(t, c)
		wantBody(t, m, `{"type":"pong","in_reply_to":0,"x":[1]}`)

		m = call(t, c, "c1", map[string]any{"type": "shout"})
		if got := bodyMap(t, m)["said"]; got != `"in_reply_to" \ "msg_id"` {
			t.Errorf("said = %q", got)
		}
		if _, ok := m.InReplyTo(); !ok {
			t.Errorf("reply %s has no in_reply_to", m.Body)
		}
	})
}

func TestNoReplyWithoutMsgID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, logs := newNode()
		n.Handle("gossip", func(msg node.Message) error { return n.Reply(msg, node.Body{Type: "gossip_ok"}) })
		n.Handle("fail", func(node.Message) error { return errors.New("boom") })
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1", "n2"})
		for _, typ := range []string{"gossip", "fail", "nosuchtype"} {
			if err := c.Send("n2", map[string]any{"type": typ}); err != nil {
				t.Fatal(err)
			}
			// "in_reply_to": null is not a reply and has no msg_id either.
			if err := c.Send("n2", map[string]any{"type": typ, "in_reply_to": nil, "msg_id": nil}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if m, err := c.Recv(t.Context()); !errors.Is(err, nodetest.ErrEnded) {
			t.Fatalf("node answered a message without msg_id: %s", m.Body)
		}
		for _, want := range []string{"boom", `no handler for message type "nosuchtype"`} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, logs)
			}
		}
	})
}

func TestErrorReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		n.Handle("rpcerr", func(node.Message) error { return node.NewRPCError(node.KeyDoesNotExist, "nope") })
		n.Handle("wrapped", func(node.Message) error {
			return fmt.Errorf("reading x: %w", node.Errorf(node.PreconditionFailed, "want %d", 3))
		})
		n.Handle("timeout", func(node.Message) error { return node.NewRPCError(node.Timeout, "slow") })
		n.Handle("plain", func(node.Message) error { return errors.New("disk on fire") })
		n.Handle("panic", func(node.Message) error { panic("oops") })
		n.Handle("custom", func(node.Message) error { return node.NewRPCError(1001, "") })
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1"})
		cases := []struct{ typ, want string }{
			{"rpcerr", `{"type":"error","code":20,"text":"nope"}`},
			{"wrapped", `{"type":"error","code":22,"text":"want 3"}`},
			{"timeout", `{"type":"error","code":0,"text":"slow"}`},
			{"plain", `{"type":"error","code":13,"text":"disk on fire"}`},
			{"panic", `{"type":"error","code":13,"text":"panic: oops"}`},
			{"custom", `{"type":"error","code":1001,"text":""}`},
			{"nosuch", `{"type":"error","code":10,"text":"message type \"nosuch\" is not supported"}`},
		}
		for _, tc := range cases {
			m := call(t, c, "c1", map[string]any{"type": tc.typ})
			id, _ := m.InReplyTo()
			want := strings.TrimSuffix(tc.want, "}") + fmt.Sprintf(`,"in_reply_to":%d}`, id)
			wantBody(t, m, want)
		}
		// The node survived the panic and the unknown type.
		m := call(t, c, "c1", map[string]any{"type": "rpcerr"})
		if e := m.RPCError(); e == nil || e.Code != node.KeyDoesNotExist {
			t.Errorf("after errors: %s", m.Body)
		}
		// A body with no type at all is malformed.
		m = call(t, c, "c1", map[string]any{"kind": "echo"})
		if e := m.RPCError(); e == nil || e.Code != node.MalformedRequest {
			t.Errorf("typeless body answered %s, want malformed-request", m.Body)
		}
	})
}

func TestRPCCallbackMatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, logs := newNode()
		got := make(chan string, 4)
		n.Handle("start", func(msg node.Message) error {
			for _, dest := range []string{"n2", "n3"} {
				err := n.RPC(dest, map[string]any{"type": "probe", "msg_id": 500}, func(r node.Message) error {
					var b struct{ From string }
					if err := r.Unmarshal(&b); err != nil {
						return err
					}
					got <- b.From
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		var stray atomic.Bool
		n.Handle("probe_ok", func(node.Message) error { stray.Store(true); return nil })
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1", "n2", "n3"})
		if err := c.Send("c1", map[string]any{"type": "start"}); err != nil {
			t.Fatal(err)
		}
		reqs := map[string]int{}
		for range 2 {
			m := recv(t, c)
			id, ok := m.MsgID()
			if !ok || m.Type() != "probe" {
				t.Fatalf("want a probe with msg_id, got %s", m.Body)
			}
			reqs[m.Dest] = id
		}
		if reqs["n2"] == reqs["n3"] || min(reqs["n2"], reqs["n3"]) != 1 || max(reqs["n2"], reqs["n3"]) != 2 {
			t.Fatalf("msg_ids = %v, want 1 and 2 (replacing the body's 500)", reqs)
		}
		// Answer in the opposite order; each reply must reach its own callback.
		for _, from := range []string{"n3", "n2"} {
			if err := c.Send(from, map[string]any{"type": "probe_ok", "from": from, "in_reply_to": reqs[from]}); err != nil {
				t.Fatal(err)
			}
			if g := <-got; g != from {
				t.Errorf("reply from %s reached callback of %s", from, g)
			}
		}
		// A second reply to the same id, and a reply to msg_id 0, are
		// replies nobody waits for: logged and dropped, never dispatched
		// to the probe_ok handler.
		for _, id := range []int{reqs["n2"], 0} {
			if err := c.Send("n2", map[string]any{"type": "probe_ok", "from": "again", "in_reply_to": id}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if stray.Load() || len(got) != 0 {
			t.Error("an unsolicited reply was dispatched")
		}
		if c := strings.Count(logs.String(), "nothing is waiting for it"); c != 2 {
			t.Errorf("logged %d dropped replies, want 2:\n%s", c, logs)
		}
	})
}

func TestCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, logs := newNode()
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1", "n2"})

		// Success: the reply comes back as a message.
		done := make(chan error, 1)
		go func() {
			m, err := n.Call(t.Context(), "n2", map[string]any{"type": "read"})
			if err == nil && m.Type() != "read_ok" {
				err = fmt.Errorf("got %s", m.Body)
			}
			done <- err
		}()
		req := recv(t, c)
		id, _ := req.MsgID()
		c.Send("n2", map[string]any{"type": "read_ok", "in_reply_to": id})
		if err := <-done; err != nil {
			t.Fatalf("Call: %v", err)
		}

		// An error reply is returned as *RPCError, with the message.
		go func() {
			m, err := n.Call(t.Context(), "n2", map[string]any{"type": "read"})
			var e *node.RPCError
			if !errors.As(err, &e) || e.Code != node.Timeout || e.Text != "late" || m.Type() != "error" {
				err = fmt.Errorf("got %v, %s; want timeout error", err, m.Body)
			} else {
				err = nil
			}
			done <- err
		}()
		req = recv(t, c)
		id, _ = req.MsgID()
		c.Send("n2", map[string]any{"type": "error", "code": 0, "text": "late", "in_reply_to": id})
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		// Timeout: costs no wall time in the bubble; the late reply is
		// dropped with a log line.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		start := time.Now()
		go func() { done <- callErr(ctx, n) }()
		req = recv(t, c)
		err := <-done
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Call after deadline: %v", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Call gave up after %v, want 5s", d)
		}
		id, _ = req.MsgID()
		c.Send("n2", map[string]any{"type": "read_ok", "in_reply_to": id})
		synctest.Wait()
		if !strings.Contains(logs.String(), fmt.Sprintf("msg_id %d: nothing is waiting", id)) {
			t.Errorf("late reply not logged as dropped:\n%s", logs)
		}

		// Cancellation.
		ctx, cancel = context.WithCancel(t.Context())
		go func() { done <- callErr(ctx, n) }()
		recv(t, c)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Call: %v", err)
		}
		// An already cancelled context sends nothing.
		if _, err := n.Call(ctx, "n2", map[string]any{"type": "read"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Call with cancelled ctx: %v", err)
		}
		synctest.Wait()
		if m, err := c.Recv(canceled(t)); err == nil {
			t.Errorf("Call with a cancelled ctx sent %s", m.Body)
		}
	})
}

// callErr makes a call that nobody will answer and returns its error.
func callErr(ctx context.Context, n *node.Node) error {
	_, err := n.Call(ctx, "n2", map[string]any{"type": "read"})
	return err
}

// canceled returns an already cancelled context, for non-blocking Recv.
func canceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func TestInputEndStopsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		var ticks atomic.Int64
		bgDone := make(chan error, 1)
		n.Go(func(ctx context.Context) {
			tk := time.NewTicker(100 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					time.Sleep(time.Second) // slow cleanup: Run must wait for it
					bgDone <- ctx.Err()
					return
				case <-tk.C:
					ticks.Add(1)
				}
			}
		})
		callErr := make(chan error, 1)
		handlerReturned := make(chan struct{})
		n.Handle("forward", func(msg node.Message) error {
			defer close(handlerReturned)
			// Never answered, no deadline: only the end of input frees it.
			_, err := n.Call(context.Background(), "n2", map[string]any{"type": "x"})
			callErr <- err
			return err
		})
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1", "n2"})
		c.Send("c1", map[string]any{"type": "forward", "msg_id": 1})
		time.Sleep(time.Second)
		if err := c.Close(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		select {
		case <-handlerReturned:
		default:
			t.Fatal("Run returned before the handler")
		}
		if err := <-callErr; !errors.Is(err, node.ErrClosed) {
			t.Errorf("pending Call got %v, want ErrClosed", err)
		}
		select {
		case err := <-bgDone:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("background ctx err = %v", err)
			}
		default:
			t.Fatal("Run returned before the Go goroutine")
		}
		if got := ticks.Load(); got < 9 || got > 10 {
			t.Errorf("ticker ran %d times in 1s, want about 10", got)
		}
		if err := n.Send("n2", node.Body{Type: "late"}); err == nil {
			t.Error("Send after Run returned succeeded")
		}
		if _, err := n.Call(context.Background(), "n2", node.Body{Type: "late"}); !errors.Is(err, node.ErrClosed) {
			t.Errorf("Call after the input ended: %v, want ErrClosed", err)
		}
	})
}

func TestMalformedLinesAreSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, logs := newNode()
		handleEcho(n)
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1"})
		bad := []string{
			`not json`,
			`{"src":"c1","dest":"n1","body":{"type":"echo"`,
			`[1,2]`,
			`{"dest":"n1","body":{"type":"echo","msg_id":1}}`,
			`{"src":"c1","body":{"type":"echo","msg_id":1}}`,
			`{"src":7,"dest":"n1","body":{"type":"echo","msg_id":1}}`,
			`{"src":"c1","dest":"n1"}`,
			`{"src":"c1","dest":"n1","body":[1]}`,
			`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":1.5}}`,
			`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":"1"}}`,
			`{"src":"c1","dest":"n1","body":{"type":3,"msg_id":1}}`,
			`{"src":"c1","dest":"n1","body":{"type":"echo","in_reply_to":true}}`,
			`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":1}} trailing`,
			`{"src":"c1","dest":"n1","body":{"type":"echo","echo":"` + strings.Repeat("x", 5000), // truncated in the log
		}
		for _, line := range bad {
			if err := c.WriteLine(line); err != nil {
				t.Fatal(err)
			}
		}
		c.WriteLine("")
		c.WriteLine("   ")
		m := call(t, c, "c1", map[string]any{"type": "echo", "echo": "still alive"})
		wantBody(t, m, fmt.Sprintf(`{"type":"echo_ok","echo":"still alive","in_reply_to":%d}`, must(m.InReplyTo())))
		synctest.Wait()
		if got := strings.Count(logs.String(), "skipping malformed input line"); got != len(bad) {
			t.Errorf("logged %d malformed lines, want %d:\n%s", got, len(bad), logs)
		}
		if !strings.Contains(logs.String(), "not json") {
			t.Error("log does not show the malformed line")
		}
		if strings.Contains(logs.String(), strings.Repeat("x", 1000)) || !strings.Contains(logs.String(), "bytes)") {
			t.Error("a long malformed line is not truncated in the log")
		}
		if m, err := c.Recv(canceled(t)); err == nil {
			t.Errorf("node answered a malformed line: %s", m.Body)
		}
	})
}

// must drops the ok of a (value, ok) pair.
func must(v int, _ bool) int { return v }

func TestHugeLineAndUnknownFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		handleEcho(n)
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1"})
		huge := strings.Repeat("0123456789abcdef", 1<<17) // 2 MiB
		m := call(t, c, "c1", map[string]any{"type": "echo", "echo": huge})
		var b echoBody
		if err := m.Unmarshal(&b); err != nil {
			t.Fatal(err)
		}
		if string(b.Echo) != `"`+huge+`"` {
			t.Errorf("huge echo came back with %d bytes", len(b.Echo))
		}
		// Maelstrom's "id" and any other unknown top-level keys are ignored.
		c.WriteLine(`{"id":3,"extra":{"a":[1]},"body":{"echo":1.0,"type":"echo","msg_id":77},"dest":"n1","src":"c9"}`)
		m = recv(t, c)
		if m.Dest != "c9" {
			t.Errorf("reply to %s, want c9", m.Dest)
		}
		if !strings.Contains(string(m.Body), `"echo":1.0`) {
			t.Errorf("echo of 1.0 = %s; the value must come back verbatim", m.Body)
		}
	})
}

func TestConcurrentHandlersDoNotInterleave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		const N = 50
		var active atomic.Int64
		release := make(chan struct{})
		big := strings.Repeat("y", 100<<10)
		n.Handle("work", func(msg node.Message) error {
			active.Add(1)
			<-release
			return n.Reply(msg, map[string]string{"type": "work_ok", "pad": big})
		})
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1"})
		for i := range N {
			c.Send(fmt.Sprintf("c%d", i), map[string]any{"type": "work", "msg_id": i})
		}
		synctest.Wait()
		if got := active.Load(); got != N {
			t.Fatalf("%d handlers running at once, want all %d", got, N)
		}
		close(release)
		seen := map[string]bool{}
		for range N {
			m := recv(t, c) // nodetest fails the test on any line that is not one whole message
			if len(m.Body) < len(big) {
				t.Fatalf("short body: %d bytes", len(m.Body))
			}
			seen[m.Dest] = true
		}
		if len(seen) != N {
			t.Errorf("replies reached %d clients, want %d", len(seen), N)
		}
	})
}

func TestHandleRegistration(t *testing.T) {
	n, _ := newNode()
	n.Handle("x", func(node.Message) error { return nil })
	for name, f := range map[string]func(){
		"duplicate": func() { n.Handle("x", func(node.Message) error { return nil }) },
		"nil":       func() { n.Handle("y", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s registration did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestSendNeedsIDAndRunningNode(t *testing.T) {
	n, _ := newNode()
	if err := n.Send("n2", node.Body{Type: "x"}); err == nil || !strings.Contains(err.Error(), "no id") {
		t.Errorf("Send before init: %v", err)
	}
	n.Init("n1", []string{"n1", "n2"})
	if err := n.Send("n2", node.Body{Type: "x"}); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("Send before Run: %v", err)
	}
	for _, body := range []any{nil, "str", []int{1}, make(chan int)} {
		if err := n.Send("n2", body); err == nil {
			t.Errorf("Send(%T) accepted a body that is not an object", body)
		}
	}
	if err := n.RPC("n2", node.Body{Type: "x"}, nil); err == nil {
		t.Error("RPC with nil callback accepted")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("pipe broken") }

// failReader returns some input, then an error.
type failReader struct{ r io.Reader }

func (f *failReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk gone")
	}
	return n, err
}

func TestRunErrors(t *testing.T) {
	initLine := `{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}` + "\n"

	n, _ := newNode()
	err := n.Run(strings.NewReader(initLine), failWriter{})
	if err == nil || !strings.Contains(err.Error(), "write output: pipe broken") {
		t.Errorf("Run with a broken writer: %v", err)
	}
	if err := n.Run(strings.NewReader(""), io.Discard); err == nil {
		t.Error("second Run succeeded")
	}

	n, _ = newNode()
	var out bytes.Buffer
	err = n.Run(&failReader{strings.NewReader(initLine)}, &out)
	if err == nil || !strings.Contains(err.Error(), "read input: disk gone") {
		t.Errorf("Run with a failing reader: %v", err)
	}
	if !strings.Contains(out.String(), "init_ok") {
		t.Errorf("input before the read error was not handled: %q", out.String())
	}
}

func TestRunFlushesBufferedWriter(t *testing.T) {
	n, _ := newNode()
	handleEcho(n)
	in := `{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}` + "\n" +
		`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":1,"echo":[1,{"a":null}]}}` // no final newline
	var out bytes.Buffer
	if err := n.Run(strings.NewReader(in), bufio.NewWriterSize(&out, 1<<20)); err != nil {
		t.Fatal(err)
	}
	want := `{"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1}}` + "\n" +
		`{"src":"n1","dest":"c1","body":{"type":"echo_ok","echo":[1,{"a":null}],"in_reply_to":1}}` + "\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestEnvelopeEscapesIDs(t *testing.T) {
	n, _ := newNode()
	n.Init("n\"1\n", []string{"n\"1\n"})
	var out bytes.Buffer
	n.Handle("go", func(msg node.Message) error { return n.Send("dé\\st", node.Body{Type: "x"}) })
	if err := n.Run(strings.NewReader(`{"src":"c1","dest":"n","body":{"type":"go"}}`), &out); err != nil {
		t.Fatal(err)
	}
	var m node.Message
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if m.Src != "n\"1\n" || m.Dest != "dé\\st" {
		t.Errorf("src %q dest %q", m.Src, m.Dest)
	}
}

// Inline handlers run in arrival order, and a request that arrives after
// an inline message sees its effect.
func TestHandleInlineOrdersMessages(t *testing.T) {
	n, _ := newNode()
	var mu sync.Mutex
	var applied []int
	n.HandleInline("apply", func(msg node.Message) error {
		var b struct {
			Seq int `json:"seq"`
		}
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		applied = append(applied, b.Seq)
		mu.Unlock()
		return nil
	})
	n.Handle("count", func(msg node.Message) error {
		mu.Lock()
		c := len(applied)
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "count_ok", "count": c})
	})
	c := nodetest.Start(t, n)
	c.Init("n1", []string{"n1"})
	const rounds = 300
	for i := range rounds {
		c.Send("n2", map[string]any{"type": "apply", "seq": i})
		c.Send("c1", map[string]any{"type": "count", "msg_id": i + 1, "after": i + 1})
	}
	for range rounds {
		m := recv(t, c)
		b := bodyMap(t, m)
		got, _ := b["count"].(json.Number).Int64()
		after, _ := b["in_reply_to"].(json.Number).Int64()
		if got < after {
			t.Fatalf("count request %d saw %d applied messages; the %d sent before it must all be applied", after, got, after)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, seq := range applied {
		if seq != i {
			t.Fatalf("inline messages applied out of order: %v", applied[:i+1])
		}
	}
}

// Every runs its function once per interval, from one interval after the
// call, never two runs at once, until the input ends; Run waits for a
// run in progress.
func TestEveryTicksUntilTheNodeStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		var runs, running, overlaps atomic.Int64
		finished := make(chan struct{})
		n.Every(10*time.Millisecond, func(ctx context.Context) {
			if running.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer running.Add(-1)
			if runs.Add(1) == 5 {
				time.Sleep(25 * time.Millisecond) // over two intervals: one tick waits, one is dropped
			}
			if ctx.Err() != nil {
				close(finished)
			}
		})
		c := nodetest.Start(t, n)
		c.Init("n1", []string{"n1"})
		time.Sleep(45 * time.Millisecond)
		if got := runs.Load(); got != 4 {
			t.Errorf("%d runs in 45 ms at 10 ms, want 4", got)
		}
		// Run 5 at 50 ms holds until 75 ms: the tick at 60 waits and runs
		// at 75, the one at 70 is dropped; then 80, 90, 100.
		time.Sleep(60 * time.Millisecond)
		if got := runs.Load(); got != 9 {
			t.Errorf("%d runs after 105 ms with one run of 25 ms, want 9", got)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		after := runs.Load()
		time.Sleep(100 * time.Millisecond)
		if runs.Load() != after {
			t.Error("Every kept running after the node stopped")
		}
		if overlaps.Load() != 0 {
			t.Errorf("%d overlapping runs", overlaps.Load())
		}
		select {
		case <-finished:
			t.Error("a run saw a cancelled context: it started after the node stopped")
		default:
		}
	})
}
