package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// The fast readings of a journal line (the whole entry, and the peek at
// its kind and id) agree with encoding/json on every line
// appendJournalLine writes, and take the common ones themselves.
func TestParseJournalLineAgreesWithEncodingJSON(t *testing.T) {
	ids := rapid.SampledFrom([]string{"n0", "n12", "c3", "lin-kv", `we"ird`, `back\slash`, "ünï", ""})
	bodies := rapid.SampledFrom([]string{
		`{"type":"broadcast","message":3,"msg_id":7}`,
		`{"type":"x","drop":"partition"}`, `{"drop":"down"}`, `{"a":",\"drop\":\"x\""}`,
		`null`, `{}`, `"just a string"`, `{"nested":{"drop":"ended"},"v":[1,2,3]}`, ``,
	})
	reasons := rapid.SampledFrom([]string{"", "partition", "down", "no-such-node", "ended"})
	rapid.Check(t, func(t *rapid.T) {
		e := JournalEntry{
			Recv: rapid.Bool().Draw(t, "recv"), Time: rapid.Int64().Draw(t, "time"), ID: rapid.Int64Min(-1).Draw(t, "id"),
			Src: ids.Draw(t, "src"), Dest: ids.Draw(t, "dest"), Body: json.RawMessage(bodies.Draw(t, "body")), Drop: reasons.Draw(t, "drop"),
		}
		line := bytes.TrimSuffix(appendJournalLine(nil, e), []byte("\n"))
		var want JournalEntry
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		peek, err := peekEvent(line)
		if err != nil || peek.recv != want.Recv || peek.id != want.ID || peek.drop != want.Drop {
			t.Fatalf("line %s: peeked %+v (%v), want recv %v id %d drop %q", line, peek, err, want.Recv, want.ID, want.Drop)
		}
		got, ok := parseJournalLine(line)
		if !ok {
			if !bytes.ContainsAny([]byte(e.Src+e.Dest), `"\`) {
				t.Fatalf("the fast path refused a plain line: %s", line)
			}
			return
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) || string(got.Body) != string(want.Body) {
			t.Fatalf("line %s\nfast %+v body %s\njson %+v body %s", line, got, got.Body, want, want.Body)
		}
	})
}

func BenchmarkReadJournalLine(b *testing.B) {
	line := bytes.TrimSuffix(appendJournalLine(nil, JournalEntry{Time: 123456789, ID: 4242, Src: "n1", Dest: "n3",
		Body: json.RawMessage(`{"type":"gossip","messages":[1,2,3,4,5,6,7,8,9,10],"msg_id":77}`)}), []byte("\n"))
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := parseJournalLine(line); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var e JournalEntry
			if err := json.Unmarshal(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
