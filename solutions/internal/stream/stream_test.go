package stream

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestInboundAdd(t *testing.T) {
	type span = Span[int]
	tests := []struct {
		name  string
		adds  []span
		next  int
		ahead []span
	}{
		{"in order", []span{{0, 2}, {2, 5}}, 5, nil},
		{"duplicate", []span{{0, 3}, {0, 3}, {1, 2}}, 3, nil},
		{"overlapping", []span{{0, 3}, {2, 6}}, 6, nil},
		{"gap stays open", []span{{0, 2}, {4, 6}}, 2, []span{{4, 6}}},
		{"gap fills", []span{{0, 2}, {4, 6}, {2, 4}}, 6, nil},
		{"ranges ahead merge when they touch", []span{{5, 6}, {3, 4}, {4, 5}}, 0, []span{{3, 6}}},
		{"ranges ahead stay apart", []span{{7, 8}, {3, 4}, {5, 6}}, 0, []span{{3, 4}, {5, 6}, {7, 8}}},
		{"a range swallows several", []span{{3, 4}, {5, 6}, {7, 8}, {2, 9}}, 0, []span{{2, 9}}},
		{"prefix swallows part of ahead", []span{{3, 4}, {6, 8}, {0, 5}}, 5, []span{{6, 8}}},
		{"empty and stale ranges", []span{{0, 4}, {2, 2}, {1, 3}, {6, 5}}, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Inbound[int]
			for _, s := range tt.adds {
				in.Add(s.Lo, s.Hi)
			}
			if len(in.Ahead) == 0 {
				in.Ahead = nil
			}
			if in.Next != tt.next || !reflect.DeepEqual(in.Ahead, tt.ahead) {
				t.Errorf("after %v: next %d, ahead %v; want %d, %v", tt.adds, in.Next, in.Ahead, tt.next, tt.ahead)
			}
		})
	}
}

// TestInboundMatchesASet feeds random, overlapping, reordered ranges and
// checks Next and Ahead against a plain set of positions after each one,
// for both position types.
func TestInboundMatchesASet(t *testing.T) {
	t.Run("int", func(t *testing.T) { matchesASet[int](t) })
	t.Run("int64", func(t *testing.T) { matchesASet[int64](t) })
}

func matchesASet[P Position](t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		const n = 60
		var in Inbound[P]
		have := make([]bool, n)
		for step := 0; step < 40; step++ {
			lo := r.IntN(n)
			hi := min(n, lo+r.IntN(6))
			in.Add(P(lo), P(hi))
			if len(in.Ahead) == 0 {
				in.Ahead = nil
			}
			for i := lo; i < hi; i++ {
				have[i] = true
			}
			next := 0
			for next < n && have[next] {
				next++
			}
			var ahead []Span[P]
			for i := next; i < n; i++ {
				if !have[i] {
					continue
				}
				if len(ahead) > 0 && ahead[len(ahead)-1].Hi == P(i) {
					ahead[len(ahead)-1].Hi++
				} else {
					ahead = append(ahead, Span[P]{P(i), P(i + 1)})
				}
			}
			if in.Next != P(next) || !reflect.DeepEqual(in.Ahead, ahead) {
				t.Fatalf("trial %d step %d: next %d ahead %v; the set says %d %v", trial, step, in.Next, in.Ahead, next, ahead)
			}
		}
	}
}

// An acknowledgement is owed within the delay of the first batch not yet
// acknowledged (a later batch does not push it back), at once for a
// retransmission, and nothing is owed once it went out.
func TestInboundOwe(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var in Inbound[int64]
	if in.Owed() {
		t.Fatal("a fresh stream owes an acknowledgement")
	}
	in.Owe(t0, false, 2*time.Second)
	in.Owe(t0.Add(time.Second), false, 2*time.Second)
	if !in.AckDue.Equal(t0.Add(2*time.Second)) || in.Urgent {
		t.Errorf("due %v urgent %v; want the first batch's deadline", in.AckDue.Sub(t0), in.Urgent)
	}
	in.Owe(t0.Add(1500*time.Millisecond), true, 2*time.Second)
	if !in.AckDue.Equal(t0.Add(1500*time.Millisecond)) || !in.Urgent {
		t.Errorf("due %v urgent %v after a retransmission; want now and urgent", in.AckDue.Sub(t0), in.Urgent)
	}
	in.Acked()
	if in.Owed() || in.Urgent {
		t.Error("still owed after Acked")
	}
}
