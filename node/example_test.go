package node_test

import (
	"encoding/json"
	"io"
	"os"
	"strings"

	"github.com/glomers/glomers/node"
)

// An echo node driven by Run, as the bench drives it over stdin/stdout.
// The echo request arrives before init; it waits until init is done.
func ExampleNode_Run() {
	type echo struct {
		node.Body
		Echo json.RawMessage `json:"echo"`
	}
	n := node.New(node.WithLogOutput(io.Discard))
	n.Handle("echo", func(msg node.Message) error {
		var req echo
		if err := msg.Unmarshal(&req); err != nil {
			return node.NewRPCError(node.MalformedRequest, err.Error())
		}
		return n.Reply(msg, echo{Body: node.Body{Type: "echo_ok"}, Echo: req.Echo})
	})

	input := strings.NewReader(`{"id":4,"src":"c2","dest":"n1","body":{"type":"echo","echo":"Please echo 35","msg_id":1}}
{"id":3,"src":"c1","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}
{"id":5,"src":"c2","dest":"n1","body":{"type":"echo?","msg_id":2}}
`)
	if err := n.Run(input, os.Stdout); err != nil {
		panic(err)
	}
	// Unordered output:
	// {"src":"n1","dest":"c1","body":{"type":"init_ok","in_reply_to":1}}
	// {"src":"n1","dest":"c2","body":{"type":"echo_ok","echo":"Please echo 35","in_reply_to":1}}
	// {"src":"n1","dest":"c2","body":{"type":"error","code":10,"text":"message type \"echo?\" is not supported","in_reply_to":2}}
}
