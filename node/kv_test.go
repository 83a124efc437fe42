package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
)

// fakeServices answers lin-kv, seq-kv and lin-tso requests the node sends
// through c, like the bench's services (seq-kv here is simply
// linearizable). Requests it does not understand get no reply, as in
// Maelstrom. It returns when the node's output ends.
func fakeServices(c *nodetest.Conn) {
	store := map[string]json.RawMessage{} // canonical key JSON → value
	var ts int64
	canon := func(raw json.RawMessage) string {
		var b bytes.Buffer
		_ = json.Compact(&b, raw)
		return b.String()
	}
	for {
		m, err := c.Recv(context.Background())
		if err != nil {
			return
		}
		var req struct {
			Type                 string
			MsgID                *int `json:"msg_id"`
			Key, Value, From, To json.RawMessage
			CreateIfNotExists    bool `json:"create_if_not_exists"`
		}
		if err := m.Unmarshal(&req); err != nil {
			continue
		}
		var reply map[string]any
		kv := m.Dest == node.LinKV || m.Dest == node.SeqKV
		switch {
		case kv && req.Type == "read":
			if v, ok := store[canon(req.Key)]; ok {
				reply = map[string]any{"type": "read_ok", "value": v}
			} else {
				reply = map[string]any{"type": "error", "code": 20, "text": "key does not exist"}
			}
		case kv && req.Type == "write":
			store[canon(req.Key)] = req.Value
			reply = map[string]any{"type": "write_ok"}
		case kv && req.Type == "cas":
			cur, ok := store[canon(req.Key)]
			switch {
			case !ok && !req.CreateIfNotExists:
				reply = map[string]any{"type": "error", "code": 20, "text": "key does not exist"}
			case ok && canon(cur) != canon(req.From):
				reply = map[string]any{"type": "error", "code": 22, "text": "current value " + string(cur) + " is not " + string(req.From)}
			default:
				store[canon(req.Key)] = req.To
				reply = map[string]any{"type": "cas_ok"}
			}
		case m.Dest == node.LinTSO && req.Type == "ts":
			reply = map[string]any{"type": "ts_ok", "ts": ts}
			ts++
		case m.Dest == "odd-kv":
			reply = map[string]any{"type": "surprise"}
		default:
			continue
		}
		reply["in_reply_to"] = req.MsgID // null without a msg_id, like Maelstrom
		if err := c.Send(m.Dest, reply); err != nil {
			return
		}
	}
}

// startWithServices starts n, initialised as n1, with fake services.
func startWithServices(t *testing.T, n *node.Node) {
	c := nodetest.Start(t, n)
	c.Init("n1", []string{"n1"})
	go fakeServices(c)
}

func TestKV(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		startWithServices(t, n)
		ctx := t.Context()
		kv := node.NewLinKV(n)

		if _, err := kv.Read(ctx, "x"); !node.IsKeyDoesNotExist(err) {
			t.Fatalf("Read of a missing key: %v, want key-does-not-exist", err)
		}
		if err := kv.Write(ctx, "x", 5); err != nil {
			t.Fatal(err)
		}
		if v, err := kv.Read(ctx, "x"); err != nil || v != 5 {
			t.Fatalf("Read = %#v, %v; want int 5", v, err)
		}
		if v, err := kv.ReadInt(ctx, "x"); err != nil || v != 5 {
			t.Fatalf("ReadInt = %v, %v", v, err)
		}

		// CAS: mismatch, match, missing key with and without create.
		if err := kv.CompareAndSwap(ctx, "x", 4, 6, false); !node.IsPreconditionFailed(err) {
			t.Fatalf("CAS 4→6 on 5: %v, want precondition-failed", err)
		}
		var rpcErr *node.RPCError
		if err := kv.CompareAndSwap(ctx, "x", 4, 6, false); !errors.As(err, &rpcErr) || !strings.Contains(rpcErr.Text, "is not 4") {
			t.Fatalf("CAS error %v does not carry the service's text", err)
		}
		if err := kv.CompareAndSwap(ctx, "x", 5, 6, false); err != nil {
			t.Fatalf("CAS 5→6 on 5: %v", err)
		}
		if err := kv.CompareAndSwap(ctx, "y", 0, 1, false); !node.IsKeyDoesNotExist(err) {
			t.Fatalf("CAS on a missing key: %v", err)
		}
		if err := kv.CompareAndSwap(ctx, "y", 0, 1, true); err != nil {
			t.Fatalf("CAS with create: %v", err)
		}
		if v, _ := kv.ReadInt(ctx, "y"); v != 1 {
			t.Fatalf("y = %d after create, want 1", v)
		}

		// Keys of any JSON type; numbers decoded as int only when integral.
		if err := kv.Write(ctx, 7, []any{1, 2.5, map[string]any{"a": 3}, "s"}); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Read(ctx, "7"); !node.IsKeyDoesNotExist(err) {
			t.Fatalf(`key "7" found after writing key 7: %v`, err)
		}
		v, err := kv.Read(ctx, 7)
		if want := []any{1, 2.5, map[string]any{"a": 3}, "s"}; err != nil || !reflect.DeepEqual(v, want) {
			t.Fatalf("Read(7) = %#v, %v; want %#v", v, err, want)
		}
		kv.Write(ctx, "f", json.RawMessage(`1.0`))
		if v, err := kv.Read(ctx, "f"); err != nil || v != 1.0 {
			t.Fatalf("Read(f) = %#v, %v; want float64 1", v, err)
		}
		if _, err := kv.ReadInt(ctx, "f"); err == nil {
			t.Fatal("ReadInt accepted 1.0")
		}
		var into struct{ A int }
		kv.Write(ctx, "obj", map[string]int{"a": 9})
		if err := kv.ReadInto(ctx, "obj", &into); err != nil || into.A != 9 {
			t.Fatalf("ReadInto = %+v, %v", into, err)
		}
		if err := kv.ReadInto(ctx, "obj", new(int)); err == nil {
			t.Fatal("ReadInto decoded an object into an int")
		}
	})
}

func TestKVErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		startWithServices(t, n)

		// A service that never answers (here, one that does not exist):
		// the ctx deadline ends the call.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := node.NewKV(n, "nobody").Read(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read from a silent service: %v", err)
		}
		// A reply of the wrong type.
		if err := node.NewKV(n, "odd-kv").Write(t.Context(), "k", 1); err == nil || !strings.Contains(err.Error(), `"surprise"`) {
			t.Fatalf("wrong reply type: %v", err)
		}
		// A value that cannot be encoded is an error before anything is sent.
		if err := node.NewSeqKV(n).Write(t.Context(), "k", make(chan int)); err == nil {
			t.Fatal("Write of a channel succeeded")
		}
	})
}

func TestTSO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _ := newNode()
		startWithServices(t, n)
		tso := node.NewTSO(n)
		for want := int64(0); want < 3; want++ {
			got, err := tso.Timestamp(t.Context())
			if err != nil || got != want {
				t.Fatalf("Timestamp = %d, %v; want %d", got, err, want)
			}
		}
	})
}
