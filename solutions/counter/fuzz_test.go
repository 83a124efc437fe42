package counter_test

import (
	"testing"

	"github.com/glomers/glomers/solutions/counter"
	"github.com/glomers/glomers/solutions/internal/fuzznode"
)

// counterSeeds are bodies for both counters: valid ones, and malformed or
// extreme ones.
var counterSeeds = struct{ valid, malformed []string }{
	valid: []string{
		`{"type":"add","msg_id":1,"delta":3}`,
		`{"type":"read","msg_id":2}`,
		`{"type":"add","msg_id":3,"delta":0}`,
		`c2 {"type":"read","msg_id":1}`,
	},
	malformed: []string{
		`{"type":"add","msg_id":20}`,
		`{"type":"add","msg_id":21,"delta":null}`,
		`{"type":"add","msg_id":22,"delta":"3"}`,
		`{"type":"add","msg_id":23,"delta":1.5}`,
		`{"type":"add","msg_id":24,"delta":-4}`,
		`{"type":"add","msg_id":25,"delta":9223372036854775807}`,
		`{"type":"add","msg_id":26,"delta":9223372036854775807}`,
		`{"type":"add","msg_id":27,"delta":-9223372036854775808}`,
		`{"type":"add","msg_id":28,"delta":99999999999999999999}`,
		`{"type":"read","msg_id":29}`,
		`{"type":"init","msg_id":30,"node_id":"n0","node_ids":["n0"]}`,
		`{"type":"add","delta":1}`,
		`n1 {"type":"pn_replicate","msg_id":31,"state":{"n1":{"p":9223372036854775807,"n":0}}}`,
		`n2 {"type":"pn_replicate","msg_id":32,"state":{"n2":{"p":9223372036854775807,"n":0}}}`,
		`n1 {"type":"pn_replicate","msg_id":33,"state":[1]}`,
		`{"type":"read","msg_id":34}`,
	},
}

// FuzzGCounter: the g-counter never panics and answers every request.
func FuzzGCounter(f *testing.F) {
	fuzznode.Seed(f, counterSeeds.valid, counterSeeds.malformed)
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, counter.Register, nodes, script)
	})
}

// FuzzPNCounter: the pn-counter never panics and answers every request.
func FuzzPNCounter(f *testing.F) {
	fuzznode.Seed(f, counterSeeds.valid, counterSeeds.malformed)
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, counter.RegisterPN, nodes, script)
	})
}
