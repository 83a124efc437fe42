package maelstrom_test

import (
	"context"
	"reflect"
	"testing"
	"testing/synctest"

	"github.com/glomers/glomers/maelstrom"
)

// TestKV checks each KV method's request and how it reads the service's
// reply, message by message.
func TestKV(t *testing.T) {
	type result struct {
		v   any
		err error
	}
	for _, tc := range []struct {
		name    string
		call    func(context.Context, *maelstrom.KV) (any, error)
		request string
		reply   string
		want    result
	}{
		{"ReadInt", func(ctx context.Context, kv *maelstrom.KV) (any, error) { return kv.ReadInt(ctx, "counter") },
			`{"src":"n1","dest":"seq-kv","body":{"type":"read","key":"counter","msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"read_ok","value":42,"in_reply_to":1}}`,
			result{42, nil}},
		{"ReadInt of a missing key", func(ctx context.Context, kv *maelstrom.KV) (any, error) { return kv.ReadInt(ctx, "counter") },
			`{"src":"n1","dest":"seq-kv","body":{"type":"read","key":"counter","msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"error","code":20,"text":"key does not exist","in_reply_to":1}}`,
			result{0, maelstrom.NewRPCError(maelstrom.KeyDoesNotExist, "key does not exist")}},
		{"ReadInt of a string", func(ctx context.Context, kv *maelstrom.KV) (any, error) { return kv.ReadInt(ctx, "k") },
			`{"src":"n1","dest":"seq-kv","body":{"type":"read","key":"k","msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"read_ok","value":"x","in_reply_to":1}}`,
			result{0, nil}},
		{"Read of a large integer", func(ctx context.Context, kv *maelstrom.KV) (any, error) { return kv.Read(ctx, "k") },
			`{"src":"n1","dest":"seq-kv","body":{"type":"read","key":"k","msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"read_ok","value":9007199254740993,"in_reply_to":1}}`,
			result{9007199254740993, nil}},
		{"Read of a list", func(ctx context.Context, kv *maelstrom.KV) (any, error) { return kv.Read(ctx, "k") },
			`{"src":"n1","dest":"seq-kv","body":{"type":"read","key":"k","msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"read_ok","value":[1,2],"in_reply_to":1}}`,
			result{[]any{1.0, 2.0}, nil}},
		{"Write", func(ctx context.Context, kv *maelstrom.KV) (any, error) { return nil, kv.Write(ctx, "k", 3) },
			`{"src":"n1","dest":"seq-kv","body":{"type":"write","key":"k","value":3,"msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"write_ok","in_reply_to":1}}`,
			result{nil, nil}},
		{"CompareAndSwap creating", func(ctx context.Context, kv *maelstrom.KV) (any, error) {
			return nil, kv.CompareAndSwap(ctx, "counter", 0, 5, true)
		},
			`{"src":"n1","dest":"seq-kv","body":{"type":"cas","key":"counter","from":0,"to":5,"create_if_not_exists":true,"msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"cas_ok","in_reply_to":1}}`,
			result{nil, nil}},
		{"CompareAndSwap failing", func(ctx context.Context, kv *maelstrom.KV) (any, error) {
			return nil, kv.CompareAndSwap(ctx, "counter", 1, 2, false)
		},
			`{"src":"n1","dest":"seq-kv","body":{"type":"cas","key":"counter","from":1,"to":2,"msg_id":1}}`,
			`{"src":"seq-kv","dest":"n1","body":{"type":"error","code":22,"text":"current value 3 is not 1","in_reply_to":1}}`,
			result{nil, maelstrom.NewRPCError(maelstrom.PreconditionFailed, "current value 3 is not 1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := maelstrom.NewNode()
				kv := maelstrom.NewSeqKV(n)
				c := start(t, n)
				c.initNode("n1", "n1")
				res := make(chan result, 1)
				go func() {
					v, err := tc.call(context.Background(), kv)
					res <- result{v, err}
				}()
				c.expect(tc.request)
				c.send(tc.reply)
				got := <-res
				if !reflect.DeepEqual(got.v, tc.want.v) || !reflect.DeepEqual(got.err, tc.want.err) {
					t.Errorf("got %#v, %#v; want %#v, %#v", got.v, got.err, tc.want.v, tc.want.err)
				}
				if err := c.stop(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func TestKVServices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := maelstrom.NewNode()
		c := start(t, n)
		c.initNode("n1", "n1")
		for _, kv := range []struct {
			kv   *maelstrom.KV
			name string
		}{{maelstrom.NewLinKV(n), maelstrom.LinKV}, {maelstrom.NewLWWKV(n), maelstrom.LWWKV}, {maelstrom.NewKV("seq-kv", n), maelstrom.SeqKV}} {
			done := make(chan error, 1)
			go func() { done <- kv.kv.Write(context.Background(), "k", "v") }()
			line, err := c.out.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			var m maelstrom.Message
			if !sameJSON(t, line, line) || decode(t, line, &m) != nil || m.Dest != kv.name {
				t.Fatalf("write went to %s, want %s", m.Dest, kv.name)
			}
			var body maelstrom.MessageBody
			_ = decode(t, string(m.Body), &body)
			c.send(`{"src":"` + kv.name + `","dest":"n1","body":{"type":"write_ok","in_reply_to":` + itoa(body.MsgID) + `}}`)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if err := c.stop(); err != nil {
			t.Fatal(err)
		}
	})
}
