package cli

import (
	"strings"
	"testing"
)

func TestNemesisPlanFlag(t *testing.T) {
	o, err := parseTest([]string{"-w", "broadcast", "--bin", "x", "--nemesis", "partition",
		"--nemesis-plan", "0s start-partition n0:n1,n1:n0; 2.5s stop-partition"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.cfg.FaultPlan.String(); got != "0s start-partition n0:n1,n1:n0; 2.5s stop-partition" {
		t.Errorf("FaultPlan = %q", got)
	}
	if _, err := parseTest([]string{"-w", "broadcast", "--bin", "x", "--nemesis-plan", "soon kill n1"}); err == nil || !strings.Contains(err.Error(), "--nemesis-plan") {
		t.Errorf("a bad plan: %v", err)
	}
}
