package echo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/echo"
)

// TestEchoInProcess runs the echo node over pipes and fires thousands of
// concurrent requests at it, as the bench's workers would.
func TestEchoInProcess(t *testing.T) {
	n := node.New(node.WithLogOutput(io.Discard))
	echo.Register(n)
	c := nodetest.Start(t, n)
	c.Init("n0", []string{"n0"})

	values := []string{`"Please echo 58"`, `1.0`, `-0`, `[1,{"a":null},"x"]`, `{"nested":{"msg_id":3}}`, `"é \" \\ \n"`}
	const clients, perClient = 40, 50
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			src := fmt.Sprintf("c%d", i+1)
			for j := range perClient {
				v := values[(i+j)%len(values)]
				m, err := c.Call(t.Context(), src, map[string]json.RawMessage{"type": json.RawMessage(`"echo"`), "echo": json.RawMessage(v)})
				if err != nil {
					t.Error(err)
					return
				}
				if err := checkReply(m, src, v); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// checkReply verifies an echo_ok the way the bench's schema and checker
// do: exactly type, echo and in_reply_to, the echo value unchanged.
func checkReply(m node.Message, dest, value string) error {
	if m.Src != "n0" || m.Dest != dest {
		return fmt.Errorf("reply from %s to %s, want n0 to %s", m.Src, m.Dest, dest)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(m.Body, &body); err != nil {
		return err
	}
	if len(body) != 3 || string(body["type"]) != `"echo_ok"` || body["in_reply_to"] == nil {
		return fmt.Errorf("reply body %s, want exactly type echo_ok, echo and in_reply_to", m.Body)
	}
	var got, want any
	json.Unmarshal(body["echo"], &got)
	json.Unmarshal([]byte(value), &want)
	if !reflect.DeepEqual(got, want) || (value == "1.0") != (string(body["echo"]) == "1.0") {
		return fmt.Errorf("echo %s came back as %s", value, body["echo"])
	}
	return nil
}
