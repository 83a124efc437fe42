// Package workload defines what a test does to the nodes: one file per
// workload holds the messages its clients send, its operation generator,
// its final phase and the checker that judges the history, as in
// Maelstrom's src/maelstrom/workload/*.clj.
package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// Env is what a workload knows of the test it runs in.
type Env struct {
	Nodes       []string      // server ids in node-list order
	Concurrency int           // worker threads
	Latency     time.Duration // mean inter-server latency (--latency)
	Topology    string        // --topology (broadcast)
	KeyCount    int           // --key-count, 0 when not given
	// MaxTxnLength and MaxWritesPerKey are --max-txn-length and
	// --max-writes-per-key (txn workloads, kafka).
	MaxTxnLength, MaxWritesPerKey int
	ConsistencyModels             []string // --consistency-models
	// Rand drives the generator. NextOp is never called concurrently, so
	// a workload may use it there without locking.
	Rand *rand.Rand
	// Logf writes a line to the test log.
	Logf func(format string, args ...any)
}

// Caller sends one request to the node a client is bound to and waits for
// the reply (or netsim.ErrTimeout).
type Caller func(ctx context.Context, body map[string]any, timeout time.Duration) (netsim.Reply, error)

// Workload is one kind of test.
type Workload interface {
	// Reusable reports whether a worker keeps its client after an
	// indeterminate (:info) result; when false it opens a new one.
	Reusable() bool
	// Setup runs once before the main phase with a caller per node
	// (broadcast sends topology here). An error aborts the test.
	Setup(ctx context.Context, callers map[string]Caller) error
	// NextOp returns the next main-phase operation for a free worker
	// thread whose current process id is process (only F, Value and
	// extra fields matter), or false when the generator is exhausted.
	NextOp(thread, process int) (history.Op, bool)
	// Invoke performs op through call and returns its completion: Type,
	// Value, Error and Exception set; the runner stamps the rest.
	Invoke(ctx context.Context, call Caller, op history.Op) history.Op
	// Final runs the final phase for one worker thread after recovery,
	// performing operations with do; nil when the workload has none.
	Final() func(ctx context.Context, thread int, do func(history.Op) history.Op)
	// Check analyses the whole history and returns the :workload result.
	Check(ops []history.Op) edn.Map
}

// ExtraChecker is implemented by workloads that can check more than
// Maelstrom does. Its result goes into the :glomers section of the
// results and counts in the verdict only under --strict.
type ExtraChecker interface {
	ExtraCheck(ops []history.Op) edn.Map
}

// MainPhaseEnder is implemented by workloads whose generator, like
// Jepsen's, stops hearing completions once the main phase's time limit
// has passed: Jepsen drops an exhausted phase's generator, so operations
// completing after it (kafka's offset trackers) go unseen by it.
type MainPhaseEnder interface{ MainPhaseDone() }

// constructor builds a workload for an environment.
type constructor func(env *Env) (Workload, error)

var registry = map[string]constructor{}

// register adds a workload name; it is called from init functions only,
// so the registry is fixed before main runs.
func register(name string, c constructor) { registry[name] = c }

// New returns the named workload.
func New(name string, env *Env) (Workload, error) {
	c, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return c(env)
}

// Names lists the workloads this bench implements, sorted.
func Names() []string {
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AllNames lists every workload Maelstrom knows, implemented here or not.
func AllNames() []string {
	return []string{"broadcast", "echo", "g-counter", "g-set", "kafka", "lin-kv", "pn-counter", "txn-list-append", "txn-rw-register", "unique-ids"}
}

// DefaultTimeout is the RPC timeout of every workload request unless a
// workload says otherwise.
const DefaultTimeout = 5 * time.Second

// kind is the JSON type a reply field must have.
type kind int

const (
	anyKind kind = iota
	intKind
	stringKind
	arrayKind
	objectKind
)

func (k kind) String() string {
	return [...]string{"Any", "Int", "Str", "[Any]", "{Any Any}"}[k]
}

func (k kind) accepts(v any) bool {
	switch k {
	case intKind:
		_, ok := history.Int(v)
		return ok
	case stringKind:
		_, ok := v.(string)
		return ok
	case arrayKind:
		_, ok := v.([]any)
		return ok
	case objectKind:
		_, ok := v.(map[string]any)
		return ok
	}
	return true
}

// schema is the closed shape of a successful reply: its type and the
// keys it may carry besides type, in_reply_to and msg_id (all required).
type schema struct {
	typ    string
	fields map[string]kind
}

// errMalformed marks a reply that does not fit its schema.
var errMalformed = errors.New("malformed RPC response")

// validate checks a reply against the schema the way Maelstrom's
// defrpc does: exact type, required integer in_reply_to, optional integer
// msg_id, every listed key present with the right JSON type and no
// other key.
func (s schema) validate(body map[string]any) error {
	var problems []string
	if t, _ := body["type"].(string); t != s.typ {
		problems = append(problems, fmt.Sprintf("type should be %q, not %s", s.typ, history.Key(body["type"])))
	}
	if v, ok := body["in_reply_to"]; !ok || !intKind.accepts(v) {
		problems = append(problems, "in_reply_to should be an integer")
	}
	if v, ok := body["msg_id"]; ok && !intKind.accepts(v) {
		problems = append(problems, "msg_id should be an integer")
	}
	for k, want := range s.fields {
		v, ok := body[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing key %q", k))
		} else if !want.accepts(v) {
			problems = append(problems, fmt.Sprintf("%q should be %s, got %s", k, want, history.Key(v)))
		}
	}
	for k := range body {
		switch k {
		case "type", "in_reply_to", "msg_id":
			continue
		}
		if _, ok := s.fields[k]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected key %q", k))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%w: expected a %s response, but received %s (%s)", errMalformed, s.typ, history.Key(body), strings.Join(problems, "; "))
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

// call performs one RPC and turns its outcome into a completion of inv
// using Maelstrom's standard error handling (Maelstrom's src/maelstrom/client.clj and doc/protocol.md, errors): an ok reply
// goes to onOK; a definite error is :fail; an indefinite error or a
// timeout is :info, or :fail when idempotent; a malformed reply is :info
// with an exception. With wrap false (g-set and the counters) every
// failure is :info with an exception, as those clients do not wrap errors.
func call(ctx context.Context, c Caller, inv history.Op, body map[string]any, timeout time.Duration,
	sch schema, idempotent, wrap bool, onOK func(reply netsim.Reply) any) history.Op {
	out := inv
	reply, err := c(ctx, body, timeout)
	if err == nil && reply.Type() == "error" {
		name, definite := "unknown", false
		if code, ok := history.Int(reply.Body["code"]); ok {
			name, definite = ErrorName(code)
		}
		code := reply.Body["code"]
		text, _ := reply.Body["text"].(string)
		out.Error = []any{edn.Keyword(name), text}
		if !wrap {
			out.Type = history.Info
			out.Exception = "rpc-error"
			out.ExceptionMessage = fmt.Sprintf("error %v (%s): %s", code, name, text)
			out.Error = "indeterminate: " + out.ExceptionMessage
			return out
		}
		if definite || idempotent {
			out.Type = history.Fail
		} else {
			out.Type = history.Info
		}
		return out
	}
	if err == nil {
		err = sch.validate(reply.Body)
	}
	switch {
	case err == nil:
		out.Type = history.OK
		out.Value = onOK(reply)
	case errors.Is(err, netsim.ErrTimeout):
		out.Error = edn.Keyword("net-timeout")
		if !wrap {
			out.Type = history.Info
			out.Exception = "net-timeout"
			out.ExceptionMessage = "client timed out waiting for a reply"
			out.Error = "indeterminate: " + out.ExceptionMessage
		} else if idempotent {
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

func exceptionClass(err error) string {
	switch {
	case errors.Is(err, errMalformed):
		return "malformed-rpc-response"
	case errors.Is(err, netsim.ErrClosedDest), errors.Is(err, netsim.ErrUnknownDest):
		return "invalid-destination"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return "unexpected-exception"
}

// keywordize renders a JSON object as Maelstrom keeps a reply body: an
// ordered map whose top-level keys are keywords, in the order they came.
// Nested objects keep string keys. Anything that is not an object is
// returned decoded as it is.
func keywordize(raw json.RawMessage) any {
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
