package counter_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/counter"
)

// readValue reads the counter through c, failing the test unless the
// reply is read_ok.
func readValue(t *testing.T, c *nodetest.Conn) int64 {
	t.Helper()
	m, err := c.Call(context.Background(), "c1", map[string]any{"type": "read"})
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Value int64 }
	if m.Type() != "read_ok" || m.Unmarshal(&body) != nil {
		t.Fatalf("read answered %s", m.Body)
	}
	return body.Value
}

// wantRefused fails unless m is a definite abort error.
func wantRefused(t *testing.T, m node.Message, what string) {
	t.Helper()
	if e := m.RPCError(); e == nil || e.Code != node.Abort || !e.Definite() {
		t.Fatalf("%s answered %s, want a definite abort (14)", what, m.Body)
	}
}

// Adds that would overflow the pn-counter's int64 are refused, in either
// direction, and the value stays what the accepted adds make it.
func TestPNCounterRefusesOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := node.New(node.WithLogOutput(t.Output()))
		counter.RegisterPN(n)
		c := nodetest.Start(t, n)
		c.Init("n0", []string{"n0"})
		if m := add(t, c, math.MaxInt64); m.Type() != "add_ok" {
			t.Fatalf("first add of 2⁶³−1 answered %s", m.Body)
		}
		wantRefused(t, add(t, c, math.MaxInt64), "second add of 2⁶³−1")
		wantRefused(t, add(t, c, 1), "add of 1 at 2⁶³−1")
		if v := readValue(t, c); v != math.MaxInt64 {
			t.Fatalf("read %d, want %d", v, int64(math.MaxInt64))
		}
		// Negative adds are summed apart (N) and may overflow on their own.
		if m := add(t, c, -math.MaxInt64); m.Type() != "add_ok" {
			t.Fatalf("add of −(2⁶³−1) answered %s", m.Body)
		}
		wantRefused(t, add(t, c, -1), "add of −1 when N is already 2⁶³−1")
		wantRefused(t, add(t, c, math.MinInt64), "add of −2⁶³")
		if v := readValue(t, c); v != 0 {
			t.Fatalf("read %d, want 0", v)
		}
	})
}

// The g-counter refuses an add beyond int64 as well.
func TestGCounterRefusesOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := startCounter(t, "n0", []string{"n0"})
		if m := add(t, c, math.MaxInt64-1); m.Type() != "add_ok" {
			t.Fatalf("add of 2⁶³−2 answered %s", m.Body)
		}
		wantRefused(t, add(t, c, 2), "add of 2 at 2⁶³−2")
		if m := add(t, c, 1); m.Type() != "add_ok" {
			t.Fatalf("add of 1 at 2⁶³−2 answered %s", m.Body)
		}
		wantRefused(t, add(t, c, math.MaxInt64), "add of 2⁶³−1 at 2⁶³−1")
	})
}
