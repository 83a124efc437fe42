package uniqueids

import (
	"testing"

	"github.com/glomers/glomers/solutions/internal/fuzznode"
)

// FuzzUniqueIDs: the unique-ids node never panics and answers every
// request.
func FuzzUniqueIDs(f *testing.F) {
	fuzznode.Seed(f, []string{
		`{"type":"generate","msg_id":1}`,
		`c2 {"type":"generate","msg_id":1}`,
	}, []string{
		`{"type":"generate","msg_id":2,"id":"x"}`,
		`{"type":"generate"}`,
		`{"type":"generate_ok","in_reply_to":1,"id":5}`,
	})
	f.Fuzz(func(t *testing.T, nodes uint8, script []byte) {
		fuzznode.Check(t, Register, nodes, script)
	})
}
