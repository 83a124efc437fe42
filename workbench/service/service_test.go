package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glomers/glomers/workbench/history"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xb0d1e5)) }

// body decodes a JSON request body as the bench does (UseNumber).
func body(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test body %s: %v", s, err)
	}
	return m
}

// call sends one request and returns the reply re-encoded as JSON (map
// keys sorted), or "<no reply>".
func call(t *testing.T, s Service, src, req string) string {
	t.Helper()
	reply, ok := s.Handle(src, body(t, req))
	if !ok {
		return "<no reply>"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reply); err != nil {
		t.Fatalf("reply %v does not encode: %v", reply, err)
	}
	return strings.TrimSpace(buf.String())
}

func mustNew(t *testing.T, name string, seed uint64) Service {
	t.Helper()
	s, err := New(name, newRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNamesAndNew(t *testing.T) {
	if got, want := Names(), []string{"lin-kv", "seq-kv", "lww-kv", "lin-tso"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, n := range Names() {
		if _, err := New(n, newRand(1)); err != nil {
			t.Errorf("New(%q): %v", n, err)
		}
	}
	_, err := New("lin-queue", newRand(1))
	if err == nil || !strings.Contains(err.Error(), "lin-tso") {
		t.Errorf("New(unknown) error = %v, want one listing the valid names", err)
	}
	for _, n := range []string{SeqKV, LWWKV} {
		if _, err := New(n, nil); err == nil {
			t.Errorf("New(%q, nil) succeeded; it needs randomness", n)
		}
	}
	for _, n := range []string{LinKV, LinTSO} {
		if _, err := New(n, nil); err != nil {
			t.Errorf("New(%q, nil): %v; it needs no randomness", n, err)
		}
	}
}

// TestKVBasics runs the same script against lin-kv and against seq-kv with
// a single caller, which always sees the newest state after its own writes.
func TestKVBasics(t *testing.T) {
	script := []struct{ req, want string }{
		{`{"type":"read","key":"x"}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"cas","key":"x","from":1,"to":2}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"write","key":"x","value":1}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":"x"}`, `{"type":"read_ok","value":1}`},
		{`{"type":"cas","key":"x","from":2,"to":3}`, `{"code":22,"text":"current value 1 is not 2","type":"error"}`},
		{`{"type":"cas","key":"x","from":1,"to":3}`, `{"type":"cas_ok"}`},
		{`{"type":"read","key":"x"}`, `{"type":"read_ok","value":3}`},
		// create_if_not_exists only matters when the key is missing.
		{`{"type":"cas","key":"x","from":9,"to":4,"create_if_not_exists":true}`, `{"code":22,"text":"current value 3 is not 9","type":"error"}`},
		{`{"type":"cas","key":"y","from":9,"to":"new","create_if_not_exists":true}`, `{"type":"cas_ok"}`},
		{`{"type":"read","key":"y"}`, `{"type":"read_ok","value":"new"}`},
		{`{"type":"cas","key":"z","from":9,"to":4,"create_if_not_exists":false}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		// Errors print values in EDN: strings quoted, collections Clojure-style.
		{`{"type":"cas","key":"y","from":"old","to":"x"}`, `{"code":22,"text":"current value \"new\" is not \"old\"","type":"error"}`},
		{`{"type":"write","key":"v","value":[1,"a",null,{"k":true}]}`, `{"type":"write_ok"}`},
		{`{"type":"cas","key":"v","from":[1],"to":0}`, `{"code":22,"text":"current value [1 \"a\" nil {\"k\" true}] is not [1]","type":"error"}`},
		{`{"type":"read","key":"v"}`, `{"type":"read_ok","value":[1,"a",null,{"k":true}]}`},
		// Structural equality on keys and values: 1 ≠ "1", 1 ≠ 1.0, arrays by content.
		{`{"type":"write","key":1,"value":"int key"}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":"1"}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"read","key":1.0}`, `{"code":20,"text":"key does not exist","type":"error"}`},
		{`{"type":"read","key":1}`, `{"type":"read_ok","value":"int key"}`},
		{`{"type":"write","key":[1,{"a":[2]}],"value":5}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":[1,{"a":[2]}]}`, `{"type":"read_ok","value":5}`},
		{`{"type":"cas","key":[1,{"a":[2]}],"from":5.0,"to":6}`, `{"code":22,"text":"current value 5 is not 5.0","type":"error"}`},
		{`{"type":"cas","key":[1,{"a":[2]}],"from":5,"to":6}`, `{"type":"cas_ok"}`},
		// A missing key field is the key null, as in Maelstrom.
		{`{"type":"write","value":"nil key"}`, `{"type":"write_ok"}`},
		{`{"type":"read","key":null}`, `{"type":"read_ok","value":"nil key"}`},
		// Unknown or missing types get no reply at all.
		{`{"type":"ts"}`, `<no reply>`},
		{`{"type":"delete","key":"x"}`, `<no reply>`},
		{`{"key":"x"}`, `<no reply>`},
		{`{"type":7,"key":"x"}`, `<no reply>`},
		{`{"type":"read","key":"x"}`, `{"type":"read_ok","value":3}`},
	}
	for _, name := range []string{LinKV, SeqKV} {
		s := mustNew(t, name, 1)
		for i, step := range script {
			if got := call(t, s, "n1", step.req); got != step.want {
				t.Errorf("%s step %d: %s\n got  %s\n want %s", name, i, step.req, got, step.want)
			}
		}
	}
}

func TestCreateIfNotExistsUsesClojureTruth(t *testing.T) {
	// Maelstrom tests the flag with Clojure truth: only null/false disable it.
	for flag, want := range map[string]string{
		`true`: `{"type":"cas_ok"}`, `0`: `{"type":"cas_ok"}`, `"no"`: `{"type":"cas_ok"}`,
		`false`: `{"code":20,"text":"key does not exist","type":"error"}`,
		`null`:  `{"code":20,"text":"key does not exist","type":"error"}`,
	} {
		s := mustNew(t, LinKV, 1)
		req := `{"type":"cas","key":"k","from":1,"to":2,"create_if_not_exists":` + flag + `}`
		if got := call(t, s, "n1", req); got != want {
			t.Errorf("create_if_not_exists %s: got %s, want %s", flag, got, want)
		}
	}
}

func TestRepliesCarryNoInReplyTo(t *testing.T) {
	for _, name := range Names() {
		s := mustNew(t, name, 1)
		req := `{"type":"read","key":"x","msg_id":5}`
		if name == LinTSO {
			req = `{"type":"ts","msg_id":5}`
		}
		reply, ok := s.Handle("n1", body(t, req))
		if !ok {
			t.Fatalf("%s: no reply", name)
		}
		for _, k := range []string{"in_reply_to", "msg_id"} {
			if _, has := reply[k]; has {
				t.Errorf("%s reply has %s: %v", name, k, reply)
			}
		}
	}
}

// TestLinKVBehavesLikeAMap drives lin-kv with random single-caller
// requests and checks every reply against a plain map model.
func TestLinKVBehavesLikeAMap(t *testing.T) {
	rng := newRand(99)
	keys := []any{json.Number("0"), json.Number("1"), "0", "a", []any{json.Number("1")}}
	vals := []any{json.Number("0"), json.Number("1"), json.Number("2"), "1", nil}
	for _, name := range []string{LinKV, SeqKV} {
		s := mustNew(t, name, 5)
		model := map[string]any{}
		for i := range 3000 {
			k := keys[rng.IntN(len(keys))]
			req := map[string]any{"key": k}
			var want map[string]any
			cur, present := model[history.Key(k)]
			switch rng.IntN(3) {
			case 0:
				req["type"] = "read"
				want = map[string]any{"type": "read_ok", "value": cur}
				if !present {
					want = map[string]any{"type": "error", "code": 20, "text": "key does not exist"}
				}
			case 1:
				v := vals[rng.IntN(len(vals))]
				req["type"], req["value"] = "write", v
				want = map[string]any{"type": "write_ok"}
				model[history.Key(k)] = v
			case 2:
				from, to := vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
				create := rng.IntN(2) == 0
				req["type"], req["from"], req["to"], req["create_if_not_exists"] = "cas", from, to, create
				switch {
				case !present && create:
					want = map[string]any{"type": "cas_ok"}
					model[history.Key(k)] = to
				case !present:
					want = map[string]any{"type": "error", "code": 20, "text": "key does not exist"}
				case history.Key(cur) == history.Key(from):
					want = map[string]any{"type": "cas_ok"}
					model[history.Key(k)] = to
				default:
					want = map[string]any{"type": "error", "code": 22,
						"text": fmt.Sprintf("current value %s is not %s", prStr(cur), prStr(from))}
				}
			}
			got, ok := s.Handle("c1", req)
			if !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s op %d %v: got %v (%v), want %v", name, i, req, got, ok, want)
			}
		}
	}
}

func TestLinTSOCountsFromZero(t *testing.T) {
	s := mustNew(t, LinTSO, 1)
	for want := range int64(50) {
		reply, ok := s.Handle(fmt.Sprintf("n%d", want%3), body(t, `{"type":"ts","msg_id":1}`))
		if !ok || reply["type"] != "ts_ok" || reply["ts"] != want {
			t.Fatalf("request %d: got %v, %v; want ts_ok %d", want, reply, ok, want)
		}
	}
	if got := call(t, s, "n1", `{"type":"read","key":"x"}`); got != "<no reply>" {
		t.Errorf("lin-tso answered a read: %s", got)
	}
	if got := call(t, s, "n1", `{"type":"ts"}`); got != `{"ts":50,"type":"ts_ok"}` {
		t.Errorf("after an unknown request the counter moved: %s", got)
	}
}

// TestConcurrentCallsAreSafe exercises every service from several
// goroutines; run with -race to check the locking.
func TestConcurrentCallsAreSafe(t *testing.T) {
	for _, name := range Names() {
		s := mustNew(t, name, 11)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				src := fmt.Sprintf("n%d", g)
				for i := range 100 {
					var req map[string]any
					switch {
					case name == LinTSO:
						req = map[string]any{"type": "ts"}
					case i%2 == 0:
						req = map[string]any{"type": "write", "key": "k", "value": json.Number(fmt.Sprint(i))}
					default:
						req = map[string]any{"type": "read", "key": "k"}
					}
					if _, ok := s.Handle(src, req); !ok {
						t.Errorf("%s: no reply to %v", name, req)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}
