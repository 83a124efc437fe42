package echo_test

import (
	"testing"

	"github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/solutions/internal/fuzznode"
)

// FuzzEcho: the echo node never panics and answers every request.
func FuzzEcho(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"echo","msg_id":1,"echo":"Please echo 35"}`,
		`{"type":"echo","msg_id":2,"echo":1.0}`,
	}, []string{
		`{"type":"echo","msg_id":3}`,
		`{"type":"echo","msg_id":4,"echo":null}`,
		`{"type":"echo","msg_id":5,"echo":{"msg_id":6,"in_reply_to":7}}`,
		`{"type":"echo","echo":"no msg_id"}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, echo.Register, nodes, script)
	})
}
