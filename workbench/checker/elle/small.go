package elle

import (
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// alist is a tiny association list for per-transaction state: transactions
// hold a handful of micro-ops, and a linear scan beats allocating a map
// for each of tens of thousands of them.
type alist[V any] []struct {
	k any
	v V
}

func (a alist[V]) get(k any) (V, bool) {
	for _, e := range a {
		if e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

func (a *alist[V]) put(k any, v V) {
	for i := range *a {
		if (*a)[i].k == k {
			(*a)[i].v = v
			return
		}
	}
	*a = append(*a, struct {
		k any
		v V
	}{k, v})
}

// lostUpdateCases is Elle's txn/lost-update-cases: :ok transactions that
// read the same value of a key (their first read of it) and then wrote it
// (write is "w" or "append"); a write counts only once a read of the key
// has been seen.
func lostUpdateCases(txns []*txn, write string) []edn.Map {
	type luKey struct{ k, v any }
	lost := map[luKey][]*txn{}
	var order []luKey
	var reads alist[any]
	var wrote alist[bool]
	for _, t := range txns {
		if t.op.Type != history.OK {
			continue
		}
		reads, wrote = reads[:0], wrote[:0]
		for _, m := range t.mops {
			switch m.f {
			case write:
				if r, ok := reads.get(m.k); ok {
					if _, done := wrote.get(m.k); !done {
						wrote.put(m.k, true)
						lk := luKey{m.k, r}
						if _, ok := lost[lk]; !ok {
							order = append(order, lk)
						}
						lost[lk] = append(lost[lk], t)
					}
				}
			case "r":
				if _, ok := reads.get(m.k); !ok {
					reads.put(m.k, m.v)
				}
			}
		}
	}
	var cases []edn.Map
	for _, lk := range order {
		if ts := lost[lk]; len(ts) >= 2 {
			cases = append(cases, edn.K("key", printable(ts[0], lk.k), "value", readValue(ts[0], lk.k, lk.v), "txns", opsEDN(ts)))
		}
	}
	return cases
}

// readValue prints the value t read from key k, as recorded.
func readValue(t *txn, k, v any) any {
	for _, m := range t.mops {
		if m.f == "r" && m.k == k && m.v == v {
			return m.raw.([]any)[2]
		}
	}
	return denorm(v)
}
