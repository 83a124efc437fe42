package workload

import (
	"context"
	"testing"

	"github.com/glomers/glomers/workbench/history"
)

// invokeCase is one reply (or transport error) a workload's client gets
// for an operation, and the completion it must record.
type invokeCase struct {
	name      string
	op        history.Op
	reply     string
	err       error
	wantType  history.Type
	wantValue any
	exception string
}

// checkInvokes performs each case's operation against a fake node that
// answers with the case's reply, and checks the completion and that the
// client sent exactly the request wantRequest(op).
func checkInvokes(t *testing.T, w Workload, cases []invokeCase, wantRequest func(history.Op) map[string]any) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeNode{reply: c.reply, err: c.err}
			out := w.Invoke(context.Background(), f.call, c.op)
			if out.Type != c.wantType {
				t.Fatalf("completion %v, want %v: %+v", out.Type, c.wantType, out)
			}
			if !history.Equal(out.Value, c.wantValue) {
				t.Errorf("value %#v, want %#v", out.Value, c.wantValue)
			}
			if out.Exception != c.exception {
				t.Errorf("exception %q, want %q", out.Exception, c.exception)
			}
			if out.Type == history.Info && out.Error == nil {
				t.Errorf("indeterminate completion without :error: %+v", out)
			}
			if len(f.got) != 1 {
				t.Fatalf("%d requests, want 1", len(f.got))
			}
			if want := wantRequest(c.op); history.Key(f.got[0]) != history.Key(want) {
				t.Errorf("request %s, want %s", history.Key(f.got[0]), history.Key(want))
			}
		})
	}
}

func TestErrorNameFollowsMaelstromsTable(t *testing.T) {
	cases := []struct {
		code     int64
		name     string
		definite bool
	}{
		{0, "timeout", false}, {11, "temporarily-unavailable", true}, {13, "crash", false},
		{20, "key-does-not-exist", true}, {22, "precondition-failed", true}, {30, "txn-conflict", true},
		{1000, "unknown", false}, {-1, "unknown", false}, {1 << 40, "unknown", false},
	}
	for _, c := range cases {
		if name, definite := ErrorName(c.code); name != c.name || definite != c.definite {
			t.Errorf("ErrorName(%d) = %s, %v; want %s, %v", c.code, name, definite, c.name, c.definite)
		}
	}
}
