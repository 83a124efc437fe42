package listappend

import (
	"testing"

	"github.com/glomers/glomers/solutions/internal/fuzznode"
)

// FuzzListAppend: the txn-list-append node never panics and answers
// every request.
func FuzzListAppend(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"txn","msg_id":1,"txn":[["r",1,null],["append",1,2]]}`,
		`{"type":"txn","msg_id":2,"txn":[["append",2,3],["r",2,null],["r",1,null]]}`,
	}, []string{
		`{"type":"txn","msg_id":10}`,
		`{"type":"txn","msg_id":11,"txn":null}`,
		`{"type":"txn","msg_id":12,"txn":[]}`,
		`{"type":"txn","msg_id":13,"txn":[["x",1,2]]}`,
		`{"type":"txn","msg_id":14,"txn":[["r"]]}`,
		`{"type":"txn","msg_id":15,"txn":[["r","a",null],["append",null,1]]}`,
		`{"type":"txn","msg_id":16,"txn":[["append",1,[1,2]],["append",1.5,1]]}`,
		`{"type":"txn","msg_id":17,"txn":["r",1,null]}`,
		`{"type":"txn","msg_id":18,"txn":[["w",1,2]]}`,
		`{"type":"txn","msg_id":19,"txn":[["r",1,null]]}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, Register, nodes, script)
	})
}
