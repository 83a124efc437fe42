package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestHeaderPresence(t *testing.T) {
	cases := []struct {
		body            string
		typ             string
		msgID, inReply  int
		hasID, hasReply bool
	}{
		{`{"type":"echo","msg_id":1}`, "echo", 1, 0, true, false},
		{`{"type":"read_ok","in_reply_to":0}`, "read_ok", 0, 0, false, true},
		{`{"type":"read_ok","in_reply_to":null,"msg_id":null}`, "read_ok", 0, 0, false, false},
		{`{"msg_id":0,"in_reply_to":7}`, "", 0, 7, true, true},
		{` {"type":"x","msg_id":-3}`, "x", -3, 0, true, false},
		{`{"type":"\u0065cho"}`, "echo", 0, 0, false, false},
	}
	for _, tc := range cases {
		m := Message{Body: json.RawMessage(tc.body)}
		if got := m.Type(); got != tc.typ {
			t.Errorf("%s: Type = %q, want %q", tc.body, got, tc.typ)
		}
		if id, ok := m.MsgID(); id != tc.msgID || ok != tc.hasID {
			t.Errorf("%s: MsgID = %d, %v", tc.body, id, ok)
		}
		if id, ok := m.InReplyTo(); id != tc.inReply || ok != tc.hasReply {
			t.Errorf("%s: InReplyTo = %d, %v", tc.body, id, ok)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `{"msg_id":1.0}`, `{"in_reply_to":"1"}`, `{"type":1}`, `{"type":"x"`} {
		if _, err := parseHeader([]byte(bad)); err == nil {
			t.Errorf("parseHeader(%s) accepted", bad)
		}
		m := Message{Body: json.RawMessage(bad)}
		if _, ok := m.InReplyTo(); ok {
			t.Errorf("%s: InReplyTo present in an undecodable body", bad)
		}
	}
}

func TestMessageRPCError(t *testing.T) {
	cases := []struct {
		body string
		want *RPCError
	}{
		{`{"type":"read_ok","code":20}`, nil},
		{`{"type":"error","code":20,"text":"gone","in_reply_to":1}`, &RPCError{20, "gone"}},
		{`{"type":"error","code":0}`, &RPCError{0, ""}},
		{`{"type":"error","code":1005,"text":"mine","extra":[1]}`, &RPCError{1005, "mine"}},
		{`{"type":"error","text":"no code"}`, &RPCError{Crash, "error reply without a code: no code"}},
	}
	for _, tc := range cases {
		got := Message{Body: json.RawMessage(tc.body)}.RPCError()
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%s: RPCError = %#v, want %#v", tc.body, got, tc.want)
		}
	}
	if e := (Message{Body: json.RawMessage(`{"type":"error","code":"x"}`)}).RPCError(); e == nil || e.Code != Crash {
		t.Errorf("non-integer code: %#v, want a crash error", e)
	}
}

func TestCodes(t *testing.T) {
	definite := map[int]string{
		NodeNotFound: "node-not-found", NotSupported: "not-supported",
		TemporarilyUnavailable: "temporarily-unavailable", MalformedRequest: "malformed-request",
		Abort: "abort", KeyDoesNotExist: "key-does-not-exist", KeyAlreadyExists: "key-already-exists",
		PreconditionFailed: "precondition-failed", TxnConflict: "txn-conflict",
	}
	indefinite := map[int]string{Timeout: "timeout", Crash: "crash", 2: "unknown", 1000: "unknown", -1: "unknown"}
	for code, name := range definite {
		if Code(code).String() != name || !Code(code).Definite() {
			t.Errorf("code %d: %s definite=%v, want %s definite", code, Code(code), Code(code).Definite(), name)
		}
	}
	for code, name := range indefinite {
		if Code(code).String() != name || Code(code).Definite() {
			t.Errorf("code %d: %s definite=%v, want %s indefinite", code, Code(code), Code(code).Definite(), name)
		}
	}
	if got := NewRPCError(KeyDoesNotExist, "not found").Error(); got != "key-does-not-exist (20): not found" {
		t.Errorf("Error() = %q", got)
	}
	if got := Errorf(Timeout, "").Error(); got != "timeout (0)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestRPCErrorJSONKeepsCodeZero(t *testing.T) {
	for _, v := range []any{RPCError{Code: Timeout}, &RPCError{Code: Timeout, Text: "t"}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"code":0`)) || !bytes.Contains(b, []byte(`"type":"error"`)) {
			t.Errorf("%#v encodes as %s", v, b)
		}
	}
}

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, -1},
		{errors.New("plain"), -1},
		{NewRPCError(Timeout, ""), 0},
		{fmt.Errorf("ctx: %w", NewRPCError(KeyDoesNotExist, "")), KeyDoesNotExist},
		{errors.Join(errors.New("a"), Errorf(PreconditionFailed, "b")), PreconditionFailed},
	}
	for _, tc := range cases {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	if !IsKeyDoesNotExist(fmt.Errorf("x: %w", NewRPCError(20, ""))) || IsKeyDoesNotExist(NewRPCError(22, "")) {
		t.Error("IsKeyDoesNotExist")
	}
	if !IsPreconditionFailed(NewRPCError(22, "")) || IsPreconditionFailed(errors.New("22")) {
		t.Error("IsPreconditionFailed")
	}
}

func TestSetIntKey(t *testing.T) {
	cases := []struct{ in, key, want string }{
		{`{}`, "msg_id", `{"msg_id":4}`},
		{`{"type":"x"}`, "msg_id", `{"type":"x","msg_id":4}`},
		{`{"type":"x","msg_id":9}`, "msg_id", `{"type":"x","msg_id":4}`},
		{`{"msg_id":9,"type":"x","msg_id":8}`, "msg_id", `{"msg_id":4,"type":"x"}`},
		{`{"type":"x","in_reply_to":9}`, "msg_id", `{"type":"x","in_reply_to":9,"msg_id":4}`},
		{`{"type":"x","v":{"msg_id":9}}`, "msg_id", `{"type":"x","v":{"msg_id":9},"msg_id":4}`},
		{`{"type":"x","s":"say \"msg_id\""}`, "msg_id", `{"type":"x","s":"say \"msg_id\"","msg_id":4}`},
		{`{"type":"x","msg\u005fid":9}`, "msg_id", `{"type":"x","msg_id":4}`},
		{`{"MSG_ID":9}`, "msg_id", `{"MSG_ID":9,"msg_id":4}`},
	}
	for _, tc := range cases {
		got, err := setIntKey([]byte(tc.in), tc.key, 4)
		if err != nil {
			t.Errorf("setIntKey(%s): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("setIntKey(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeLine(t *testing.T) {
	m, h, err := decodeLine([]byte(`{"id":5,"src":"c1","dest":"n1","body":{"type":"echo","msg_id":2,"echo":"hi"}}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Src != "c1" || m.Dest != "n1" || h.Type.v != "echo" || h.MsgID != (optInt{2, true}) || h.InReplyTo.ok {
		t.Errorf("decoded %+v %+v", m, h)
	}
	if string(m.Body) != `{"type":"echo","msg_id":2,"echo":"hi"}` {
		t.Errorf("body %s", m.Body)
	}
}

func TestHeaderCacheFollowsBody(t *testing.T) {
	m, _, err := decodeLine([]byte(`{"src":"c1","dest":"n1","body":{"type":"echo","msg_id":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := m.MsgID(); !ok || id != 2 {
		t.Fatalf("MsgID = %d, %v", id, ok)
	}
	m.Body = json.RawMessage(`{"type":"read","in_reply_to":5}`)
	if id, ok := m.MsgID(); ok || m.Type() != "read" {
		t.Errorf("after replacing Body: MsgID = %d, %v, Type %q", id, ok, m.Type())
	}
	m.Body = m.Body[:0]
	if m.Type() != "" {
		t.Error("empty body has a type")
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate([]byte("short"), 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate([]byte(strings.Repeat("a", 30)), 10); got != "aaaaaaaaaa… (30 bytes)" {
		t.Errorf("truncate = %q", got)
	}
}

// FuzzDecode feeds arbitrary lines to the input decoder. It must never
// panic, and whatever it accepts must be a message the library can
// re-encode and decode to the same thing.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"id":3,"src":"c3","dest":"n1","body":{"type":"echo","echo":"Please echo 35","msg_id":1}}`,
		`{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1","n2"]}}`,
		`{"src":"lin-kv","dest":"n1","body":{"type":"error","code":20,"text":"key does not exist","in_reply_to":null}}`,
		`{"src":"n2","dest":"n1","body":{"type":"read_ok","in_reply_to":0,"value":[1,2.5,{"a":null}]}}`,
		`{"src":"c1","dest":"n1","body":{"type":"x","msg_id":1.5}}`,
		`{"src":"c\u00e9","dest":"n\"1","body":{"type":"\ud83d\ude00","msg_id":-9223372036854775808}}`,
		`{"src":"c1","dest":"n1","body":{"type":"txn","txn":[["r",1,null],["w",1,2]],"msg_id":9007199254740993}}`,
		`{"SRC":"c1","Dest":"n1","BODY":{"TYPE":"echo"}}`,
		`{"src":"c1","dest":"n1","body":{}}`,
		`[]`, `null`, `{`, "{\"src\":\"\xff\",\"dest\":\"n1\",\"body\":{}}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, h, err := decodeLine(line)
		if err != nil {
			return
		}
		var ref map[string]json.RawMessage // exact keys, last duplicate wins
		if err := json.Unmarshal(m.Body, &ref); err != nil {
			t.Fatalf("accepted body %q is not a JSON object: %v", m.Body, err)
		}
		refString := func(key string) optString {
			raw, ok := ref[key]
			if !ok || string(raw) == "null" {
				return optString{}
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("accepted %s %s: %v", key, raw, err)
			}
			return optString{s, true}
		}
		refInt := func(key string) optInt {
			raw, ok := ref[key]
			if !ok || string(raw) == "null" {
				return optInt{}
			}
			var i int
			if err := json.Unmarshal(raw, &i); err != nil {
				t.Fatalf("accepted %s %s: %v", key, raw, err)
			}
			return optInt{i, true}
		}
		if want := (header{refString("type"), refInt("msg_id"), refInt("in_reply_to")}); h != want {
			t.Fatalf("header of %s = %+v, encoding/json says %+v", m.Body, h, want)
		}
		for _, m := range []Message{m, {Src: m.Src, Dest: m.Dest, Body: m.Body}} { // cached and uncached header
			if got := m.Type(); got != h.Type.v {
				t.Fatalf("Type() = %q, header says %q", got, h.Type.v)
			}
			if id, ok := m.InReplyTo(); id != h.InReplyTo.v || ok != h.InReplyTo.ok {
				t.Fatalf("InReplyTo() = %d,%v, header says %+v", id, ok, h.InReplyTo)
			}
			if id, ok := m.MsgID(); id != h.MsgID.v || ok != h.MsgID.ok {
				t.Fatalf("MsgID() = %d,%v, header says %+v", id, ok, h.MsgID)
			}
		}
		// What the node would write for this message must decode back to
		// the same envelope and header.
		var body bytes.Buffer
		if err := json.Compact(&body, m.Body); err != nil {
			t.Fatalf("compact accepted body: %v", err)
		}
		out := appendEnvelope(nil, m.Src, m.Dest, body.Bytes())
		m2, h2, err := decodeLine(out)
		if err != nil {
			t.Fatalf("re-decode %q: %v", out, err)
		}
		if m2.Src != m.Src || m2.Dest != m.Dest || h2 != h || !bytes.Equal(m2.Body, body.Bytes()) {
			t.Fatalf("round trip changed %q into %q", line, out)
		}
		// Setting a reserved key never breaks the body.
		set, err := setIntKey(body.Bytes(), "in_reply_to", 42)
		if err != nil {
			t.Fatalf("setIntKey on accepted body %s: %v", body.Bytes(), err)
		}
		h3, err := parseHeader(set)
		if err != nil || h3.InReplyTo != (optInt{42, true}) || h3.Type != h.Type || h3.MsgID != h.MsgID {
			t.Fatalf("setIntKey(%s) = %s: header %+v, %v", body.Bytes(), set, h3, err)
		}
	})
}
