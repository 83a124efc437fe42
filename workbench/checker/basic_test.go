package checker

import (
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/edn"
)

func TestStatsKindThatNeverSucceedsIsInvalid(t *testing.T) {
	b := newBuilder().
		Inv(0, "read", nil).OK(0, "read", []any{}).
		Inv(1, "add", 1).Info(1, "add", 1).
		Nemesis("start-partition").
		Inv(3, "add", 2).Fail(3, "add", 2).
		Inv(2, "crash", nil).Info(2, "crash", nil)
	checkertest.Expect(t, Stats(b.Ops), "{:valid? false, :count 4, :ok-count 1, :fail-count 1, :info-count 2, :by-f {"+
		":add {:valid? false, :count 2, :ok-count 0, :fail-count 1, :info-count 1}, "+
		":crash {:valid? false, :count 1, :ok-count 0, :fail-count 0, :info-count 1}, "+
		":read {:valid? true, :count 1, :ok-count 1, :fail-count 0, :info-count 0}}}")
}

func TestStatsIgnoresCrashAndDebugKinds(t *testing.T) {
	b := newBuilder().
		Inv(0, "send", nil).OK(0, "send", nil).
		Inv(1, "poll", nil).OK(1, "poll", nil).
		Inv(1, "poll", nil).Info(1, "poll", nil).
		Inv(2, "crash", nil).Info(2, "crash", nil).
		Inv(3, "debug-topic-partitions", nil).Fail(3, "debug-topic-partitions", nil)
	got := Stats(b.Ops)
	if ValidityOf(got) != Valid {
		t.Errorf(":crash and :debug-topic-partitions must not invalidate stats: %s", checkertest.Show(got))
	}
	if want := "{:valid? true, :count 5, :ok-count 2, :fail-count 1, :info-count 2, :by-f {" +
		":crash {:valid? false, :count 1, :ok-count 0, :fail-count 0, :info-count 1}, " +
		":debug-topic-partitions {:valid? false, :count 1, :ok-count 0, :fail-count 1, :info-count 0}, " +
		":poll {:valid? true, :count 2, :ok-count 1, :fail-count 0, :info-count 1}, " +
		":send {:valid? true, :count 1, :ok-count 1, :fail-count 0, :info-count 0}}}"; checkertest.Show(got) != want {
		t.Errorf("got  %s\nwant %s", checkertest.Show(got), want)
	}
}

func TestStatsEmpty(t *testing.T) {
	checkertest.Expect(t, Stats(newBuilder().Nemesis("x").Ops),
		"{:valid? true, :count 0, :ok-count 0, :fail-count 0, :info-count 0, :by-f {}}")
}

func TestAvailability(t *testing.T) {
	// 4 client invocations, 3 :ok: 0.75. The nemesis pair does not count.
	b := newBuilder().
		Inv(0, "generate", nil).OK(0, "generate", 1).
		Nemesis("start-partition").
		Inv(1, "generate", nil).OK(1, "generate", 2).
		Inv(2, "generate", nil).Info(2, "generate", nil).
		Inv(3, "generate", nil).OK(3, "generate", 3)
	cases := map[string]string{
		"":      "{:valid? true, :ok-fraction 0.75}",
		"total": "{:valid? false, :ok-fraction 0.75}",
		"0.75":  "{:valid? true, :ok-fraction 0.75}",
		"0.5":   "{:valid? true, :ok-fraction 0.75}",
		"0.8":   "{:valid? false, :ok-fraction 0.75}",
		"0":     "{:valid? true, :ok-fraction 0.75}",
	}
	for expected, want := range cases {
		if got := checkertest.Show(Availability(b.Ops, expected)); got != want {
			t.Errorf("Availability(%q) = %s, want %s", expected, got, want)
		}
	}
	bad := Availability(b.Ops, "most")
	if ValidityOf(bad) != Unknown || len(bad) != 2 {
		t.Errorf("bad expectation should be {:valid? :unknown, :error ...}, got %s", checkertest.Show(bad))
	}
}

func TestAvailabilityTotal(t *testing.T) {
	all := newBuilder().Inv(0, "generate", nil).OK(0, "generate", 1).Inv(0, "generate", nil).OK(0, "generate", 2)
	checkertest.Expect(t, Availability(all.Ops, "total"), "{:valid? true, :ok-fraction 1.0}")
	// One :info among three: 2/3 as a float32.
	oneInfo := newBuilder().
		Inv(0, "generate", nil).OK(0, "generate", 1).
		Inv(0, "generate", nil).Info(0, "generate", nil).
		Inv(3, "generate", nil).OK(3, "generate", 2)
	checkertest.Expect(t, Availability(oneInfo.Ops, "total"), "{:valid? false, :ok-fraction 0.6666667}")
	// Nothing invoked: Maelstrom reports the integer 1, and that is total.
	checkertest.Expect(t, Availability(newBuilder().Nemesis("x").Ops, "total"), "{:valid? true, :ok-fraction 1}")
}

func TestParseAvailability(t *testing.T) {
	for _, s := range []string{"", "total", "0", "1", "0.5", "0.999"} {
		if err := ParseAvailability(s); err != nil {
			t.Errorf("ParseAvailability(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{"Total", "1.5", "-0.1", "NaN", "half", " 0.5"} {
		if err := ParseAvailability(s); err == nil {
			t.Errorf("ParseAvailability(%q) accepted", s)
		}
	}
}

func TestExceptions(t *testing.T) {
	b := newBuilder().
		Inv(0, "echo", "a").Info(0, "echo", "a").Exception("timeout-ex"). // 1
		Inv(1, "echo", "b").Info(1, "echo", "b").Exception("malformed").  // 3
		Inv(2, "echo", "c").Info(2, "echo", "c").Exception("malformed").  // 5
		Inv(3, "echo", "d").Info(3, "echo", "d").                         // no exception
		Inv(4, "echo", "e").OK(4, "echo", "e").
		Inv(5, "echo", "f").Info(5, "echo", "f").Exception("malformed"). // 11
		Inv(6, "echo", "g").Info(6, "echo", "g").Exception("other")      // 13
	got := Exceptions(b.Ops)
	excs, ok := checkertest.Get(t, got, "exceptions").(edn.List)
	if !ok || len(excs) != 3 {
		t.Fatalf("want 3 exception classes, got %s", checkertest.Show(got))
	}
	// malformed (3) first, then the two singletons in order of appearance.
	wantClass := []string{"malformed", "timeout-ex", "other"}
	wantCount := []int{3, 1, 1}
	wantIndex := []int{3, 1, 13}
	for i, e := range excs {
		m := e.(edn.Map)
		if c := checkertest.Get(t, m, "class"); c != wantClass[i] {
			t.Errorf("exception %d: class %v, want %s", i, c, wantClass[i])
		}
		if c := checkertest.Get(t, m, "count"); c != wantCount[i] {
			t.Errorf("exception %d: count %v, want %d", i, c, wantCount[i])
		}
		if ix := checkertest.Get(t, checkertest.Get(t, m, "example").(edn.Map), "index"); ix != wantIndex[i] {
			t.Errorf("exception %d: example index %v, want %d", i, ix, wantIndex[i])
		}
	}
	if ValidityOf(got) != Valid {
		t.Error("exceptions are informational")
	}
	checkertest.Expect(t, Exceptions(newBuilder().Inv(0, "echo", "a").Info(0, "echo", "a").Ops), "{:valid? true}")
}

func TestPerfAndTimeline(t *testing.T) {
	checkertest.Expect(t, Perf(), "{:latency-graph {:valid? true}, :rate-graph {:valid? true}, :valid? true}")
	checkertest.Expect(t, Timeline(), "{:valid? true}")
}

func TestCompose(t *testing.T) {
	ok := edn.K("valid?", true)
	unknown := edn.K("valid?", edn.Keyword("unknown"))
	bad := edn.K("valid?", false)
	checkertest.Expect(t, Compose(edn.K("perf", ok, "stats", ok)), "{:perf {:valid? true}, :stats {:valid? true}, :valid? true}")
	checkertest.Expect(t, Compose(edn.K("a", ok, "b", unknown, "c", ok)),
		"{:a {:valid? true}, :b {:valid? :unknown}, :c {:valid? true}, :valid? :unknown}")
	if v := ValidityOf(Compose(edn.K("a", bad, "b", unknown, "c", ok))); v != Invalid {
		t.Errorf("false must beat :unknown, got %v", v)
	}
	if v := ValidityOf(Compose(edn.K("a", ok, "b", "not a map"))); v != Unknown {
		t.Errorf("a non-map result counts as :unknown, got %v", v)
	}
	// A stale :valid? is replaced and moved to the end; the input is untouched.
	in := edn.K("valid?", true, "w", bad)
	checkertest.Expect(t, Compose(in), "{:w {:valid? false}, :valid? false}")
	checkertest.Expect(t, in, "{:valid? true, :w {:valid? false}}")
	checkertest.Expect(t, Compose(edn.Map{}), "{:valid? true}")
}

// A Composed result places :valid? last whatever order its sections
// came in, leaves advisory sections out of the verdict, and names the
// sections that failed it.
func TestComposed(t *testing.T) {
	ok := edn.K("valid?", true)
	unknown := edn.K("valid?", edn.Keyword("unknown"))
	bad := edn.K("valid?", false)
	c := Composed{
		{Name: "stats", Result: ok},
		{Name: "workload", Result: unknown},
		{Name: "availability", Result: ok},
		{Name: "glomers", Result: bad, Advisory: true},
	}
	checkertest.Expect(t, c.Map(), "{:stats {:valid? true}, :workload {:valid? :unknown}, :availability {:valid? true}, :glomers {:valid? false}, :valid? :unknown}")
	if v := c.Validity(); v != Unknown {
		t.Errorf("verdict %v, want unknown: the advisory false must not count", v)
	}
	if f := c.Failing(); len(f) != 1 || f[0] != "workload" {
		t.Errorf("failing %v, want [workload]", f)
	}
	c[3].Advisory = false
	if v, f := c.Validity(), c.Failing(); v != Invalid || len(f) != 2 || f[1] != "glomers" {
		t.Errorf("with the section counted: %v, failing %v", v, f)
	}
	out, err := edn.Marshal(c)
	if err != nil || string(out) != "{:stats {:valid? true}, :workload {:valid? :unknown}, :availability {:valid? true}, :glomers {:valid? false}, :valid? false}" {
		t.Errorf("edn.Marshal(Composed) = %s, %v", out, err)
	}
	if v, f := (Composed{}).Validity(), (Composed{}).Failing(); v != Valid || f != nil {
		t.Errorf("empty: %v %v", v, f)
	}
}

func TestValidityText(t *testing.T) {
	for _, v := range []Validity{Valid, Invalid, Unknown} {
		b, err := v.MarshalText()
		var back Validity = 42
		if err != nil || back.UnmarshalText(b) != nil || back != v {
			t.Errorf("%v: %q, %v, read back %v", v, b, err, back)
		}
	}
	var v Validity = Valid
	if v.UnmarshalText([]byte("maybe")); v != Unknown {
		t.Errorf("unrecognised text read as %v", v)
	}
}
