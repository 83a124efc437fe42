package kafka_test

import (
	"testing"

	"github.com/glomers/glomers/solutions/internal/fuzznode"
	"github.com/glomers/glomers/solutions/kafka"
)

// FuzzKafka: the kafka node never panics and answers every request.
func FuzzKafka(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"send","msg_id":1,"key":"k1","msg":5}`,
		`{"type":"send","msg_id":2,"key":"k1","msg":{"a":1}}`,
		`{"type":"poll","msg_id":3,"offsets":{"k1":0,"k2":3}}`,
		`{"type":"commit_offsets","msg_id":4,"offsets":{"k1":1}}`,
		`{"type":"list_committed_offsets","msg_id":5,"keys":["k1","k2"]}`,
		`n1 {"type":"kafka_sync","first":1,"ops":[{"k":"k1","o":7,"m":1}],"ack":0}`,
	}, []string{
		`{"type":"send","msg_id":10}`,
		`{"type":"send","msg_id":11,"key":null,"msg":1}`,
		`{"type":"send","msg_id":12,"key":7,"msg":1}`,
		`{"type":"send","msg_id":13,"key":"k1"}`,
		`{"type":"poll","msg_id":14,"offsets":{"k1":-1,"k2":9223372036854775807}}`,
		`{"type":"poll","msg_id":15,"offsets":null}`,
		`{"type":"poll","msg_id":16,"offsets":{"k1":1.5}}`,
		`{"type":"commit_offsets","msg_id":17,"offsets":{"k1":-9223372036854775808}}`,
		`{"type":"commit_offsets","msg_id":18,"offsets":[1]}`,
		`{"type":"list_committed_offsets","msg_id":19,"keys":null}`,
		`{"type":"list_committed_offsets","msg_id":20,"keys":[1,null]}`,
		`n1 {"type":"kafka_sync","first":-1,"ops":[{"t":99,"k":"","o":-5}],"ack":9223372036854775807,"want":-1,"got":5}`,
		`n2 {"type":"kafka_sync","first":9223372036854775807,"ops":[{"k":"k1","o":9223372036854775807,"m":1},{"k":"k1","o":0}]}`,
		`n1 {"type":"kafka_sync","msg_id":21,"ops":"x"}`,
		`n1 {"type":"kafka_sync","msg_id":23,"first":1,"ops":[{"k":"k2","o":1,"m":2}],"ack":0}`,
		`{"type":"poll","msg_id":22,"offsets":{"k1":0}}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, kafka.Register, nodes, script)
	})
}
