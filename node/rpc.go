package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ErrClosed is returned by [Node.Call] and [Node.RPC] once the node's
// input has ended: no reply can arrive any more.
var ErrClosed = errors.New("node: input closed, no reply can arrive")

// pendingReply is what waits for the reply to one of our requests: a
// channel for Call (buffered, so delivery never blocks) or a callback for
// RPC.
type pendingReply struct {
	ch chan Message
	cb HandlerFunc
}

// Send sends body to dest as a fire-and-forget message: no msg_id is
// added, so the receiver will not reply. body may be any value that
// encodes to a JSON object (a struct embedding [Body], a map[string]any,
// a json.RawMessage). It fails before init, since a message needs the
// node's id as its src.
func (n *Node) Send(dest string, body any) error {
	b, err := encodeBody(body)
	if err != nil {
		return err
	}
	return n.write(dest, b)
}

// Reply answers req: it sends body to req.Src with "in_reply_to" set to
// req's msg_id (replacing any in_reply_to in body). When req has no
// msg_id the sender asked for no answer, and Reply sends nothing and
// returns nil; this lets one handler serve both requests and
// fire-and-forget notifications.
func (n *Node) Reply(req Message, body any) error {
	id, ok := req.MsgID()
	if !ok {
		return nil
	}
	return n.reply(n.ID(), req.Src, id, body)
}

// reply sends body from src to dest in reply to msg_id id.
func (n *Node) reply(src, dest string, id int, body any) error {
	b, err := encodeBody(body)
	if err != nil {
		return err
	}
	if b, err = setIntKey(b, "in_reply_to", id); err != nil {
		return err
	}
	return n.writeFrom(src, dest, b)
}

// RPC sends body to dest as a request with a fresh msg_id (a per-node
// counter starting at 1, replacing any msg_id in body) and arranges for
// cb to run, in a goroutine of its own, with the reply. cb runs at most
// once: never if no reply arrives (there is no timeout; use [Node.Call]
// for that), and an error reply is passed to cb like any other (check
// [Message.RPCError]). An error returned by cb is logged.
func (n *Node) RPC(dest string, body any, cb HandlerFunc) error {
	if cb == nil {
		return errors.New("node: RPC: nil callback")
	}
	_, err := n.request(dest, body, pendingReply{cb: cb})
	return err
}

// Call sends body to dest as a request (as [Node.RPC] does) and waits for
// the reply or for ctx to be done.
//
// An error reply is returned as the reply message together with its
// *[RPCError] (unwrapped, so ErrorCode and errors.As both work). If ctx
// is done first, Call returns an error wrapping ctx.Err() and forgets the
// request: a reply arriving later is logged and dropped. If the node's
// input ends first, Call returns an error wrapping [ErrClosed].
func (n *Node) Call(ctx context.Context, dest string, body any) (Message, error) {
	if err := ctx.Err(); err != nil {
		return Message{}, fmt.Errorf("node: call %s: %w", dest, err)
	}
	ch := make(chan Message, 1)
	id, err := n.request(dest, body, pendingReply{ch: ch})
	if err != nil {
		return Message{}, err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return Message{}, fmt.Errorf("node: call %s (msg_id %d): %w", dest, id, ErrClosed)
		}
		if e := m.RPCError(); e != nil {
			return m, e
		}
		return m, nil
	case <-ctx.Done():
		n.forget(id)
		return Message{}, fmt.Errorf("node: call %s (msg_id %d): %w", dest, id, ctx.Err())
	}
}

// SyncRPC is [Node.Call], under the name Jepsen's Go library uses.
func (n *Node) SyncRPC(ctx context.Context, dest string, body any) (Message, error) {
	return n.Call(ctx, dest, body)
}

// request assigns a msg_id, registers p to receive the reply and sends
// the request.
func (n *Node) request(dest string, body any, p pendingReply) (int, error) {
	b, err := encodeBody(body)
	if err != nil {
		return 0, err
	}
	id := int(n.nextMsgID.Add(1))
	if b, err = setIntKey(b, "msg_id", id); err != nil {
		return 0, err
	}
	n.pmu.Lock()
	if n.closed {
		n.pmu.Unlock()
		return 0, fmt.Errorf("node: request to %s: %w", dest, ErrClosed)
	}
	n.pending[id] = p
	n.pmu.Unlock()
	if err := n.write(dest, b); err != nil {
		n.forget(id)
		return 0, err
	}
	return id, nil
}

// forget drops the callback for msg_id id, if it is still registered.
func (n *Node) forget(id int) {
	n.pmu.Lock()
	delete(n.pending, id)
	n.pmu.Unlock()
}

// deliverReply hands a reply to whatever waits for it, or logs and drops
// it when nothing does (a late reply after a Call gave up, or an
// unsolicited one).
func (n *Node) deliverReply(in inbound) {
	id := in.hdr.InReplyTo.v
	n.pmu.Lock()
	p, ok := n.pending[id]
	delete(n.pending, id)
	n.pmu.Unlock()
	switch {
	case !ok:
		n.Logf("node: dropping reply from %s to msg_id %d: nothing is waiting for it: %s", in.msg.Src, id, truncate(in.msg.Body, 500))
	case p.ch != nil:
		p.ch <- in.msg
	default:
		n.spawn(func() {
			if err := n.invoke(p.cb, in.msg); err != nil {
				n.Logf("node: callback for reply from %s to msg_id %d: %v", in.msg.Src, id, err)
			}
		})
	}
}

// failPending runs when the input ends: it wakes every waiting Call with
// ErrClosed and drops RPC callbacks, and makes later requests fail.
func (n *Node) failPending() {
	n.pmu.Lock()
	pending := n.pending
	n.pending = nil
	n.closed = true
	n.pmu.Unlock()
	dropped := 0
	for _, p := range pending {
		if p.ch != nil {
			close(p.ch)
		} else {
			dropped++
		}
	}
	if dropped > 0 {
		n.Logf("node: input ended with %d RPC callbacks still waiting; they will not run", dropped)
	}
}

// encodeBody encodes a message body, which must be a JSON object.
func encodeBody(body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("node: encode message body: %w", err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("node: message body must encode to a JSON object, got %s", truncate(b, 100))
	}
	return b, nil
}

// setIntKey sets key to v in obj, a valid JSON object as produced by
// json.Marshal, replacing any existing value (in place; repeats of the
// key are dropped). The common case, a body without that key and without
// escapes, appends the key without scanning the body.
func setIntKey(obj []byte, key string, v int) ([]byte, error) {
	quoted := `"` + key + `"`
	if !bytes.Contains(obj, []byte(quoted)) && bytes.IndexByte(obj, '\\') < 0 {
		if len(obj) == 2 { // {}
			obj = obj[:1]
		} else {
			obj = append(obj[:len(obj)-1], ',')
		}
		obj = append(obj, quoted...)
		obj = append(obj, ':')
		obj = strconv.AppendInt(obj, int64(v), 10)
		return append(obj, '}'), nil
	}
	// The key may be present (or spelled with escapes): rebuild the
	// object member by member.
	out := make([]byte, 1, len(obj)+len(quoted)+24)
	out[0] = '{'
	found := false
	err := members(obj, func(k, val []byte) error {
		if keyIs(k, key) {
			if found {
				return nil
			}
			found = true
			k, val = []byte(quoted), strconv.AppendInt(nil, int64(v), 10)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k...), ':'), val...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: set %s in message body: %w", key, err)
	}
	if !found {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, quoted...), ':'), strconv.AppendInt(nil, int64(v), 10)...)
	}
	return append(out, '}'), nil
}

// write sends one message from the node, the body already encoded, as
// one line.
func (n *Node) write(dest string, body []byte) error {
	return n.writeFrom(n.ID(), dest, body)
}

// writeFrom is write with the given src, which must not be empty.
func (n *Node) writeFrom(src, dest string, body []byte) error {
	if src == "" {
		return fmt.Errorf("node: send to %s: the node has no id yet (no init)", dest)
	}
	bp, _ := n.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	line := appendEnvelope((*bp)[:0], src, dest, body)
	err := n.writeLine(line, dest)
	if cap(line) <= 64<<10 { // keep the pool from pinning huge buffers
		*bp = line
		n.bufs.Put(bp)
	}
	return err
}

// writeLine writes one complete line with a single Write, then flushes w
// if it can.
func (n *Node) writeLine(line []byte, dest string) error {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	if n.werr != nil {
		return n.werr
	}
	if n.out == nil {
		return fmt.Errorf("node: send to %s: the node is not running", dest)
	}
	_, err := n.out.Write(line)
	if f, ok := n.out.(interface{ Flush() error }); ok && err == nil {
		err = f.Flush()
	}
	if err != nil {
		n.werr = fmt.Errorf("node: write output: %w", err)
		return n.werr
	}
	return nil
}

// appendEnvelope appends {"src":…,"dest":…,"body":…} and a newline.
func appendEnvelope(b []byte, src, dest string, body []byte) []byte {
	b = append(b, `{"src":`...)
	b = appendString(b, src)
	b = append(b, `,"dest":`...)
	b = appendString(b, dest)
	b = append(b, `,"body":`...)
	b = append(b, body...)
	return append(b, "}\n"...)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // cannot fail for a string
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
