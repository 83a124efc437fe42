package netsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrTimeout is returned by Client.Call when no reply arrives in time.
var ErrTimeout = errors.New("timed out waiting for a reply")

// Client is a bench-side RPC endpoint (c0, c1, ...): strictly sequential,
// numbering its requests 1, 2, 3, ... and discarding any delivered message
// that is not the reply to its outstanding request, like Maelstrom's.
type Client struct {
	net   *Network
	ep    *Endpoint
	msgID int64
	// OnStray, when set, hears of each delivered message the client
	// discards because it carries no integer in_reply_to, so that it can
	// never be anybody's reply: a node that forgets to copy msg_id into
	// in_reply_to shows up here instead of only as timeouts. (A reply
	// whose in_reply_to names an earlier request, one that timed out, is
	// an ordinary late reply and is not reported.)
	OnStray func(src string, body json.RawMessage)
}

// NewClient registers a client endpoint with the given id.
func (n *Network) NewClient(id string) (*Client, error) {
	ep, err := n.Register(id)
	if err != nil {
		return nil, err
	}
	return &Client{net: n, ep: ep}, nil
}

// ID returns the client's id.
func (c *Client) ID() string { return c.ep.id }

// Close unregisters the client; later messages to it are refused.
func (c *Client) Close() { c.net.Close(c.ep.id) }

// Reply is a decoded reply body. Numbers are json.Number.
type Reply struct {
	Body map[string]any
	Raw  json.RawMessage
}

// Type returns the reply's "type" field, or "" when it has none.
func (r Reply) Type() string {
	s, _ := r.Body["type"].(string)
	return s
}

// Call sends body (with a fresh msg_id added) to dest and waits up to
// timeout for the message whose in_reply_to matches. It returns
// ErrTimeout when none arrives, or ctx's error when ctx ends first.
func (c *Client) Call(ctx context.Context, dest string, body map[string]any, timeout time.Duration) (Reply, error) {
	c.msgID++
	id := c.msgID
	req := make(map[string]any, len(body)+1)
	for k, v := range body {
		req[k] = v
	}
	req["msg_id"] = id
	raw, err := json.Marshal(req)
	if err != nil {
		return Reply{}, fmt.Errorf("encode request to %s: %w", dest, err)
	}
	if _, err := c.net.Send(c.ep.id, dest, raw); err != nil {
		return Reply{}, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		m, err := c.ep.Recv(waitCtx)
		if err != nil {
			if ctx.Err() == nil && waitCtx.Err() != nil {
				return Reply{}, ErrTimeout
			}
			return Reply{}, err
		}
		var probe struct {
			InReplyTo json.RawMessage `json:"in_reply_to"`
		}
		if json.Unmarshal(m.Body, &probe) != nil {
			c.stray(m)
			continue
		}
		n, ok := IntLiteral(probe.InReplyTo)
		if !ok {
			c.stray(m) // Maelstrom matches only an integer in_reply_to
			continue
		}
		if n != id {
			continue // a late reply to an earlier request
		}
		dec := json.NewDecoder(bytes.NewReader(m.Body))
		dec.UseNumber()
		var reply map[string]any
		if err := dec.Decode(&reply); err != nil {
			return Reply{Raw: m.Body}, fmt.Errorf("reply from %s is not a JSON object: %w", m.Src, err)
		}
		return Reply{Body: reply, Raw: m.Body}, nil
	}
}

func (c *Client) stray(m *Message) {
	if c.OnStray != nil {
		c.OnStray(m.Src, m.Body)
	}
}

// IntLiteral parses raw as a JSON integer written as a number: 3, not
// "3" or 3.0, as Maelstrom's schemas require of ids.
func IntLiteral(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '"' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}
