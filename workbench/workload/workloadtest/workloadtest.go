// Package workloadtest holds what the tests of the workload packages
// share: a small environment, a generator drain, a fake node that
// answers a client's requests with canned replies, and a relay for test
// nodes that pass requests on.
package workloadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/workload"
)

// Env is an environment of three nodes and three threads whose
// generator randomness is seeded with seed.
func Env(seed uint64) *workload.Env {
	return &workload.Env{Nodes: []string{"n0", "n1", "n2"}, Concurrency: 3, Rand: rand.New(rand.NewPCG(seed, 1))}
}

// Draw takes n main-phase operations from w.
func Draw(t *testing.T, w workload.Workload, n int) []history.Op {
	t.Helper()
	ops := make([]history.Op, n)
	for i := range ops {
		op, ok := w.NextOp(i%3, i%3)
		if !ok {
			t.Fatalf("generator exhausted after %d ops", i)
		}
		ops[i] = op
	}
	return ops
}

// FakeNode answers every request with a canned reply (raw JSON) or an
// error and remembers what it was asked.
type FakeNode struct {
	Reply string
	Err   error
	Got   []map[string]any
}

// Call is the node's workload.Caller.
func (f *FakeNode) Call(_ context.Context, body map[string]any, _ time.Duration) (netsim.Reply, error) {
	f.Got = append(f.Got, body)
	if f.Err != nil {
		return netsim.Reply{}, f.Err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(f.Reply)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	return netsim.Reply{Body: m, Raw: json.RawMessage(f.Reply)}, nil
}

// InvokeCase is one reply (or transport error) a workload's client gets
// for an operation, and the completion it must record.
type InvokeCase struct {
	Name      string
	Op        history.Op
	Reply     string
	Err       error
	WantType  history.Type
	WantValue any
	Exception string
}

// CheckInvokes performs each case's operation against a fake node that
// answers with the case's reply, and checks the completion and that the
// client sent exactly the request wantRequest(op).
func CheckInvokes(t *testing.T, w workload.Workload, cases []InvokeCase, wantRequest func(history.Op) map[string]any) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			f := &FakeNode{Reply: c.Reply, Err: c.Err}
			out := w.Invoke(context.Background(), f.Call, c.Op)
			if out.Type != c.WantType {
				t.Fatalf("completion %v, want %v: %+v", out.Type, c.WantType, out)
			}
			if !history.Equal(out.Value, c.WantValue) {
				t.Errorf("value %#v, want %#v", out.Value, c.WantValue)
			}
			if out.Exception != c.Exception {
				t.Errorf("exception %q, want %q", out.Exception, c.Exception)
			}
			if out.Type == history.Info && out.Error == nil {
				t.Errorf("indeterminate completion without :error: %+v", out)
			}
			if len(f.Got) != 1 {
				t.Fatalf("%d requests, want 1", len(f.Got))
			}
			if want := wantRequest(c.Op); history.Key(f.Got[0]) != history.Key(want) {
				t.Errorf("request %s, want %s", history.Key(f.Got[0]), history.Key(want))
			}
		})
	}
}

// New builds a workload with c for Env(seed), failing the test on error.
func New(t *testing.T, c workload.Constructor, seed uint64) workload.Workload {
	t.Helper()
	w, err := c(Env(seed))
	if err != nil {
		t.Fatalf("building the workload: %v", err)
	}
	return w
}

// Relay answers msg, a request to node n, with what dest answers to the
// same body: the request goes on without its msg_id, and the answer comes
// back without dest's msg_id and in_reply_to, so n.Reply numbers it
// afresh. Test nodes use it to pass requests to a leader or a service.
func Relay(n *node.Node, msg node.Message, dest string) error {
	var body map[string]any
	if err := msg.Unmarshal(&body); err != nil {
		return err
	}
	delete(body, "msg_id")
	reply, err := n.Call(n.Context(), dest, body)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := reply.Unmarshal(&out); err != nil {
		return err
	}
	delete(out, "msg_id")
	delete(out, "in_reply_to")
	return n.Reply(msg, out)
}

// BenchExplain measures what explaining a failing history costs beside
// the analysis the runner makes of it (stats, availability, exceptions
// and the workload's check): each iteration runs both, the explanation
// by e over an Evidence of ops on nodes n0, n1, … (one thread each),
// and the benchmark reports the time of each per iteration and the
// explanation's as a percentage of the analysis's (explain-%), the
// figure the explanations are held to. An explanation that finds
// nothing fails the benchmark.
func BenchExplain(b *testing.B, ops []history.Op, nodes int, check func([]history.Op) edn.Map, e explain.Explainer) {
	b.Helper()
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i)
	}
	workloadResult := check(ops)
	var analysing, explaining time.Duration
	n := 0
	for b.Loop() {
		began := time.Now()
		checker.Stats(ops)
		checker.Availability(ops, "")
		checker.Exceptions(ops)
		check(ops)
		analysing += time.Since(began)
		began = time.Now()
		ev := &explain.Evidence{Ops: ops, Nodes: ids, Concurrency: nodes, Workload: workloadResult}
		if len(e.Explain(ev)) == 0 {
			b.Fatal("nothing explained")
		}
		explaining += time.Since(began)
		n++
	}
	b.ReportMetric(float64(analysing.Nanoseconds())/float64(n), "analysis-ns/op")
	b.ReportMetric(float64(explaining.Nanoseconds())/float64(n), "explain-ns/op")
	b.ReportMetric(100*float64(explaining)/float64(analysing), "explain-%")
}
