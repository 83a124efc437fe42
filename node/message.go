package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Message is one envelope exchanged with the bench: who sent it, to whom,
// and the raw JSON body. Handlers receive Messages; decode the body into
// your own struct with [Message.Unmarshal].
//
// The accessor methods (Type, MsgID, InReplyTo, RPCError) read the
// reserved body keys. Messages the node received carry them already
// decoded; for a Message you build yourself, or whose Body you replaced,
// they decode Body on each call. (Do not modify Body's bytes in place.)
type Message struct {
	Src  string          `json:"src"`
	Dest string          `json:"dest"`
	Body json.RawMessage `json:"body"`

	// hdr caches the header decoded from Body by the node; it is valid
	// while Body is the very slice it was decoded from (hdrAt, hdrLen).
	hdr    header
	hdrAt  *byte
	hdrLen int
}

// header returns the reserved keys of the body, from the cache when it
// belongs to this Body.
func (m Message) header() (header, error) {
	if m.hdrAt != nil && len(m.Body) == m.hdrLen && &m.Body[0] == m.hdrAt {
		return m.hdr, nil
	}
	return parseHeader(m.Body)
}

// withHeader returns m with h cached as the header of its Body.
func (m Message) withHeader(h header) Message {
	if len(m.Body) > 0 {
		m.hdr, m.hdrAt, m.hdrLen = h, &m.Body[0], len(m.Body)
	}
	return m
}

// Body holds the reserved keys of a message body. Embed it in your own
// body structs so they carry a type and, where the library needs them,
// msg_id and in_reply_to:
//
//	type readOK struct {
//		node.Body
//		Value int `json:"value"`
//	}
//	n.Reply(req, readOK{Body: node.Body{Type: "read_ok"}, Value: 5})
//
// You never need to fill MsgID or InReplyTo yourself: [Node.Reply] sets
// in_reply_to and [Node.RPC] and [Node.Call] set msg_id, overriding what
// the body holds. Because of omitempty, a zero MsgID or InReplyTo is not
// encoded; use [Message.MsgID] and [Message.InReplyTo] to tell a present
// zero from an absent key.
type Body struct {
	Type      string `json:"type"`
	MsgID     int    `json:"msg_id,omitempty"`
	InReplyTo int    `json:"in_reply_to,omitempty"`
}

// InitBody is the body of the init message the bench sends every node
// once, before any workload traffic. The library handles init itself (see
// [Node.Handle]); decode it with this type in your own "init" handler if
// you need more than [Node.ID] and [Node.NodeIDs].
type InitBody struct {
	Body
	NodeID  string   `json:"node_id"`
	NodeIDs []string `json:"node_ids"`
}

// header is the decoded form of the reserved body keys. Presence matters:
// a key holding JSON null counts as absent, a key holding 0 as present.
// Keys match exactly, as in Maelstrom ("MSG_ID" is not "msg_id"), and a
// repeated key's last value wins.
type header struct {
	Type      optString
	MsgID     optInt
	InReplyTo optInt
}

// optInt is an integer that remembers whether it was present (and not
// null).
type optInt struct {
	v  int
	ok bool
}

// optString is a string that remembers whether it was present (and not
// null).
type optString struct {
	v  string
	ok bool
}

// parseInt decodes a raw JSON value that must be null or an integer: 1.0
// and "1" are errors because ids are always integers.
func parseInt(raw []byte) (optInt, error) {
	if string(raw) == "null" {
		return optInt{}, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil {
		return optInt{}, fmt.Errorf("want an integer, got %s", truncate(raw, 40))
	}
	return optInt{v: v, ok: true}, nil
}

// parseString decodes a raw JSON value that must be null or a string.
func parseString(raw []byte) (optString, error) {
	if string(raw) == "null" {
		return optString{}, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return optString{}, fmt.Errorf("want a string, got %s", truncate(raw, 40))
	}
	return optString{v: unquote(raw), ok: true}, nil
}

// unquote returns the value of a valid JSON string literal.
func unquote(raw []byte) string {
	// A plain string needs no unescaping.
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // cannot fail: raw is a valid string literal
	return s
}

// parseHeader decodes the reserved keys of a body, which must be a JSON
// object.
func parseHeader(body []byte) (header, error) {
	if !json.Valid(body) {
		if len(bytes.TrimSpace(body)) == 0 {
			return header{}, errors.New("body is missing")
		}
		return header{}, fmt.Errorf("body is not valid JSON: %s", truncate(body, 40))
	}
	return parseValidHeader(body)
}

// parseValidHeader is parseHeader for a body known to be valid JSON.
func parseValidHeader(body []byte) (header, error) {
	var h header
	err := members(body, func(key, val []byte) error {
		var err error
		switch {
		case keyIs(key, "type"):
			h.Type, err = parseString(val)
		case keyIs(key, "msg_id"):
			h.MsgID, err = parseInt(val)
		case keyIs(key, "in_reply_to"):
			h.InReplyTo, err = parseInt(val)
		}
		if err != nil {
			return fmt.Errorf("body key %s: %w", key, err)
		}
		return nil
	})
	return h, err
}

// members calls fn with the raw key (a string literal, quotes included)
// and raw value of each top-level member of obj, in order. obj must be
// valid JSON (json.Valid); members reports an error if it is not an
// object, and stops at fn's first error.
func members(obj []byte, fn func(key, val []byte) error) error {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' {
		return fmt.Errorf("not a JSON object: %s", truncate(obj, 40))
	}
	i = skipSpace(obj, i+1)
	for obj[i] != '}' {
		if obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
		end := skipString(obj, i)
		key := obj[i:end]
		i = skipSpace(obj, skipSpace(obj, end)+1) // past the colon
		end = skipValue(obj, i)
		if err := fn(key, obj[i:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
	}
	return nil
}

// keyIs reports whether the raw key literal spells name exactly.
func keyIs(key []byte, name string) bool {
	if len(key) == len(name)+2 && string(key[1:len(key)-1]) == name {
		return true
	}
	return bytes.IndexByte(key, '\\') >= 0 && unquote(key) == name
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the valid string literal at i.
func skipString(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// skipValue returns the index just past the valid JSON value at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // number, true, false, null: up to the next delimiter
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return i
			}
		}
		return i
	}
}

// Type returns the body's "type", or "" if it is missing or the body
// cannot be decoded.
func (m Message) Type() string {
	h, _ := m.header()
	return h.Type.v
}

// MsgID returns the body's "msg_id" and whether it is present. A null
// msg_id counts as absent; 0 counts as present.
func (m Message) MsgID() (int, bool) {
	h, err := m.header()
	if err != nil {
		return 0, false
	}
	return h.MsgID.v, h.MsgID.ok
}

// InReplyTo returns the body's "in_reply_to" and whether it is present.
// A message is a reply exactly when the key is present, even with the
// value 0; "in_reply_to": null counts as absent (services send that when
// answering a request that had no msg_id).
func (m Message) InReplyTo() (int, bool) {
	h, err := m.header()
	if err != nil {
		return 0, false
	}
	return h.InReplyTo.v, h.InReplyTo.ok
}

// Unmarshal decodes the body into v, as json.Unmarshal does (unknown keys
// are ignored).
func (m Message) Unmarshal(v any) error {
	if err := json.Unmarshal(m.Body, v); err != nil {
		return fmt.Errorf("node: decode body of message from %s: %w", m.Src, err)
	}
	return nil
}

// RPCError returns the error carried by an error reply, or nil when the
// body's type is not "error". An error body without a usable integer
// "code" is reported as [Crash], the indefinite catch-all, so callers
// never mistake it for a definite failure.
func (m Message) RPCError() *RPCError {
	h, err := m.header()
	if err != nil || h.Type.v != "error" {
		return nil
	}
	var code optInt
	var text optString
	err = members(m.Body, func(key, val []byte) error {
		var err error
		switch {
		case keyIs(key, "code"):
			code, err = parseInt(val)
		case keyIs(key, "text"):
			text, err = parseString(val)
		}
		return err
	})
	if err != nil {
		return &RPCError{Code: Crash, Text: fmt.Sprintf("malformed error reply %s: %v", truncate(m.Body, 200), err)}
	}
	if !code.ok {
		return &RPCError{Code: Crash, Text: "error reply without a code: " + text.v}
	}
	return &RPCError{Code: code.v, Text: text.v}
}

// decodeLine parses one input line into a Message and its header. It
// rejects lines that are not a JSON object with string src and dest and an
// object body, and bodies whose reserved keys have the wrong JSON type.
// Other top-level keys (the bench adds "id") are ignored. The Message does
// not alias line.
func decodeLine(line []byte) (Message, header, error) {
	if !json.Valid(line) {
		return Message{}, header{}, errors.New("not valid JSON")
	}
	var src, dest optString
	var body []byte
	err := members(line, func(key, val []byte) error {
		var err error
		switch {
		case keyIs(key, "src"):
			src, err = parseString(val)
		case keyIs(key, "dest"):
			dest, err = parseString(val)
		case keyIs(key, "body"):
			body = val
		}
		if err != nil {
			return fmt.Errorf("key %s: %w", key, err)
		}
		return nil
	})
	switch {
	case err != nil:
		return Message{}, header{}, err
	case !src.ok:
		return Message{}, header{}, errors.New(`missing "src"`)
	case !dest.ok:
		return Message{}, header{}, errors.New(`missing "dest"`)
	case body == nil:
		return Message{}, header{}, errors.New(`missing "body"`)
	}
	h, err := parseValidHeader(body)
	if err != nil {
		return Message{}, header{}, err
	}
	return Message{Src: src.v, Dest: dest.v, Body: bytes.Clone(body)}.withHeader(h), h, nil
}

// truncate returns b as a string, shortened to about max bytes with a note
// of the full length, for log lines and error messages.
func truncate(b []byte, max int) string {
	if len(b) <= max {
		return string(b)
	}
	return fmt.Sprintf("%s… (%d bytes)", b[:max], len(b))
}
