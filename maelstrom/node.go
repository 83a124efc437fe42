package maelstrom

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/glomers/glomers/node"
)

// HandlerFunc handles a message: a request of the type it was registered
// for, or the reply an RPC's callback receives.
type HandlerFunc func(msg Message) error

// Node is one Maelstrom node. Build it with [NewNode], register handlers
// with [Node.Handle], then call [Node.Run]. Its methods may be called
// from any goroutine.
type Node struct {
	// Stdin is where Run reads messages from (os.Stdin after NewNode).
	Stdin io.Reader
	// Stdout is where the node writes its messages (os.Stdout after
	// NewNode).
	Stdout io.Writer

	n *node.Node

	mu       sync.Mutex
	handlers map[string]HandlerFunc

	stopped atomic.Bool // Run has returned
}

// NewNode returns a node that reads os.Stdin and writes os.Stdout, and
// logs to os.Stderr.
func NewNode() *Node { return newNode(os.Stderr) }

// newNode returns a node whose own log lines go to logs.
func newNode(logs io.Writer) *Node {
	return &Node{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		n:        node.New(node.WithLogOutput(logs)),
		handlers: make(map[string]HandlerFunc),
	}
}

// Init sets the node's id and the ids of every node, as the init message
// does; unit tests call it to skip the handshake.
func (n *Node) Init(id string, nodeIDs []string) { n.n.Init(id, nodeIDs) }

// ID returns the node's id, such as "n1" ("" before init).
func (n *Node) ID() string { return n.n.ID() }

// NodeIDs returns the ids of every node of the test, this one included,
// in the same order on every node (nil before init).
func (n *Node) NodeIDs() []string { return n.n.NodeIDs() }

// Handle registers fn for messages whose type is typ. It panics if typ
// already has a handler. Each message runs its handler in a goroutine of
// its own. A handler that returns an *RPCError answers the request with
// it; any other error is answered with code Crash and the error's text.
//
// The "init" handler, if any, runs once the node knows its id, before
// the node answers init_ok itself; it must not reply.
func (n *Node) Handle(typ string, fn HandlerFunc) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.handlers[typ]; ok {
		panic(fmt.Sprintf("duplicate message handler for %q message type", typ))
	}
	n.handlers[typ] = fn
	switch {
	case fn == nil:
	case typ == "init":
		n.n.Handle(typ, n.wrapInit(fn))
	default:
		n.n.Handle(typ, n.wrap(fn))
	}
}

// handler returns the handler registered for typ, or nil.
func (n *Node) handler(typ string) HandlerFunc {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.handlers[typ]
}

// wrap adapts a handler to the node package and sends its error replies
// as the demo library does: an *RPCError (not one wrapped in another
// error) with its own code, any other error as Crash, and to a request
// without msg_id with "in_reply_to": 0.
func (n *Node) wrap(fn HandlerFunc) node.HandlerFunc {
	return func(m node.Message) error {
		msg := fromNode(m)
		err := fn(msg)
		if err == nil {
			return nil
		}
		e, ok := err.(*RPCError)
		if !ok || e == nil {
			n.n.Logf("Exception handling %s from %s: %s", msg.Type(), msg.Src, err)
			e = NewRPCError(Crash, err.Error())
		}
		if rerr := n.Reply(msg, e); rerr != nil {
			n.n.Logf("reply error: %s", rerr)
		}
		return nil
	}
}

// wrapInit adapts the init handler: the node package answers init, with
// init_ok or with the handler's error (Crash unless it is an *RPCError).
func (n *Node) wrapInit(fn HandlerFunc) node.HandlerFunc {
	return func(m node.Message) error {
		err := fn(fromNode(m))
		if err == nil {
			return nil
		}
		if e, ok := err.(*RPCError); ok && e != nil {
			return node.NewRPCError(e.Code, e.Text)
		}
		return errors.New(err.Error())
	}
}

// Run reads messages from Stdin and dispatches them until Stdin ends,
// then waits for the handlers in flight and returns nil. It returns an
// error, as the demo library's Run does, for a line that is not a JSON
// message, for a request of a type without a handler ("No handler for
// <line>") and when reading fails; Run also returns the first error
// writing to Stdout. Run may be called once.
func (n *Node) Run() error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- n.n.Run(pr, n.Stdout) }()
	ferr := n.feed(pw)
	pw.Close()
	rerr := <-done
	n.stopped.Store(true)
	if ferr != nil {
		return ferr
	}
	return rerr
}

// feed reads the input line by line, applies the demo library's routing
// and passes the messages on to the node package, which dispatches them.
func (n *Node) feed(w io.Writer) error {
	br := bufio.NewReaderSize(n.Stdin, 64<<10)
	var out []byte
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			line = bytes.TrimRight(line, "\r\n")
			var rerr error
			if out, rerr = n.route(out[:0], line); rerr != nil {
				return rerr
			}
			if _, werr := w.Write(out); werr != nil {
				return fmt.Errorf("pass message on: %w", werr)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// readLine returns the next line however long it is.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	long := slices.Clone(line)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = br.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// route decodes one line as the demo library does and appends, for the
// node package, the message it stands for to out. A message whose
// in_reply_to is 0 is a request to the demo library, so the key is
// dropped (the node package would take it for a reply).
func (n *Node) route(out, line []byte) ([]byte, error) {
	var msg Message
	if err := json.Unmarshal(line, &msg); err != nil {
		return nil, fmt.Errorf("unmarshal message: %w", err)
	}
	var body MessageBody
	if err := json.Unmarshal(msg.Body, &body); err != nil {
		return nil, fmt.Errorf("unmarshal message body: %w", err)
	}
	b := []byte(msg.Body)
	if body.InReplyTo == 0 {
		if body.Type != "init" && n.handler(body.Type) == nil {
			//lint:ignore ST1005 the demo library's own text, which ported code may match
			return nil, fmt.Errorf("No handler for %s", line)
		}
		if bytes.Contains(b, []byte(`in_reply_to`)) {
			var err error
			if b, err = dropKey(b, "in_reply_to"); err != nil {
				return nil, fmt.Errorf("unmarshal message body: %w", err)
			}
		}
	}
	src, _ := json.Marshal(msg.Src)
	dest, _ := json.Marshal(msg.Dest)
	out = append(out, `{"src":`...)
	out = append(out, src...)
	out = append(out, `,"dest":`...)
	out = append(out, dest...)
	out = append(out, `,"body":`...)
	out = append(out, b...)
	return append(out, "}\n"...), nil
}

// dropKey returns the JSON object obj without key.
func dropKey(obj []byte, key string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	if _, ok := m[key]; !ok {
		return obj, nil
	}
	delete(m, key)
	return json.Marshal(m)
}

// Reply sends body to req.Src with "in_reply_to" set to req's msg_id (0
// when req has none, as in the demo library).
func (n *Node) Reply(req Message, body any) error {
	var rb MessageBody
	if err := json.Unmarshal(req.Body, &rb); err != nil {
		return err
	}
	b, err := setKey(body, "in_reply_to", rb.MsgID)
	if err != nil {
		return err
	}
	return n.Send(req.Src, b)
}

// setKey returns body, encoded, with key set to v.
func setKey(body any, key string, v int) (json.RawMessage, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf, &m); err != nil {
		return nil, err
	}
	if m == nil { // the body was null
		m = map[string]json.RawMessage{}
	}
	m[key] = json.RawMessage(fmt.Sprint(v))
	return json.Marshal(m)
}

// Send sends body, which must encode to a JSON object, to dest.
func (n *Node) Send(dest string, body any) error {
	n.exitIfStopped()
	err := n.n.Send(dest, body)
	if err != nil {
		n.exitIfStopped()
	}
	return err
}

// RPC sends body to dest as a request with a fresh msg_id and runs
// handler, in a goroutine of its own, with the reply when it comes. An
// error handler returns is logged.
func (n *Node) RPC(dest string, body any, handler HandlerFunc) error {
	n.exitIfStopped()
	err := n.n.RPC(dest, body, func(m node.Message) error {
		if handler == nil {
			return nil
		}
		return handler(fromNode(m))
	})
	if err != nil {
		n.exitIfClosed(err)
	}
	return err
}

// SyncRPC sends body to dest as a request and waits for the reply or for
// ctx to end. A reply carrying an error ([Message.RPCError]) is returned
// together with that *RPCError; when ctx ends first, SyncRPC returns
// ctx.Err() and forgets the request.
func (n *Node) SyncRPC(ctx context.Context, dest string, body any) (Message, error) {
	n.exitIfStopped()
	m, err := n.n.Call(ctx, dest, body)
	if err != nil {
		var re *node.RPCError
		switch {
		case errors.As(err, &re):
			// An error reply: judged below, as the demo library judges it.
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return Message{}, ctx.Err()
		default:
			n.exitIfClosed(err)
			return Message{}, err
		}
	}
	msg := fromNode(m)
	if e := msg.RPCError(); e != nil {
		return msg, e
	}
	return msg, nil
}

// exitIfStopped ends the calling goroutine once Run has returned: nothing
// it sends can be delivered any more (see the package documentation).
func (n *Node) exitIfStopped() {
	if n.stopped.Load() {
		runtime.Goexit()
	}
}

// exitIfClosed ends the calling goroutine when err says the node's input
// has ended, so that no reply can come.
func (n *Node) exitIfClosed(err error) {
	if errors.Is(err, node.ErrClosed) {
		runtime.Goexit()
	}
	n.exitIfStopped()
}

// Message is a message from Src to Dest. Body is the raw JSON body, for
// handlers to decode into their own types.
type Message struct {
	Src  string          `json:"src,omitempty"`
	Dest string          `json:"dest,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// fromNode converts a node package message.
func fromNode(m node.Message) Message {
	return Message{Src: m.Src, Dest: m.Dest, Body: m.Body}
}

// Type returns the body's "type", or "" when it is missing or the body
// cannot be decoded.
func (m *Message) Type() string {
	var body MessageBody
	if err := json.Unmarshal(m.Body, &body); err != nil {
		return ""
	}
	return body.Type
}

// RPCError returns the error the body carries: a body with a non-zero
// "code", or of type "error", is an error (an error body with code 0 is a
// Timeout, which the demo library ignores). A body that cannot be decoded
// is reported as a Crash. It returns nil for any other body.
func (m *Message) RPCError() *RPCError {
	var body MessageBody
	if err := json.Unmarshal(m.Body, &body); err != nil {
		return NewRPCError(Crash, err.Error())
	}
	if body.Code == 0 && body.Type != "error" {
		return nil
	}
	return NewRPCError(body.Code, body.Text)
}

// MessageBody holds the reserved keys of a message body; embed it in
// your own body types.
type MessageBody struct {
	// Type is the message type, such as "echo" or "read_ok".
	Type string `json:"type,omitempty"`
	// MsgID, optional, identifies a request among its sender's messages.
	MsgID int `json:"msg_id,omitempty"`
	// InReplyTo, in a reply, is the msg_id of the request it answers.
	InReplyTo int `json:"in_reply_to,omitempty"`
	// Code is an error reply's error code.
	Code int `json:"code,omitempty"`
	// Text is an error reply's explanation.
	Text string `json:"text,omitempty"`
}

// InitMessageBody is the body of the init message.
type InitMessageBody struct {
	MessageBody
	NodeID  string   `json:"node_id,omitempty"`
	NodeIDs []string `json:"node_ids,omitempty"`
}
