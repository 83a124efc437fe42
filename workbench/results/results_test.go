package results

import (
	"reflect"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
)

// A summary reads back as it was written, with the verdict as text.
func TestSummaryRoundTrip(t *testing.T) {
	s := Summary{
		Valid: checker.Invalid, Failing: []string{"workload", "availability"},
		MsgsPerOp:  &MsgsPerOp{Servers: 1.3333334, All: 3.5},
		OKFraction: 0.75,
		Ops:        Ops{Invoked: 8, OK: 6, Fail: 1, Info: 1, Refused: 1},
		Latency:    &Latency{P50: 1.5, P95: 3, P99: 4, Max: 12.25},
		Dir:        "store/echo/20260102T030405.000Z", Seed: 1 << 63,
	}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"valid": "false"`, `"servers": 1.3333334`, `"seed": 9223372036854775808`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary.json lacks %s:\n%s", want, b)
		}
	}
	back, err := Parse(b)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("read back %+v, %v; want %+v", back, err, s)
	}
	if _, err := Parse([]byte("{")); err == nil {
		t.Error("a truncated summary parsed")
	}
}

func TestOpsFigures(t *testing.T) {
	o := Ops{Invoked: 10, OK: 5, Fail: 3, Info: 1, Pending: 1, NoRequest: 2, Refused: 2}
	if o.Completed() != 9 || o.NotOKRequests() != 3 {
		t.Errorf("completed %d, not-ok requests %d", o.Completed(), o.NotOKRequests())
	}
	if f, ok := o.ServedFraction(); !ok || f != 0.7 {
		t.Errorf("served fraction %v %v, want 0.7", f, ok)
	}
	if _, ok := (Ops{}).ServedFraction(); ok {
		t.Error("a run without operations has a served fraction")
	}
}
