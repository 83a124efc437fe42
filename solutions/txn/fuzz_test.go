package txn_test

import (
	"testing"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/internal/fuzznode"
	"github.com/glomers/glomers/solutions/txn"
)

// FuzzTxn: the txn-rw-register node never panics and answers every
// request.
func FuzzTxn(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"txn","msg_id":1,"txn":[["r",1,null],["w",1,2]]}`,
		`{"type":"txn","msg_id":2,"txn":[["w",2,3],["r",2,null],["r",1,null]]}`,
		`n1 {"type":"txn_sync","lo":1,"hi":1,"writes":[],"ack":0}`,
	}, []string{
		`{"type":"txn","msg_id":10}`,
		`{"type":"txn","msg_id":11,"txn":null}`,
		`{"type":"txn","msg_id":12,"txn":[]}`,
		`{"type":"txn","msg_id":13,"txn":[["x",1,2]]}`,
		`{"type":"txn","msg_id":14,"txn":[["r"]]}`,
		`{"type":"txn","msg_id":15,"txn":[["r","a",null],["w",null,1]]}`,
		`{"type":"txn","msg_id":16,"txn":[["w",1,[1,2]],["w",1.5,1]]}`,
		`{"type":"txn","msg_id":17,"txn":["r",1,null]}`,
		`{"type":"txn","msg_id":18,"txn":[["w",9223372036854775807,-9223372036854775808]]}`,
		`n1 {"type":"txn_sync","lo":-1,"hi":-5,"writes":[{}],"ack":-1}`,
		`n2 {"type":"txn_sync","lo":9223372036854775807,"hi":9223372036854775807,"ack":9223372036854775807,"urgent":true}`,
		`n1 {"type":"txn_sync","msg_id":19,"writes":"x"}`,
		`n1 {"type":"txn_sync","msg_id":21,"lo":1,"hi":1,"ack":0}`,
		`n5 {"type":"txn_sync","msg_id":22,"lo":1,"hi":1,"ack":0}`,
		`{"type":"txn","msg_id":20,"txn":[["r",1,null]]}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, func(n *node.Node) { txn.Register(n) }, nodes, script)
	})
}
