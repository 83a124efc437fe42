package uniqueids

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/edn"
)

// builder adds :generate operations to checkertest's history builder.
type builder struct{ *checkertest.Steps[*builder] }

func newBuilder() *builder {
	return checkertest.Build(func(s *checkertest.Steps[*builder]) *builder { return &builder{s} })
}

// generate records one :generate op by process p completing :ok with id.
func (b *builder) generate(p int, id any) *builder {
	return b.Inv(p, "generate", nil).OK(p, "generate", id)
}

func TestUniqueIDsAcceptsDistinctIDs(t *testing.T) {
	b := newBuilder().
		generate(0, json.Number("10")).
		Nemesis("start-partition").
		generate(1, json.Number("9")).
		Inv(2, "generate", nil).Info(2, "generate", nil).
		Inv(3, "generate", nil).Fail(3, "generate", nil)
	// Numbers order numerically: 9 < 10.
	checkertest.Expect(t, Check(b.Ops), "{:valid? true, :attempted-count 4, :acknowledged-count 2, "+
		":duplicated-count 0, :duplicated {}, :range [9 10]}")

	s := newBuilder().generate(0, "n1-10").generate(1, "n1-9").generate(0, "n2-0")
	checkertest.Expect(t, Check(s.Ops), `{:valid? true, :attempted-count 3, :acknowledged-count 3, `+
		`:duplicated-count 0, :duplicated {}, :range ["n1-10" "n2-0"]}`)

	checkertest.Expect(t, Check(nil), "{:valid? true, :attempted-count 0, :acknowledged-count 0, "+
		":duplicated-count 0, :duplicated {}, :range nil}")
}

func TestUniqueIDsRejectsDuplicates(t *testing.T) {
	b := newBuilder().generate(0, "b").generate(1, "a").generate(0, "a").
		generate(2, "c").generate(1, "a").generate(2, "b")
	checkertest.Expect(t, Check(b.Ops), `{:valid? false, :attempted-count 6, :acknowledged-count 6, `+
		`:duplicated-count 2, :duplicated {"a" 3, "b" 2}, :range ["a" "c"]}`)

	// The same id in different Go types is one id.
	mixed := newBuilder().generate(0, int64(7)).generate(1, json.Number("7"))
	if got := Check(mixed.Ops); checker.ValidityOf(got) != checker.Invalid {
		t.Errorf("7 and json 7 are the same id: %s", checkertest.Show(got))
	}
}

func TestUniqueIDsShowsAtMost48Duplicates(t *testing.T) {
	b := newBuilder()
	for id := range 50 {
		b.generate(0, id).generate(1, id)
	}
	b.generate(2, 7) // 7 appears three times
	got := Check(b.Ops)
	if c := checkertest.Get(t, got, "duplicated-count"); c != 50 {
		t.Errorf("duplicated-count %v, want 50", c)
	}
	// Kept: 7 (count 3) and the 47 largest ids among the rest (49 … 2
	// without 7); dropped: 0 and 1. Printed by id.
	var want []string
	for id := 2; id < 50; id++ {
		if id == 7 {
			want = append(want, "7 3")
		} else {
			want = append(want, itoa(id)+" 2")
		}
	}
	if s, w := checkertest.Show(checkertest.Get(t, got, "duplicated")), "{"+strings.Join(want, ", ")+"}"; s != w {
		t.Errorf("duplicated\n got: %s\nwant: %s", s, w)
	}
}

func itoa(i int) string { return checkertest.Show(i) }

func TestUniqueIDsIncomparableIDsAreUnknown(t *testing.T) {
	for name, ids := range map[string][]any{
		"mixed kinds": {json.Number("1"), "a"},
		"objects":     {map[string]any{"a": 1}, map[string]any{"b": 2}},
	} {
		b := newBuilder()
		for i, id := range ids {
			b.generate(i, id)
		}
		got := Check(b.Ops)
		if checker.ValidityOf(got) != checker.Unknown {
			t.Errorf("%s: want :unknown, got %s", name, checkertest.Show(got))
		}
		if e, ok := got.Get(edn.Keyword("error")); !ok || e == "" {
			t.Errorf("%s: want an :error entry, got %s", name, checkertest.Show(got))
		}
	}
}
