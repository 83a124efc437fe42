// Package checkertest holds what the tests of checkers share, wherever
// the checker lives: a builder of histories and helpers that compare a
// result with the EDN Maelstrom would print.
package checkertest

import (
	"fmt"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Steps assembles a history: each op gets the next index and the current
// time, then time advances by 1 ms. Its methods return Self, so a test
// package can embed Steps in a builder of its own that adds operations
// of its workload (a kafka send, a lin-kv cas) and still chain every
// call; History is the builder with nothing added.
type Steps[S any] struct {
	Ops  []history.Op
	Self S
	now  int64 // ns
}

// History is a builder of plain operations.
type History struct{ *Steps[*History] }

// NewHistory returns an empty History builder.
func NewHistory() *History {
	return Build(func(s *Steps[*History]) *History { return &History{s} })
}

// At sets the time of the next op, in milliseconds.
func (b *Steps[S]) At(ms int64) S { b.now = ms * 1_000_000; return b.Self }

// Add appends an op of the given type, process, function and value.
func (b *Steps[S]) Add(t history.Type, p int, f string, v any) S {
	b.Ops = append(b.Ops, history.Op{Index: len(b.Ops), Time: b.now, Type: t, Process: p, F: f, Value: v})
	b.now += 1_000_000
	return b.Self
}

// Inv appends an invocation.
func (b *Steps[S]) Inv(p int, f string, v any) S { return b.Add(history.Invoke, p, f, v) }

// OK appends an :ok completion.
func (b *Steps[S]) OK(p int, f string, v any) S { return b.Add(history.OK, p, f, v) }

// Fail appends a :fail completion.
func (b *Steps[S]) Fail(p int, f string, v any) S { return b.Add(history.Fail, p, f, v) }

// Info appends an :info completion.
func (b *Steps[S]) Info(p int, f string, v any) S { return b.Add(history.Info, p, f, v) }

// Nemesis records a nemesis start/stop pair, which checkers must ignore.
func (b *Steps[S]) Nemesis(f string) S {
	b.Add(history.Info, history.NemesisProcess, f, nil)
	return b.Add(history.Info, history.NemesisProcess, f, "done")
}

// Final marks the last op as a final-phase op.
func (b *Steps[S]) Final() S { b.Ops[len(b.Ops)-1].Final = true; return b.Self }

// Exception sets the exception class of the last op.
func (b *Steps[S]) Exception(class string) S {
	b.Ops[len(b.Ops)-1].Exception = class
	b.Ops[len(b.Ops)-1].ExceptionMessage = "msg " + class
	return b.Self
}

// Show renders checker output as compact EDN so tests can state expected
// results the way Maelstrom prints them. Integers print alike whatever
// their Go type; float32 prints with float32 precision.
func Show(v any) string {
	b, err := edn.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%T %v: %v>", v, v, err)
	}
	return string(b)
}

// Expect fails the test when got does not render as want.
func Expect(t *testing.T, got edn.Map, want string) {
	t.Helper()
	if s := Show(got); s != want {
		t.Errorf("result mismatch\n got: %s\nwant: %s", s, want)
	}
}

// Get returns the value under a keyword key, failing the test if absent.
func Get(t *testing.T, m edn.Map, key string) any {
	t.Helper()
	v, ok := m.Get(edn.Keyword(key))
	if !ok {
		t.Fatalf("no :%s in %s", key, Show(m))
	}
	return v
}

// Build returns a new builder of a test package's own type, which wrap
// makes around the steps it embeds.
func Build[S any](wrap func(*Steps[S]) S) S {
	s := &Steps[S]{}
	s.Self = wrap(s)
	return s.Self
}
