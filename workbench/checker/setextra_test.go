package checker

import (
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

func setOps(reads ...[]any) []history.Op {
	ops := []history.Op{
		{Type: history.Invoke, Process: 0, F: "add", Value: int64(1)},
		{Type: history.OK, Process: 0, F: "add", Value: int64(1)},
		{Type: history.Invoke, Process: 0, F: "add", Value: int64(2)},
		{Type: history.Info, Process: 0, F: "add", Value: int64(2)},
	}
	for _, r := range reads {
		ops = append(ops,
			history.Op{Type: history.Invoke, Process: 1, F: "read"},
			history.Op{Type: history.OK, Process: 1, F: "read", Value: r})
	}
	for i := range ops {
		ops[i].Index = i
	}
	return ops
}

func TestSetExtrasAcceptsCleanReads(t *testing.T) {
	// Element 2's add was indeterminate: reading it is fine.
	res := SetExtras(setOps([]any{int64(1)}, []any{int64(2), int64(1)}))
	if ValidityOf(res) != Valid {
		t.Errorf("clean history judged %v: %v", ValidityOf(res), res)
	}
}

func TestSetExtrasRejectsDuplicates(t *testing.T) {
	res := SetExtras(setOps([]any{int64(1), int64(1)}))
	if ValidityOf(res) != Invalid {
		t.Fatalf("duplicate accepted: %v", res)
	}
	if n, _ := res.Get(edn.Keyword("duplicated-read-count")); n != 1 {
		t.Errorf("duplicated-read-count = %v, want 1", n)
	}
}

func TestSetExtrasRejectsPhantoms(t *testing.T) {
	res := SetExtras(setOps([]any{int64(1), int64(99)}, []any{int64(99)}))
	if ValidityOf(res) != Invalid {
		t.Fatalf("phantom accepted: %v", res)
	}
	if n, _ := res.Get(edn.Keyword("unexpected-count")); n != 1 {
		t.Errorf("unexpected-count = %v, want 1 (one distinct element)", n)
	}
}
