// Command echo is challenge 1 as learners write it: it echoes every echo
// request back.
package main

import (
	"encoding/json"
	"log"

	maelstrom "github.com/glomers/glomers/maelstrom"
)

func main() {
	n := maelstrom.NewNode()
	setup(n)
	if err := n.Run(); err != nil {
		log.Fatal(err)
	}
}

// setup registers the node's handlers.
func setup(n *maelstrom.Node) {
	n.Handle("echo", func(msg maelstrom.Message) error {
		var body map[string]any
		if err := json.Unmarshal(msg.Body, &body); err != nil {
			return err
		}
		body["type"] = "echo_ok"
		return n.Reply(msg, body)
	})
}
