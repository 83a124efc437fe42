package workload

import (
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
)

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
