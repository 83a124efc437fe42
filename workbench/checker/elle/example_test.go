package elle_test

import (
	"fmt"

	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// A checker that knows its own dependencies (here: which send wrote the
// message a poll read) links them, lets elle add the realtime order, and
// gets Elle's cycles back. The poll completed before the send was even
// invoked, yet read its message: G1c-realtime.
func Example() {
	ops := []history.Op{
		{Index: 0, Type: history.Invoke, Process: 0, F: "poll"},
		{Index: 1, Type: history.OK, Process: 0, F: "poll", Value: "read m=5"},
		{Index: 2, Type: history.Invoke, Process: 1, F: "send"},
		{Index: 3, Type: history.OK, Process: 1, F: "send", Value: "sent m=5"},
	}
	poll, send := ops[1], ops[3]

	g := elle.NewGraph()
	g.Link(send, poll, elle.WR, edn.K("key", "k", "value", 5))
	g.AddRealtime(ops)
	found := g.Cycles(elle.CycleOptions{})
	// found also holds :strong-PL-2-cycle-exists; Result drops it, as
	// Elle does, because the G1c-realtime already rules that model out.

	for _, c := range found["G1c-realtime"] {
		steps, _ := c.Get(edn.Keyword("steps"))
		for _, s := range steps.(edn.List) {
			m := s.(edn.Map)
			t, _ := m.Get(edn.Keyword("type"))
			fmt.Println("step", t)
		}
	}
	res := elle.Result(found, []string{"strict-serializable"})
	v, _ := res.Get(edn.Keyword("valid?"))
	types, _ := res.Get(edn.Keyword("anomaly-types"))
	b, _ := edn.Marshal(types)
	fmt.Println(v, string(b))
	// Output:
	// step realtime
	// step wr
	// false (:G1c-realtime)
}
