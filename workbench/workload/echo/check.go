package echo

import (
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// Check checks the echo workload: every invocation that completed :ok or
// :fail must have got back a reply body whose "echo" equals the invoked
// value. Invocations completed :info (timeouts, malformed replies) or not
// at all are not examined, as in Maelstrom. A :fail completion keeps the
// invoked string as its value, which has no "echo", so it always counts as
// an error.
//
//	{:valid? false,
//	 :errors (["Expected a message with :echo" "Please echo 15"
//	           "But received" {"echo" "not-right", ...}])}
//
// Errors are listed in invocation order.
func Check(ops []history.Op) edn.Map {
	errs := edn.List{}
	for _, p := range history.Pairs(ops) {
		c := p.Complete
		if c == nil || (c.Type != history.OK && c.Type != history.Fail) {
			continue
		}
		if c.Type == history.Fail || !history.Equal(p.Invoke.Value, echoField(c.Value)) {
			errs = append(errs, edn.Vector{
				"Expected a message with :echo", p.Invoke.Value,
				"But received", c.Value,
			})
		}
	}
	return edn.K("valid?", len(errs) == 0, "errors", errs)
}

// echoField is Clojure's (:echo v): the "echo" entry of a reply body, or
// nil for anything that is not a map.
func echoField(v any) any {
	switch m := v.(type) {
	case map[string]any:
		return m["echo"]
	case edn.Map:
		if e, ok := m.Get("echo"); ok {
			return e
		}
		e, _ := m.Get(edn.Keyword("echo"))
		return e
	}
	return nil
}
