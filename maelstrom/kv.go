package maelstrom

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
)

// The ids of the bench's key/value services.
const (
	LinKV = "lin-kv" // linearizable
	SeqKV = "seq-kv" // sequentially consistent: reads may be stale
	LWWKV = "lww-kv" // last write wins: writes may stay invisible
)

// KV is a client of one of the bench's key/value services. Each method
// is a SyncRPC with the given ctx: give it a deadline, since a request
// lost in a partition is never answered. Error replies are *RPCError
// (see ErrorCode).
type KV struct {
	typ  string
	node *Node
}

// NewKV returns a client of the service typ (LinKV, SeqKV or LWWKV).
func NewKV(typ string, node *Node) *KV { return &KV{typ: typ, node: node} }

// NewLinKV returns a client of lin-kv.
func NewLinKV(node *Node) *KV { return NewKV(LinKV, node) }

// NewSeqKV returns a client of seq-kv.
func NewSeqKV(node *Node) *KV { return NewKV(SeqKV, node) }

// NewLWWKV returns a client of lww-kv.
func NewLWWKV(node *Node) *KV { return NewKV(LWWKV, node) }

// Read returns the value stored under key. A number is returned as an
// int, as the demo library returns it (a fraction is truncated; an
// integer of any size is exact here); other values as encoding/json
// decodes them into an any. A missing key is an *RPCError with code
// KeyDoesNotExist.
func (kv *KV) Read(ctx context.Context, key string) (any, error) {
	var body struct {
		Value json.RawMessage `json:"value"`
	}
	if err := kv.read(ctx, key, &body); err != nil {
		return nil, err
	}
	return decodeValue(body.Value)
}

// decodeValue decodes a read_ok value the way the demo library's Read
// returns it.
func decodeValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	num, ok := v.(json.Number)
	if !ok {
		// Not a number: decode as encoding/json does (numbers inside
		// arrays and objects are float64, as in the demo library).
		v = nil
		err := json.Unmarshal(raw, &v)
		return v, err
	}
	if i, err := strconv.Atoi(string(num)); err == nil {
		return i, nil
	}
	f, err := num.Float64()
	if err != nil {
		return nil, err
	}
	return int(f), nil
}

// ReadInto decodes the value stored under key into v.
func (kv *KV) ReadInto(ctx context.Context, key string, v any) error {
	body := struct {
		Value any `json:"value"`
	}{Value: v}
	return kv.read(ctx, key, &body)
}

// ReadInt reads key's value as an int. As in the demo library, a value
// that is not a number reads as 0 without an error, and a missing key is
// 0 with an *RPCError of code KeyDoesNotExist.
func (kv *KV) ReadInt(ctx context.Context, key string) (int, error) {
	v, err := kv.Read(ctx, key)
	i, _ := v.(int)
	return i, err
}

// Write stores value under key.
func (kv *KV) Write(ctx context.Context, key string, value any) error {
	_, err := kv.node.SyncRPC(ctx, kv.typ, kvWrite{MessageBody{Type: "write"}, key, value})
	return err
}

// CompareAndSwap sets key to to if its value is from. It fails with an
// *RPCError of code PreconditionFailed when the value differs, and of
// code KeyDoesNotExist when the key is missing, unless createIfNotExists
// is true: then a missing key is created with to.
func (kv *KV) CompareAndSwap(ctx context.Context, key string, from, to any, createIfNotExists bool) error {
	_, err := kv.node.SyncRPC(ctx, kv.typ, kvCAS{MessageBody{Type: "cas"}, key, from, to, createIfNotExists})
	return err
}

// read performs a read and decodes the read_ok body into into.
func (kv *KV) read(ctx context.Context, key string, into any) error {
	resp, err := kv.node.SyncRPC(ctx, kv.typ, kvRead{MessageBody{Type: "read"}, key})
	if err != nil {
		return err
	}
	return json.Unmarshal(resp.Body, into)
}

// The request bodies.
type (
	kvRead struct {
		MessageBody
		Key string `json:"key"`
	}
	kvWrite struct {
		MessageBody
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	kvCAS struct {
		MessageBody
		Key               string `json:"key"`
		From              any    `json:"from"`
		To                any    `json:"to"`
		CreateIfNotExists bool   `json:"create_if_not_exists,omitempty"`
	}
)
