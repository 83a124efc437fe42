// Package edn writes values in EDN, the Clojure data notation Maelstrom
// prints its results in, and in JSON with the same structure.
//
// The value model: nil, bool, all Go integer types, float32/float64,
// string, json.Number (printed as its literal), Keyword, Symbol, Map (ordered),
// map[string]any (keys sorted, printed as strings), []any and Vector
// (vectors), List, Set, and Tagged (a #tag record).
package edn

// Keyword is an EDN keyword, stored without the leading colon.
type Keyword string

// Symbol is an EDN symbol, printed bare: Symbol("...") prints as ...,
// the marker Elle writes for an unknown prefix ([... 6]) or for
// transactions left out between two others. In JSON it is a string. A
// symbol must be a name EDN can read back: not empty, no whitespace or
// delimiters, and not starting with a digit, ':' or '#'.
type Symbol string

// Entry is one key/value pair of an ordered Map.
type Entry struct {
	Key any
	Val any
}

// Map is an EDN map that keeps its insertion order when printed.
type Map []Entry

// Items returns the elements of a sequence, whichever of Vector, List,
// Set or []any holds them, and nil for anything else: results are read
// back with whatever sequence type their checker happened to build.
func Items(v any) []any {
	switch s := v.(type) {
	case Vector:
		return s
	case List:
		return s
	case Set:
		return s
	case []any:
		return s
	}
	return nil
}

// Vector is an EDN vector [a b c].
type Vector []any

// List is an EDN list (a b c).
type List []any

// Set is an EDN set #{a b c}, printed in the order given.
type Set []any

// Tagged is a tagged literal such as #jepsen.history.Op{...}.
type Tagged struct {
	Tag   string
	Value any
}

// Get returns the value stored under key and whether it exists.
func (m Map) Get(key any) (any, bool) {
	for _, e := range m {
		if e.Key == key {
			return e.Val, true
		}
	}
	return nil, false
}

// Lookup returns the value under the keyword :name, nil when there is
// none: how a result is read back where a missing entry and a nil one
// mean the same.
func (m Map) Lookup(name string) any {
	v, _ := m.Get(Keyword(name))
	return v
}

// Set replaces the value under key or appends a new entry; it returns the map.
func (m Map) Set(key, val any) Map {
	for i, e := range m {
		if e.Key == key {
			m[i].Val = val
			return m
		}
	}
	return append(m, Entry{key, val})
}

// K is shorthand for an ordered map with keyword keys:
// K("valid?", true, "count", 3) is {:valid? true, :count 3}.
// It panics if given an odd number of arguments.
func K(kv ...any) Map {
	if len(kv)%2 != 0 {
		panic("edn.K: odd number of arguments")
	}
	m := make(Map, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k := kv[i]
		if s, ok := k.(string); ok {
			k = Keyword(s)
		}
		m = append(m, Entry{k, kv[i+1]})
	}
	return m
}

// Path follows keys through nested ordered maps, as Clojure's get-in
// does: m.Path("net", "servers", "msgs-per-op"). String keys are taken as
// keywords; other keys are used as they are. It reports false when a key
// is missing or a value on the way is not a Map.
func (m Map) Path(keys ...any) (any, bool) {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(Map)
		if !ok {
			return nil, false
		}
		if s, ok := k.(string); ok {
			k = Keyword(s)
		}
		if cur, ok = mm.Get(k); !ok {
			return nil, false
		}
	}
	return cur, true
}
