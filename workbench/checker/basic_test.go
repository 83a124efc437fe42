package checker

import (
	"testing"

	"github.com/glomers/glomers/workbench/edn"
)

func TestStatsKindThatNeverSucceedsIsInvalid(t *testing.T) {
	b := newBuilder().
		inv(0, "read", nil).ok(0, "read", []any{}).
		inv(1, "add", 1).info(1, "add", 1).
		nemesis("start-partition").
		inv(3, "add", 2).fail(3, "add", 2).
		inv(2, "crash", nil).info(2, "crash", nil)
	expect(t, Stats(b.ops), "{:valid? false, :count 4, :ok-count 1, :fail-count 1, :info-count 2, :by-f {"+
		":add {:valid? false, :count 2, :ok-count 0, :fail-count 1, :info-count 1}, "+
		":crash {:valid? false, :count 1, :ok-count 0, :fail-count 0, :info-count 1}, "+
		":read {:valid? true, :count 1, :ok-count 1, :fail-count 0, :info-count 0}}}")
}

func TestStatsIgnoresCrashAndDebugKinds(t *testing.T) {
	b := newBuilder().
		inv(0, "send", nil).ok(0, "send", nil).
		inv(1, "poll", nil).ok(1, "poll", nil).
		inv(1, "poll", nil).info(1, "poll", nil).
		inv(2, "crash", nil).info(2, "crash", nil).
		inv(3, "debug-topic-partitions", nil).fail(3, "debug-topic-partitions", nil)
	got := Stats(b.ops)
	if ValidityOf(got) != Valid {
		t.Errorf(":crash and :debug-topic-partitions must not invalidate stats: %s", show(got))
	}
	if want := "{:valid? true, :count 5, :ok-count 2, :fail-count 1, :info-count 2, :by-f {" +
		":crash {:valid? false, :count 1, :ok-count 0, :fail-count 0, :info-count 1}, " +
		":debug-topic-partitions {:valid? false, :count 1, :ok-count 0, :fail-count 1, :info-count 0}, " +
		":poll {:valid? true, :count 2, :ok-count 1, :fail-count 0, :info-count 1}, " +
		":send {:valid? true, :count 1, :ok-count 1, :fail-count 0, :info-count 0}}}"; show(got) != want {
		t.Errorf("got  %s\nwant %s", show(got), want)
	}
}

func TestStatsEmpty(t *testing.T) {
	expect(t, Stats(newBuilder().nemesis("x").ops),
		"{:valid? true, :count 0, :ok-count 0, :fail-count 0, :info-count 0, :by-f {}}")
}

func TestAvailability(t *testing.T) {
	// 4 client invocations, 3 :ok: 0.75. The nemesis pair does not count.
	b := newBuilder().
		inv(0, "generate", nil).ok(0, "generate", 1).
		nemesis("start-partition").
		inv(1, "generate", nil).ok(1, "generate", 2).
		inv(2, "generate", nil).info(2, "generate", nil).
		inv(3, "generate", nil).ok(3, "generate", 3)
	cases := map[string]string{
		"":      "{:valid? true, :ok-fraction 0.75}",
		"total": "{:valid? false, :ok-fraction 0.75}",
		"0.75":  "{:valid? true, :ok-fraction 0.75}",
		"0.5":   "{:valid? true, :ok-fraction 0.75}",
		"0.8":   "{:valid? false, :ok-fraction 0.75}",
		"0":     "{:valid? true, :ok-fraction 0.75}",
	}
	for expected, want := range cases {
		if got := show(Availability(b.ops, expected)); got != want {
			t.Errorf("Availability(%q) = %s, want %s", expected, got, want)
		}
	}
	bad := Availability(b.ops, "most")
	if ValidityOf(bad) != Unknown || len(bad) != 2 {
		t.Errorf("bad expectation should be {:valid? :unknown, :error ...}, got %s", show(bad))
	}
}

func TestAvailabilityTotal(t *testing.T) {
	all := newBuilder().inv(0, "generate", nil).ok(0, "generate", 1).inv(0, "generate", nil).ok(0, "generate", 2)
	expect(t, Availability(all.ops, "total"), "{:valid? true, :ok-fraction 1.0}")
	// One :info among three: 2/3 as a float32.
	oneInfo := newBuilder().
		inv(0, "generate", nil).ok(0, "generate", 1).
		inv(0, "generate", nil).info(0, "generate", nil).
		inv(3, "generate", nil).ok(3, "generate", 2)
	expect(t, Availability(oneInfo.ops, "total"), "{:valid? false, :ok-fraction 0.6666667}")
	// Nothing invoked: Maelstrom reports the integer 1, and that is total.
	expect(t, Availability(newBuilder().nemesis("x").ops, "total"), "{:valid? true, :ok-fraction 1}")
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
		inv(0, "echo", "a").info(0, "echo", "a").exception("timeout-ex"). // 1
		inv(1, "echo", "b").info(1, "echo", "b").exception("malformed").  // 3
		inv(2, "echo", "c").info(2, "echo", "c").exception("malformed").  // 5
		inv(3, "echo", "d").info(3, "echo", "d").                         // no exception
		inv(4, "echo", "e").ok(4, "echo", "e").
		inv(5, "echo", "f").info(5, "echo", "f").exception("malformed"). // 11
		inv(6, "echo", "g").info(6, "echo", "g").exception("other")      // 13
	got := Exceptions(b.ops)
	excs, ok := get(t, got, "exceptions").(edn.List)
	if !ok || len(excs) != 3 {
		t.Fatalf("want 3 exception classes, got %s", show(got))
	}
	// malformed (3) first, then the two singletons in order of appearance.
	wantClass := []string{"malformed", "timeout-ex", "other"}
	wantCount := []int{3, 1, 1}
	wantIndex := []int{3, 1, 13}
	for i, e := range excs {
		m := e.(edn.Map)
		if c := get(t, m, "class"); c != wantClass[i] {
			t.Errorf("exception %d: class %v, want %s", i, c, wantClass[i])
		}
		if c := get(t, m, "count"); c != wantCount[i] {
			t.Errorf("exception %d: count %v, want %d", i, c, wantCount[i])
		}
		if ix := get(t, get(t, m, "example").(edn.Map), "index"); ix != wantIndex[i] {
			t.Errorf("exception %d: example index %v, want %d", i, ix, wantIndex[i])
		}
	}
	if ValidityOf(got) != Valid {
		t.Error("exceptions are informational")
	}
	expect(t, Exceptions(newBuilder().inv(0, "echo", "a").info(0, "echo", "a").ops), "{:valid? true}")
}

func TestPerfAndTimeline(t *testing.T) {
	expect(t, Perf(), "{:latency-graph {:valid? true}, :rate-graph {:valid? true}, :valid? true}")
	expect(t, Timeline(), "{:valid? true}")
}

func TestCompose(t *testing.T) {
	ok := edn.K("valid?", true)
	unknown := edn.K("valid?", edn.Keyword("unknown"))
	bad := edn.K("valid?", false)
	expect(t, Compose(edn.K("perf", ok, "stats", ok)), "{:perf {:valid? true}, :stats {:valid? true}, :valid? true}")
	expect(t, Compose(edn.K("a", ok, "b", unknown, "c", ok)),
		"{:a {:valid? true}, :b {:valid? :unknown}, :c {:valid? true}, :valid? :unknown}")
	if v := ValidityOf(Compose(edn.K("a", bad, "b", unknown, "c", ok))); v != Invalid {
		t.Errorf("false must beat :unknown, got %v", v)
	}
	if v := ValidityOf(Compose(edn.K("a", ok, "b", "not a map"))); v != Unknown {
		t.Errorf("a non-map result counts as :unknown, got %v", v)
	}
	// A stale :valid? is replaced and moved to the end; the input is untouched.
	in := edn.K("valid?", true, "w", bad)
	expect(t, Compose(in), "{:w {:valid? false}, :valid? false}")
	expect(t, in, "{:valid? true, :w {:valid? false}}")
	expect(t, Compose(edn.Map{}), "{:valid? true}")
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
	expect(t, c.Map(), "{:stats {:valid? true}, :workload {:valid? :unknown}, :availability {:valid? true}, :glomers {:valid? false}, :valid? :unknown}")
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
