package node_test

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/glomers/glomers/node"
)

// FuzzRun feeds arbitrary input to Run on a node with echo, a handler
// that fails and an init handler. Run must neither panic nor fail, and
// everything it writes must be whole, well-formed message lines.
func FuzzRun(f *testing.F) {
	for _, seed := range []string{
		`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}` + "\n" +
			`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":1,"echo":"x"}}`,
		`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":0,"echo":{"msg_id":2,"in_reply_to":3}}}`,
		`{"src":"c1","dest":"n1","body":{"type":"fail","msg_id":9}}` + "\n" + `{"src":"c1","dest":"n1","body":{"type":"nope","msg_id":3}}`,
		`{"src":"n2","dest":"n1","body":{"type":"echo_ok","in_reply_to":4}}`,
		`{"src":"c1","dest":"n1","body":{"type":"echo","msg_\u0069d":5,"in_reply_to":null,"echo":"\u2028"}}`,
		"\n\n{}\n[]\nnull\n{\"src\":\"a\"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		n := node.New(node.WithLogOutput(io.Discard))
		handleEcho(n)
		n.Handle("fail", func(node.Message) error { return io.ErrUnexpectedEOF })
		n.Handle("init", func(node.Message) error { return nil })
		n.Init("n1", []string{"n1"})
		var out bytes.Buffer
		if err := n.Run(bytes.NewReader(input), &out); err != nil {
			t.Fatalf("Run: %v", err)
		}
		for _, line := range bytes.SplitAfter(out.Bytes(), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var env map[string]json.RawMessage
			if err := json.Unmarshal(line, &env); err != nil || line[len(line)-1] != '\n' {
				t.Fatalf("bad output line %q: %v", line, err)
			}
			var body map[string]json.RawMessage
			if len(env) != 3 || env["src"] == nil || env["dest"] == nil || json.Unmarshal(env["body"], &body) != nil {
				t.Fatalf("bad envelope %q", line)
			}
			var id int
			if err := json.Unmarshal(body["in_reply_to"], &id); err != nil {
				t.Fatalf("output %q is not a reply with an integer in_reply_to", line)
			}
		}
	})
}
