// Package nodetest runs a [node.Node] in-process over in-memory pipes so
// tests can talk to it as the bench would: send requests from clients,
// wait for replies, and see every other message the node sends (to peers
// or services) in order.
//
//	n := node.New(node.WithLogOutput(t.Output()))
//	echo.Register(n)
//	c := nodetest.Start(t, n)
//	c.Init("n0", []string{"n0"})
//	reply, err := c.Call(ctx, "c1", map[string]any{"type": "echo", "echo": "hi"})
//
// Everything Start creates stops when the test ends (or at [Conn.Close]),
// so a Conn may be used inside a testing/synctest bubble.
package nodetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
)

// Conn is a connection to one node running in-process.
type Conn struct {
	t      testing.TB
	in     *io.PipeWriter
	runErr chan error    // Run's result, once
	read   chan struct{} // closed when the output reader has stopped

	nextID atomic.Int64

	mu      sync.Mutex
	nodeID  string // from Init; the dest of messages to the node
	waiting map[waitKey]chan node.Message
	inbox   []node.Message
	arrived chan struct{} // signalled (cap 1) when inbox grows or output ends
	ended   bool          // the node's output has ended

	closeOnce sync.Once
	closeErr  error
}

// waitKey identifies the reply a Call waits for.
type waitKey struct {
	client string
	msgID  int
}

// ErrEnded is returned by [Conn.Recv] and [Conn.Call] once the node's
// output has ended.
var ErrEnded = errors.New("nodetest: node output ended")

// Start runs n.Run on in-memory pipes and returns a connection to it. The
// node is stopped when the test ends (see [Conn.Close]); a non-nil error
// from Run then fails the test.
//
// Every line the node writes is checked as the bench would: a JSON object
// with exactly the keys src, dest and body, the body an object. A
// violation fails the test.
func Start(t testing.TB, n *node.Node) *Conn {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &Conn{
		t:       t,
		in:      inW,
		runErr:  make(chan error, 1),
		read:    make(chan struct{}),
		waiting: make(map[waitKey]chan node.Message),
		arrived: make(chan struct{}, 1),
	}
	go func() {
		err := n.Run(inR, outW)
		outW.Close()
		c.runErr <- err
	}()
	go c.readOutput(outR)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("nodetest: node.Run: %v", err)
		}
	})
	return c
}

// Close ends the node's input and waits until Run has returned and all
// output has been read. It returns Run's error. Calling Close again
// returns the same result.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.in.Close()
		c.closeErr = <-c.runErr
		<-c.read
	})
	return c.closeErr
}

// WriteLine writes one raw line (a newline is added) to the node's input.
func (c *Conn) WriteLine(line string) error {
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		return fmt.Errorf("nodetest: write to node: %w", err)
	}
	return nil
}

// Send delivers body to the node as a message from src, unchanged. The
// message's dest is the id given to [Conn.Init], or "n0" before.
func (c *Conn) Send(src string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("nodetest: encode body: %w", err)
	}
	c.mu.Lock()
	dest := c.nodeID
	c.mu.Unlock()
	if dest == "" {
		dest = "n0"
	}
	line, err := json.Marshal(node.Message{Src: src, Dest: dest, Body: b})
	if err != nil {
		return fmt.Errorf("nodetest: encode message: %w", err)
	}
	return c.WriteLine(string(line))
}

// Call sends body from the client (or any endpoint) src with a fresh
// msg_id and waits for the node's reply to it. An error reply is returned
// as a message like any other; check [node.Message.RPCError].
func (c *Conn) Call(ctx context.Context, src string, body any) (node.Message, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return node.Message{}, fmt.Errorf("nodetest: encode body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return node.Message{}, fmt.Errorf("nodetest: body must be a JSON object: %w", err)
	}
	id := int(c.nextID.Add(1))
	fields["msg_id"] = json.RawMessage(fmt.Sprint(id))
	key := waitKey{src, id}
	ch := make(chan node.Message, 1)
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return node.Message{}, ErrEnded
	}
	c.waiting[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, key)
		c.mu.Unlock()
	}()
	if err := c.Send(src, fields); err != nil {
		return node.Message{}, err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return node.Message{}, ErrEnded
		}
		return m, nil
	case <-ctx.Done():
		return node.Message{}, fmt.Errorf("nodetest: call from %s (msg_id %d): %w", src, id, ctx.Err())
	}
}

// Init performs the init handshake, as client "c0", and fails the test
// unless the node answers init_ok within 10 s, the bench's limit.
func (c *Conn) Init(id string, ids []string) {
	c.t.Helper()
	c.mu.Lock()
	c.nodeID = id
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.Call(ctx, "c0", node.InitBody{
		Body: node.Body{Type: "init"}, NodeID: id, NodeIDs: ids,
	})
	if err != nil {
		c.t.Fatalf("nodetest: init: %v", err)
	}
	if m.Type() != "init_ok" {
		c.t.Fatalf("nodetest: init answered with %s", m.Body)
	}
}

// Recv returns the next message the node sent that no Call was waiting
// for: messages to peers and services, replies to Send, late replies. It
// returns ErrEnded once the output has ended and every message has been
// received.
func (c *Conn) Recv(ctx context.Context) (node.Message, error) {
	for {
		c.mu.Lock()
		if len(c.inbox) > 0 {
			m := c.inbox[0]
			c.inbox = c.inbox[1:]
			c.mu.Unlock()
			return m, nil
		}
		ended := c.ended
		c.mu.Unlock()
		if ended {
			return node.Message{}, ErrEnded
		}
		select {
		case <-c.arrived:
		case <-ctx.Done():
			return node.Message{}, fmt.Errorf("nodetest: recv: %w", ctx.Err())
		}
	}
}

// readOutput reads, checks and routes the node's output until it ends.
func (c *Conn) readOutput(r io.Reader) {
	defer close(c.read)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			c.route(line)
		}
		if err != nil {
			break
		}
	}
	c.mu.Lock()
	c.ended = true
	for k, ch := range c.waiting {
		close(ch)
		delete(c.waiting, k)
	}
	c.mu.Unlock()
	c.signal()
}

// route checks one output line and hands it to a waiting Call or the
// inbox.
func (c *Conn) route(line []byte) {
	m, err := check(line)
	if err != nil {
		c.t.Errorf("nodetest: node wrote a bad line: %v: %s", err, line)
		return
	}
	c.mu.Lock()
	if c.nodeID != "" && m.Src != c.nodeID {
		c.t.Errorf("nodetest: node initialised as %s wrote a message from %q: %s", c.nodeID, m.Src, line)
	}
	if id, ok := m.InReplyTo(); ok {
		if ch, ok := c.waiting[waitKey{m.Dest, id}]; ok {
			delete(c.waiting, waitKey{m.Dest, id})
			c.mu.Unlock()
			ch <- m
			return
		}
	}
	c.inbox = append(c.inbox, m)
	c.mu.Unlock()
	c.signal()
}

// signal wakes a Recv without blocking.
func (c *Conn) signal() {
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}

// check validates an output line the way the bench does and decodes it.
func check(line []byte) (node.Message, error) {
	if !bytes.HasSuffix(line, []byte("\n")) {
		return node.Message{}, errors.New("line does not end with a newline")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return node.Message{}, fmt.Errorf("not a JSON object: %w", err)
	}
	for k := range fields {
		if k != "src" && k != "dest" && k != "body" {
			return node.Message{}, fmt.Errorf("unexpected top-level key %q", k)
		}
	}
	var m node.Message
	if err := json.Unmarshal(line, &m); err != nil {
		return node.Message{}, err
	}
	if m.Src == "" || m.Dest == "" {
		return node.Message{}, errors.New("missing src or dest")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(m.Body), []byte("{")) {
		return node.Message{}, errors.New("body is not an object")
	}
	// Maelstrom's schemas want ids as integer literals.
	var ids struct {
		MsgID     json.RawMessage `json:"msg_id"`
		InReplyTo json.RawMessage `json:"in_reply_to"`
	}
	if err := json.Unmarshal(m.Body, &ids); err != nil {
		return node.Message{}, fmt.Errorf("body: %w", err)
	}
	for name, raw := range map[string]json.RawMessage{"msg_id": ids.MsgID, "in_reply_to": ids.InReplyTo} {
		if raw == nil || string(raw) == "null" {
			continue
		}
		if _, err := strconv.ParseInt(string(raw), 10, 64); err != nil {
			return node.Message{}, fmt.Errorf("%s must be an integer, got %s", name, raw)
		}
	}
	return m, nil
}
