package fuzznode

import (
	"bytes"
	"encoding/json"

	"github.com/glomers/glomers/node"
)

// services plays the bench's key/value services and lin-tso, simply: all
// three key/value services are one linearizable map each (seq-kv's stale
// reads and lww-kv's lost writes are allowed behaviours a node must
// cope with, not ones it can count on), keys compared by their compact
// JSON. Only the output goroutine uses it.
type services struct {
	kv map[string]map[string]json.RawMessage // service → key → value
	ts int64
}

func newServices() *services {
	return &services{kv: map[string]map[string]json.RawMessage{
		node.LinKV: {}, node.SeqKV: {}, node.LWWKV: {},
	}}
}

// kvRequest is a request to a key/value service.
type kvRequest struct {
	Type   string          `json:"type"`
	Key    json.RawMessage `json:"key"`
	Value  json.RawMessage `json:"value"`
	From   json.RawMessage `json:"from"`
	To     json.RawMessage `json:"to"`
	Create bool            `json:"create_if_not_exists"`
}

// handle answers m when it is a request to a service, and reports whether
// it is one.
func (s *services) handle(m node.Message) (json.RawMessage, bool) {
	id, ok := m.MsgID()
	if !ok {
		return nil, false
	}
	reply := func(body map[string]any) (json.RawMessage, bool) {
		body["in_reply_to"] = id
		b, err := json.Marshal(body)
		return b, err == nil
	}
	fail := func(code int, text string) (json.RawMessage, bool) {
		return reply(map[string]any{"type": "error", "code": code, "text": text})
	}
	if m.Dest == node.LinTSO {
		if m.Type() != "ts" {
			return fail(node.NotSupported, "lin-tso serves ts only")
		}
		s.ts++
		return reply(map[string]any{"type": "ts_ok", "ts": s.ts - 1})
	}
	store, ok := s.kv[m.Dest]
	if !ok {
		return nil, false
	}
	var req kvRequest
	if err := m.Unmarshal(&req); err != nil {
		return fail(node.MalformedRequest, err.Error())
	}
	k := compact(req.Key)
	cur, present := store[k]
	switch req.Type {
	case "read":
		if !present {
			return fail(node.KeyDoesNotExist, "key does not exist")
		}
		return reply(map[string]any{"type": "read_ok", "value": cur})
	case "write":
		store[k] = valueOrNull(req.Value)
		return reply(map[string]any{"type": "write_ok"})
	case "cas":
		switch {
		case !present && !(req.Create && m.Dest != node.LWWKV):
			return fail(node.KeyDoesNotExist, "key does not exist")
		case present && compact(cur) != compact(req.From):
			return fail(node.PreconditionFailed, "current value is not the expected one")
		}
		store[k] = valueOrNull(req.To)
		return reply(map[string]any{"type": "cas_ok"})
	}
	return fail(node.NotSupported, "unknown request type")
}

// compact returns the compact form of a JSON value, or its bytes as they
// are if it is not valid JSON.
func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

// valueOrNull returns v, or JSON null when v is missing.
func valueOrNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}
