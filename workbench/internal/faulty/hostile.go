package faulty

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Hostile maps the names of nodes that attack the bench itself, rather
// than get a workload wrong, to their code: each is an echo node that
// prints what the bench must survive. They write raw lines, not through
// package node, so that they can print what no well-made node would.
func Hostile() map[string]func(stdin io.Reader, stdout, stderr io.Writer) error {
	return map[string]func(stdin io.Reader, stdout, stderr io.Writer) error{
		// Answers each echo with a reply nested 9,990 levels deep (20 KB
		// of valid JSON).
		"deep-echo": func(stdin io.Reader, stdout, stderr io.Writer) error {
			deep := strings.Repeat("[", 9990) + strings.Repeat("]", 9990)
			return rawEcho(stdin, stdout, func(string) string { return deep }, nil)
		},
		// After init, prints one line of 100 MB, then answers echoes.
		"long-line": func(stdin io.Reader, stdout, stderr io.Writer) error {
			return rawEcho(stdin, stdout, nil, func(id string) {
				chunk := bytes.Repeat([]byte("x"), 1<<20)
				for range 100 {
					stdout.Write(chunk)
				}
				io.WriteString(stdout, "\n")
			})
		},
		// After init, prints 1 GB of well-formed messages to itself, as
		// fast as the bench takes them, then answers echoes.
		"flood": func(stdin io.Reader, stdout, stderr io.Writer) error {
			return rawEcho(stdin, stdout, nil, func(id string) {
				line := []byte(fmt.Sprintf(`{"src":%q,"dest":%q,"body":{"type":"flood","pad":%q}}`+"\n", id, id, strings.Repeat("f", 900)))
				w := bufio.NewWriterSize(stdout, 64<<10)
				for sent := 0; sent < 1<<30; sent += len(line) {
					if _, err := w.Write(line); err != nil {
						return
					}
				}
				w.Flush()
			})
		},
		// Prints 300 MB to stderr without a newline, then a terminal
		// escape sequence that would retitle the window, then answers
		// echoes.
		"stderr-flood": func(stdin io.Reader, stdout, stderr io.Writer) error {
			chunk := bytes.Repeat([]byte("e"), 1<<20)
			for range 300 {
				stderr.Write(chunk)
			}
			io.WriteString(stderr, "\n\x1b]0;PWNED\a title changed\n")
			return rawEcho(stdin, stdout, nil, nil)
		},
	}
}

// rawEcho answers init and echo requests read line by line from stdin;
// reply, when set, gives the raw JSON of each echo's "echo" field, and
// afterInit runs once init_ok is printed. It returns at the end of stdin.
func rawEcho(stdin io.Reader, stdout io.Writer, reply func(echo string) string, afterInit func(id string)) error {
	in := bufio.NewReader(stdin)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			var m struct {
				Src, Dest string
				Body      struct {
					Type   string          `json:"type"`
					MsgID  int64           `json:"msg_id"`
					NodeID string          `json:"node_id"`
					Echo   json.RawMessage `json:"echo"`
				}
			}
			if json.Unmarshal(line, &m) == nil {
				switch m.Body.Type {
				case "init":
					fmt.Fprintf(stdout, `{"src":%q,"dest":%q,"body":{"type":"init_ok","in_reply_to":%d}}`+"\n", m.Dest, m.Src, m.Body.MsgID)
					if afterInit != nil {
						afterInit(m.Body.NodeID)
					}
				case "echo":
					echo := string(m.Body.Echo)
					if reply != nil {
						echo = reply(echo)
					}
					fmt.Fprintf(stdout, `{"src":%q,"dest":%q,"body":{"type":"echo_ok","in_reply_to":%d,"echo":%s}}`+"\n", m.Dest, m.Src, m.Body.MsgID, echo)
				}
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
