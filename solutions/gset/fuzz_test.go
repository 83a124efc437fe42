package gset_test

import (
	"testing"

	"github.com/glomers/glomers/solutions/gset"
	"github.com/glomers/glomers/solutions/internal/fuzznode"
)

// FuzzGSet: the g-set node never panics and answers every request.
func FuzzGSet(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"add","msg_id":1,"element":3}`,
		`{"type":"add","msg_id":2,"element":"x"}`,
		`{"type":"read","msg_id":3}`,
		`n1 {"type":"gset_replicate","msg_id":1,"elements":[4,5]}`,
	}, []string{
		`{"type":"add","msg_id":10}`,
		`{"type":"add","msg_id":11,"element":null}`,
		`{"type":"add","msg_id":12,"element":[1,{"a":1.5}]}`,
		`n1 {"type":"gset_replicate","msg_id":13,"elements":{"a":1}}`,
		`n1 {"type":"gset_replicate","msg_id":14}`,
		`n1 {"type":"gset_replicate","msg_id":15,"elements":null}`,
		`n2 {"type":"gset_replicate_ok","in_reply_to":1}`,
		`{"type":"read","msg_id":16}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, gset.Register, nodes, script)
	})
}
