package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// DefaultTimeout is the RPC timeout of every workload request unless a
// workload says otherwise.
const DefaultTimeout = 5 * time.Second

// Kind is the JSON type a reply field must have.
type Kind int

// The kinds of Maelstrom's reply schemas (Any, Int, Str, [Any], {Any Any}).
const (
	AnyKind Kind = iota
	IntKind
	StringKind
	ArrayKind
	ObjectKind
)

func (k Kind) String() string {
	return [...]string{"Any", "Int", "Str", "[Any]", "{Any Any}"}[k]
}

// Accepts reports whether v, a decoded JSON value, is of kind k.
func (k Kind) Accepts(v any) bool {
	switch k {
	case IntKind:
		_, ok := history.Int(v)
		return ok
	case StringKind:
		_, ok := v.(string)
		return ok
	case ArrayKind:
		_, ok := v.([]any)
		return ok
	case ObjectKind:
		_, ok := v.(map[string]any)
		return ok
	}
	return true
}

// Schema is the closed shape of a successful reply: its type and the
// keys it may carry besides type, in_reply_to and msg_id (all required).
type Schema struct {
	Type   string
	Fields map[string]Kind
}

// ErrMalformed marks a reply that does not fit its schema.
var ErrMalformed = errors.New("malformed RPC response")

// Validate checks a reply against the schema the way Maelstrom's
// defrpc does: exact type, required integer in_reply_to, optional integer
// msg_id, every listed key present with the right JSON type and no
// other key.
func (s Schema) Validate(body map[string]any) error {
	var problems []string
	if t, _ := body["type"].(string); t != s.Type {
		problems = append(problems, fmt.Sprintf("type should be %q, not %s", s.Type, history.Key(body["type"])))
	}
	if v, ok := body["in_reply_to"]; !ok || !IntKind.Accepts(v) {
		problems = append(problems, "in_reply_to should be an integer")
	}
	if v, ok := body["msg_id"]; ok && !IntKind.Accepts(v) {
		problems = append(problems, "msg_id should be an integer")
	}
	for k, want := range s.Fields {
		v, ok := body[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing key %q", k))
		} else if !want.Accepts(v) {
			problems = append(problems, fmt.Sprintf("%q should be %s, got %s", k, want, history.Key(v)))
		}
	}
	for k := range body {
		switch k {
		case "type", "in_reply_to", "msg_id":
			continue
		}
		if _, ok := s.Fields[k]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected key %q", k))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return s.malformed(body, strings.Join(problems, "; "))
}

// malformed is the error of a reply that breaks the schema for the
// reason given.
func (s Schema) malformed(body map[string]any, why string) error {
	return fmt.Errorf("%w: expected a %s response, but received %s (%s)", ErrMalformed, s.Type, history.Key(body), why)
}

// ErrorName returns the keyword name of an error code and whether the
// code is definite, from the one table of Maelstrom's error codes in
// package node; unknown codes are "unknown" and indefinite.
func ErrorName(code int64) (string, bool) {
	if code < 0 || code > 1<<31 {
		return "unknown", false
	}
	c := node.Code(code)
	return c.String(), c.Definite()
}

// CallOpts says how Call sends one request and reads its outcome.
type CallOpts struct {
	// Reply is the shape a successful reply must have.
	Reply Schema
	// Check, when set, looks deeper into a reply that fits Reply and
	// returns why it is malformed, or "" (kafka's msgs, txn's
	// micro-operations).
	Check func(body map[string]any) string
	// Timeout bounds the wait for the reply; zero is DefaultTimeout.
	Timeout time.Duration
	// Idempotent makes an indefinite error or a timeout :fail, as the
	// request cannot have taken effect twice (reads).
	Idempotent bool
	// RawErrors makes every failure :info with an exception, for the
	// clients that do not wrap errors (g-set and the counters).
	RawErrors bool
	// OnOK turns a successful reply into the completion's value.
	OnOK func(reply netsim.Reply) any
}

// Call performs one RPC and turns its outcome into a completion of inv
// using Maelstrom's standard error handling (Maelstrom's
// src/maelstrom/client.clj and doc/protocol.md, errors): an ok reply
// goes to opts.OnOK; a definite error is :fail; an indefinite error or a
// timeout is :info, or :fail when opts.Idempotent; a malformed reply is
// :info with an exception. With opts.RawErrors every failure is :info
// with an exception.
func Call(ctx context.Context, c Caller, inv history.Op, body map[string]any, opts CallOpts) history.Op {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	out := inv
	reply, err := c(ctx, body, timeout)
	if err == nil && reply.Type() == "error" {
		return errorReply(out, reply, opts)
	}
	if err == nil {
		err = opts.Reply.Validate(reply.Body)
		if err == nil && opts.Check != nil {
			if why := opts.Check(reply.Body); why != "" {
				err = opts.Reply.malformed(reply.Body, why)
			}
		}
	}
	switch {
	case err == nil:
		out.Type = history.OK
		out.Value = opts.OnOK(reply)
	case errors.Is(err, netsim.ErrTimeout):
		out.Error = edn.Keyword("net-timeout")
		if opts.RawErrors {
			out.Type = history.Info
			out.Exception = "net-timeout"
			out.ExceptionMessage = "client timed out waiting for a reply"
			out.Error = "indeterminate: " + out.ExceptionMessage
		} else if opts.Idempotent {
			out.Type = history.Fail
		} else {
			out.Type = history.Info
		}
	default:
		out.Type = history.Info
		out.Error = "indeterminate: " + err.Error()
		out.Exception = exceptionClass(err)
		out.ExceptionMessage = err.Error()
	}
	return out
}

// errorReply completes out with an error reply.
func errorReply(out history.Op, reply netsim.Reply, opts CallOpts) history.Op {
	name, definite := "unknown", false
	if code, ok := history.Int(reply.Body["code"]); ok {
		name, definite = ErrorName(code)
	}
	code := reply.Body["code"]
	text, _ := reply.Body["text"].(string)
	out.Error = []any{edn.Keyword(name), text}
	switch {
	case opts.RawErrors:
		out.Type = history.Info
		out.Exception = "rpc-error"
		out.ExceptionMessage = fmt.Sprintf("error %v (%s): %s", code, name, text)
		out.Error = "indeterminate: " + out.ExceptionMessage
	case definite || opts.Idempotent:
		out.Type = history.Fail
	default:
		out.Type = history.Info
	}
	return out
}

func exceptionClass(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return "malformed-rpc-response"
	case errors.Is(err, netsim.ErrClosedDest), errors.Is(err, netsim.ErrUnknownDest):
		return "invalid-destination"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return "unexpected-exception"
}

// Keywordize renders a JSON object as Maelstrom keeps a reply body: an
// ordered map whose top-level keys are keywords, in the order they came.
// Nested objects keep string keys. Anything that is not an object is
// returned decoded as it is.
func Keywordize(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		_ = d.Decode(&v)
		return v
	}
	var m edn.Map
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			break
		}
		m = append(m, edn.Entry{Key: edn.Keyword(key), Val: v})
	}
	return m
}
