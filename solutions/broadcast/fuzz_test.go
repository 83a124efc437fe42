package broadcast_test

import (
	"testing"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
	"github.com/glomers/glomers/solutions/internal/fuzznode"
)

// broadcastSeeds are valid and malformed bodies for both modes.
var broadcastSeeds = struct{ valid, malformed []string }{
	valid: []string{
		`{"type":"topology","msg_id":1,"topology":{"n0":["n1"],"n1":["n0"]}}`,
		`{"type":"broadcast","msg_id":2,"message":7}`,
		`{"type":"broadcast","msg_id":3,"message":-123456789012345678901234567890}`,
		`{"type":"read","msg_id":4}`,
		`n1 {"type":"gossip","from":0,"values":[8,9],"ack":0}`,
		`{"type":"read","msg_id":5}`,
	},
	malformed: []string{
		`{"type":"broadcast","msg_id":10,"message":null}`,
		`{"type":"broadcast","msg_id":11,"message":[1,2]}`,
		`{"type":"broadcast","msg_id":12,"message":"x"}`,
		`{"type":"broadcast","msg_id":13,"message":1.5}`,
		`{"type":"broadcast","msg_id":14}`,
		`{"type":"topology","msg_id":15,"topology":null}`,
		`n1 {"type":"gossip","from":-5,"values":[1],"ack":-1}`,
		`n1 {"type":"gossip","from":9223372036854775807,"values":[1,2],"ack":9223372036854775807}`,
		`n2 {"type":"gossip","from":0,"values":[null,"x"],"acks":{"n1":-3},"relay":{"n0":99}}`,
		`n7 {"type":"gossip","from":1,"values":[1],"urgent":true}`,
		`n1 {"type":"gossip","msg_id":16,"from":"x"}`,
		`n1 {"type":"gossip","msg_id":18,"from":0,"values":[3],"ack":0}`,
		`{"type":"read","msg_id":17}`,
	},
}

// FuzzBroadcast: a broadcast node in the default (efficient) mode never
// panics and answers every request.
func FuzzBroadcast(f *testing.F) {
	fuzznode.Seed(f, broadcastSeeds.valid, broadcastSeeds.malformed)
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, func(n *node.Node) { broadcast.Register(n) }, nodes, script)
	})
}

// FuzzBroadcastFast is FuzzBroadcast in the fast mode.
func FuzzBroadcastFast(f *testing.F) {
	fuzznode.Seed(f, broadcastSeeds.valid, broadcastSeeds.malformed)
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, func(n *node.Node) { broadcast.RegisterWith(n, broadcast.Options{Mode: broadcast.Fast}) }, nodes, script)
	})
}
