package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// Ids of the services the bench always provides.
const (
	LinKV  = "lin-kv"  // linearizable key/value store
	SeqKV  = "seq-kv"  // sequentially consistent: reads may be stale
	LWWKV  = "lww-kv"  // last-write-wins: writes may stay invisible
	LinTSO = "lin-tso" // linearizable timestamp oracle
)

// KV is a client for one of the bench's key/value services. Keys and
// values may be any JSON-encodable values; the service compares them by
// value, and 1 and 1.0 are different keys.
//
// Every method is a [Node.Call] with the given ctx, so it returns
// ctx.Err() (wrapped) when the service does not answer in time, which it
// never does for malformed requests; give every call a deadline. Error
// replies come back as *[RPCError]; use [ErrorCode], [IsKeyDoesNotExist]
// or [IsPreconditionFailed].
type KV struct {
	n       *Node
	service string
}

// NewKV returns a client for the key/value service with id service.
func NewKV(n *Node, service string) *KV { return &KV{n: n, service: service} }

// NewLinKV returns a client for lin-kv.
func NewLinKV(n *Node) *KV { return NewKV(n, LinKV) }

// NewSeqKV returns a client for seq-kv. Its reads may return any state
// not older than the last one this node observed, up to the newest (a
// node that only reads catches up after a few reads, but any one read
// may be stale). A write that changes the state
// (for instance a value no one wrote before) moves this node to the
// newest state: reads after it see at least everything before that write.
// A write of the value a key already holds may change nothing and move
// the node nowhere.
func NewSeqKV(n *Node) *KV { return NewKV(n, SeqKV) }

// NewLWWKV returns a client for lww-kv.
func NewLWWKV(n *Node) *KV { return NewKV(n, LWWKV) }

// Read returns the value stored under key. JSON numbers are decoded as
// int when they are written as integers that fit (1, -7), and as float64
// otherwise (1.5, 1.0, 1e3, integers beyond int's range); this applies inside arrays and objects too,
// which come back as []any and map[string]any. A missing key is an
// *RPCError with code [KeyDoesNotExist].
func (kv *KV) Read(ctx context.Context, key any) (any, error) {
	raw, err := kv.readRaw(ctx, key)
	if err != nil {
		return nil, err
	}
	v, err := decodeValue(raw)
	if err != nil {
		return nil, fmt.Errorf("node: %s read %v: %w", kv.service, key, err)
	}
	return v, nil
}

// ReadInt is Read for integer values: a value that is not an integer is
// an error.
func (kv *KV) ReadInt(ctx context.Context, key any) (int, error) {
	v, err := kv.Read(ctx, key)
	if err != nil {
		return 0, err
	}
	i, ok := v.(int)
	if !ok {
		return 0, fmt.Errorf("node: %s read %v: value %v is not an integer", kv.service, key, v)
	}
	return i, nil
}

// ReadInto decodes the value stored under key into v, as json.Unmarshal
// does.
func (kv *KV) ReadInto(ctx context.Context, key any, v any) error {
	raw, err := kv.readRaw(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("node: %s read %v: %w", kv.service, key, err)
	}
	return nil
}

// readRaw performs a read and returns the reply's value undecoded.
func (kv *KV) readRaw(ctx context.Context, key any) (json.RawMessage, error) {
	var reply struct {
		Value json.RawMessage `json:"value"`
	}
	req := struct {
		Type string `json:"type"`
		Key  any    `json:"key"`
	}{"read", key}
	if err := kv.call(ctx, req, "read_ok", &reply); err != nil {
		return nil, err
	}
	if reply.Value == nil {
		return nil, fmt.Errorf("node: %s read %v: read_ok without a value", kv.service, key)
	}
	return reply.Value, nil
}

// Write stores value under key, creating the key if needed.
func (kv *KV) Write(ctx context.Context, key, value any) error {
	req := struct {
		Type  string `json:"type"`
		Key   any    `json:"key"`
		Value any    `json:"value"`
	}{"write", key, value}
	return kv.call(ctx, req, "write_ok", nil)
}

// CompareAndSwap sets key to to if its current value is from. It fails
// with [PreconditionFailed] if the value differs and with
// [KeyDoesNotExist] if the key is missing, unless createIfNotExists is
// true, in which case a missing key is created with to (lww-kv ignores
// createIfNotExists).
func (kv *KV) CompareAndSwap(ctx context.Context, key, from, to any, createIfNotExists bool) error {
	req := struct {
		Type   string `json:"type"`
		Key    any    `json:"key"`
		From   any    `json:"from"`
		To     any    `json:"to"`
		Create bool   `json:"create_if_not_exists,omitempty"`
	}{"cas", key, from, to, createIfNotExists}
	return kv.call(ctx, req, "cas_ok", nil)
}

// call sends req to the service and decodes a reply of type want into
// into (when non-nil).
func (kv *KV) call(ctx context.Context, req any, want string, into any) error {
	return callService(ctx, kv.n, kv.service, req, want, into)
}

// callService is one request/response with a service.
func callService(ctx context.Context, n *Node, service string, req any, want string, into any) error {
	m, err := n.Call(ctx, service, req)
	if err != nil {
		return err
	}
	if t := m.Type(); t != want {
		return fmt.Errorf("node: %s replied %q, want %q: %s", service, t, want, truncate(m.Body, 200))
	}
	if into != nil {
		if err := m.Unmarshal(into); err != nil {
			return err
		}
	}
	return nil
}

// decodeValue decodes a JSON value, turning integral numbers into int.
func decodeValue(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return intify(v), nil
}

// intify replaces json.Numbers with int (for integer literals that fit)
// or float64, recursively.
func intify(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(string(x)); err == nil {
			return i
		}
		// Fractions, exponents and integers too large for int become the
		// nearest float64 (±Inf beyond its range), as encoding/json does.
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = intify(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = intify(x[k])
		}
	}
	return v
}

// TSO is a client for the lin-tso timestamp oracle.
type TSO struct {
	n *Node
}

// NewTSO returns a client for lin-tso.
func NewTSO(n *Node) *TSO { return &TSO{n: n} }

// Timestamp returns a fresh timestamp, strictly greater than every
// timestamp handed out before (to any node). The first is 0.
func (t *TSO) Timestamp(ctx context.Context) (int64, error) {
	var reply struct {
		TS *int64 `json:"ts"`
	}
	if err := callService(ctx, t.n, LinTSO, Body{Type: "ts"}, "ts_ok", &reply); err != nil {
		return 0, err
	}
	if reply.TS == nil {
		return 0, fmt.Errorf("node: %s: ts_ok without a ts", LinTSO)
	}
	return *reply.TS, nil
}
