// Package node is a library for writing Maelstrom nodes: programs that
// read JSON messages, one per line, on stdin and write JSON messages on
// stdout, as the Gossip Glomers challenges and the glomers test bench
// expect.
//
// A complete echo node:
//
//	package main
//
//	import (
//		"encoding/json"
//
//		"github.com/glomers/glomers/node"
//	)
//
//	type echo struct {
//		node.Body
//		Echo json.RawMessage `json:"echo"` // raw: 1.0 stays 1.0
//	}
//
//	func main() {
//		n := node.New()
//		n.Handle("echo", func(msg node.Message) error {
//			var req echo
//			if err := msg.Unmarshal(&req); err != nil {
//				return node.NewRPCError(node.MalformedRequest, err.Error())
//			}
//			return n.Reply(msg, echo{Body: node.Body{Type: "echo_ok"}, Echo: req.Echo})
//		})
//		node.Main(n)
//	}
//
// The library handles the init handshake (see [Node.Handle]), runs each
// request's handler in its own goroutine, turns handler errors into error
// replies ([RPCError]), matches replies to requests for [Node.RPC] and
// [Node.Call], and offers clients for the bench's services ([KV], [TSO]).
// [Node.Go] runs background work, such as a gossip ticker, that stops
// when the input ends.
//
// It follows Jepsen's Go demo library (github.com/jepsen-io/maelstrom/demo/go)
// closely enough that code written for it ports by renaming, and differs
// where that library is fragile:
//
//   - a message is a reply when its body has an in_reply_to key, even 0;
//   - error replies always carry their code, even 0 (timeout);
//   - a message of an unknown type is answered with not-supported (10)
//     instead of stopping the node, and a reply nobody waits for is
//     logged and dropped;
//   - nothing is sent in reply to a message without msg_id;
//   - requests that arrive before init wait for it instead of seeing a
//     node without an id;
//   - the init handler runs once: a repeated init is answered (same ids)
//     or refused (other ids) without running it again;
//   - lines of any length are read, and malformed lines are logged and
//     skipped;
//   - [Node.Run] takes its input and output as arguments, and stops
//     everything it started before returning, so nodes can run in-process
//     in tests (including testing/synctest bubbles).
package node
