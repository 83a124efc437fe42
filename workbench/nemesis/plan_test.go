package nemesis

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPlanText(t *testing.T) {
	p := Plan{
		{At: 0, Op: StartPartition, Grudge: Grudge{"n2": {"n0", "n1"}, "n0": {"n2"}, "n1": {"n2"}}},
		{At: 4500 * time.Millisecond, Op: StopPartition},
		{At: 6 * time.Second, Op: KillOp, Nodes: []string{"n1"}},
		{At: 9 * time.Second, Op: StartOp, Nodes: []string{"n1"}},
	}
	const text = "0s start-partition n0:n2,n1:n2,n2:n0+n1; 4.5s stop-partition; 6s kill n1; 9s start n1"
	if got := p.String(); got != text {
		t.Fatalf("String() = %q, want %q", got, text)
	}
	back, err := ParsePlan(text)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Fatalf("ParsePlan(String()) = %#v, want %#v", back, p)
	}
	if err := p.Check([]string{"n0", "n1", "n2"}, []string{"partition", "kill"}); err != nil {
		t.Fatal(err)
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"2 stop-partition", "want a time"},
		{"2s heal", "want an operation"},
		{"2s start-partition", "needs a grudge"},
		{"2s start-partition n0", "want receiver:sender"},
		{"2s stop-partition n0", "takes no argument"},
	} {
		if _, err := ParsePlan(tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePlan(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
	nodes := []string{"n0", "n1"}
	for _, tc := range []struct{ text, want string }{
		{"1s stop-partition", "must alternate"},
		{"1s start-partition n0:n1; 2s start-partition n1:n0", "must alternate"},
		{"2s start-partition n0:n1; 1s stop-partition", "out of time order"},
		{"1s start-partition n0:n7", "not a node"},
		{"1s pause n0", "--nemesis does not list pause"},
		{"1s kill", "needs one node"},
	} {
		p := MustParsePlan(tc.text)
		if err := p.Check(nodes, []string{"partition", "kill"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}
