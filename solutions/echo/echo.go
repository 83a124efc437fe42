// Package echo solves challenge 1 (echo): every echo request is answered
// with echo_ok carrying the same echo value, byte for byte.
package echo

import (
	"encoding/json"

	"github.com/glomers/glomers/node"
)

// request is the body of an echo request.
type request struct {
	Echo json.RawMessage `json:"echo"`
}

// reply is the body of echo_ok. The bench rejects replies with keys its
// schema does not list, so it carries only type, echo and (added by
// Reply) in_reply_to. The value stays raw so that, say, 1.0 is not
// turned into 1, which the bench would see as a different value.
type reply struct {
	Type string          `json:"type"`
	Echo json.RawMessage `json:"echo,omitempty"`
}

// Register makes n answer echo requests.
func Register(n *node.Node) {
	n.Handle("echo", func(msg node.Message) error {
		var req request
		if err := msg.Unmarshal(&req); err != nil {
			return node.NewRPCError(node.MalformedRequest, err.Error())
		}
		return n.Reply(msg, reply{Type: "echo_ok", Echo: req.Echo})
	})
}
