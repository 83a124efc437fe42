package workload

import (
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
)

func TestErrorNameFollowsMaelstromsTable(t *testing.T) {
	cases := []struct {
		code     int64
		name     string
		definite bool
	}{
		{0, "timeout", false}, {11, "temporarily-unavailable", true}, {13, "crash", false},
		{20, "key-does-not-exist", true}, {22, "precondition-failed", true}, {30, "txn-conflict", true},
		{1000, "unknown", false}, {-1, "unknown", false}, {1 << 40, "unknown", false},
	}
	for _, c := range cases {
		if name, definite := ErrorName(c.code); name != c.name || definite != c.definite {
			t.Errorf("ErrorName(%d) = %s, %v; want %s, %v", c.code, name, definite, c.name, c.definite)
		}
	}
}

func TestKeywordizeKeepsOrderOneLevelDeep(t *testing.T) {
	got := Keywordize(json.RawMessage(`{"type":"echo_ok","echo":{"b":1,"a":[1.0]},"in_reply_to":3}`))
	m, ok := got.(edn.Map)
	if !ok || len(m) != 3 {
		t.Fatalf("got %#v", got)
	}
	if m[0].Key != edn.Keyword("type") || m[1].Key != edn.Keyword("echo") || m[2].Key != edn.Keyword("in_reply_to") {
		t.Errorf("keys %v, want type, echo, in_reply_to as keywords in order", m)
	}
	inner, ok := m[1].Val.(map[string]any)
	if !ok || inner["a"].([]any)[0] != json.Number("1.0") {
		t.Errorf("nested value %#v: want string keys and literal numbers", m[1].Val)
	}
	if s, _ := edn.Marshal(got); string(s) != `{:type "echo_ok", :echo {"a" [1.0], "b" 1}, :in_reply_to 3}` {
		t.Errorf("printed %s", s)
	}
	if v := Keywordize(json.RawMessage(`[1]`)); len(v.([]any)) != 1 {
		t.Errorf("non-object: %#v", v)
	}
}
