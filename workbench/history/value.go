package history

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
)

// Equal reports whether two values are equal under Clojure's = as
// Maelstrom applies it to JSON data: structural, with integers and
// non-integral numbers never equal (1 ≠ 1.0), and integers equal
// whatever Go type carries them (int64(3) = json.Number("3")).
func Equal(a, b any) bool { return Key(a) == Key(b) }

// Key returns a canonical text for v such that Key(a) == Key(b) exactly
// when Equal(a, b). Use it for map keys and sets of values. The integers
// that dominate real histories (broadcast messages, counters, register
// values) take a fast path: checkers call Key once per element of every
// read, so skipping json.Marshal there matters.
func Key(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case json.Number:
		// Only plain decimal integers take the fast path; anything else
		// (fractions, exponents, huge values) gets the canonical form.
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
	}
	return slowKey(v)
}

// slowKey is Key without its fast path: v normalized and printed as JSON.
func slowKey(v any) string {
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// normalize rewrites numbers to a canonical json.Number so that integral
// values in any Go type share one spelling, and recurses into containers.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, ok := new(big.Int).SetString(string(x), 10); ok {
			return json.Number(i.String())
		}
		return x
	case int:
		return json.Number(fmt.Sprint(x))
	case int64:
		return json.Number(fmt.Sprint(x))
	case int32:
		return json.Number(fmt.Sprint(x))
	case uint64:
		return json.Number(fmt.Sprint(x))
	case float64:
		// Floats that came from generators are always non-integral in
		// Clojure terms; keep a decimal point so 1.0 differs from 1.
		s := fmt.Sprint(x)
		if _, ok := new(big.Int).SetString(s, 10); ok {
			s += ".0"
		}
		return json.Number(s)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return v
}

// Int returns v as an int64 when it is an integer in any of the forms
// values take (int, int64, json.Number without a fraction).
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}

// Compare orders two values the way Clojure's compare orders the JSON
// values Maelstrom sees: numbers numerically, strings lexicographically,
// booleans false before true, arrays by length and then element by
// element. Values of different kinds, and JSON objects, are not
// comparable: Compare then returns an error, as Clojure throws.
func Compare(a, b any) (int, error) {
	a, b = normalize(a), normalize(b)
	if b == nil && a != nil {
		return 1, nil // nil sorts first, as in Clojure
	}
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return 0, fmt.Errorf("cannot compare %s with %s", Key(a), Key(b))
		}
		fx, _, err1 := big.ParseFloat(string(x), 10, 200, big.ToNearestEven)
		fy, _, err2 := big.ParseFloat(string(y), 10, 200, big.ToNearestEven)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("cannot compare %s with %s", x, y)
		}
		return fx.Cmp(fy), nil
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, fmt.Errorf("cannot compare %s with %s", Key(a), Key(b))
		}
		switch {
		case x < y:
			return -1, nil
		case x > y:
			return 1, nil
		}
		return 0, nil
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, fmt.Errorf("cannot compare %s with %s", Key(a), Key(b))
		}
		switch {
		case x == y:
			return 0, nil
		case !x:
			return -1, nil
		}
		return 1, nil
	case []any:
		y, ok := b.([]any)
		if !ok {
			return 0, fmt.Errorf("cannot compare %s with %s", Key(a), Key(b))
		}
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1, nil
			}
			return 1, nil
		}
		for i := range x {
			c, err := Compare(x[i], y[i])
			if err != nil || c != 0 {
				return c, err
			}
		}
		return 0, nil
	case nil:
		if b == nil {
			return 0, nil
		}
		return -1, nil
	}
	return 0, fmt.Errorf("cannot compare %s with %s", Key(a), Key(b))
}

// Sort sorts values with Compare. It returns an error, leaving vs in some
// order, when two of them are not comparable.
func Sort(vs []any) error {
	var err error
	sort.SliceStable(vs, func(i, j int) bool {
		c, e := Compare(vs[i], vs[j])
		if e != nil && err == nil {
			err = e
		}
		return c < 0
	})
	return err
}
