package raft_test

import (
	"testing"

	"github.com/glomers/glomers/solutions/internal/fuzznode"
	"github.com/glomers/glomers/solutions/raft"
)

// FuzzRaft: the lin-kv Raft node never panics and answers every request,
// in a cluster where it hears from no peer but the script.
func FuzzRaft(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"write","msg_id":1,"key":1,"value":2}`,
		`{"type":"read","msg_id":2,"key":1}`,
		`{"type":"cas","msg_id":3,"key":1,"from":2,"to":3}`,
		`{"type":"cas","msg_id":4,"key":9,"from":2,"to":3}`,
		`n1 {"type":"raft_vote","inc":1,"term":5,"log_term":0,"index":0}`,
	}, []string{
		`{"type":"read","msg_id":10}`,
		`{"type":"write","msg_id":11,"key":1}`,
		`{"type":"cas","msg_id":12,"key":1,"from":null}`,
		`{"type":"write","msg_id":13,"key":[1,{"a":null}],"value":1e400}`,
		`n1 {"type":"raft_app","inc":1,"term":18446744073709551615,"log_term":3,"index":5,"entries":[{}],"commit":99}`,
		`n1 {"type":"raft_app","inc":-1,"term":2,"index":0,"entries":[{"term":2},{"term":1}],"commit":18446744073709551615}`,
		`n2 {"type":"raft_heartbeat","inc":1,"term":3,"commit":7,"ctx":1}`,
		`n1 {"type":"raft_app_resp","inc":1,"term":0,"index":18446744073709551615,"reject":true,"reject_hint":18446744073709551615}`,
		`n2 {"type":"raft_hello","inc":9}`,
		`n2 {"type":"raft_hello_resp","inc":9,"known":true}`,
		`n1 {"type":"raft_pre_vote_resp","inc":1,"term":1}`,
		`n9 {"type":"raft_vote","msg_id":14,"term":"x"}`,
		`n1 {"type":"raft_heartbeat","msg_id":16,"inc":1,"term":1,"commit":0}`,
		`{"type":"read","msg_id":15,"key":1}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, raft.Register, nodes, script)
	})
}
