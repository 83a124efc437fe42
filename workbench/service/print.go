package service

import (
	"encoding/json"
	"fmt"
	"github.com/glomers/glomers/workbench/edn"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// prStr prints a JSON value the way Clojure's pr-str prints what Maelstrom
// parsed it into, for the text of a failed cas ("current value 3 is not
// 4"): nil, true, 42, 1.5, "quoted \"string\"", [1 "a" nil],
// {"k" 1, "z" [2]}.
//
// Numbers: integers print in full; non-integral numbers became Java
// doubles, printed as Double.toString does (1.0E7, 1.5E-4, 100.0).
// Objects: Maelstrom keeps string keys for nested values; the order of
// their entries is lost in decoding, so keys are printed sorted.
func prStr(v any) string {
	var b strings.Builder
	writeEDN(&b, v)
	return b.String()
}

// str prints v as Clojure's str does: like prStr, except that a string is
// itself (no quotes, no escapes) and nil is empty.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return prStr(v)
}

func writeEDN(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeString(b, x)
	case json.Number:
		b.WriteString(number(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(edn.FormatFloat(x, 64))
	case float32:
		b.WriteString(edn.FormatFloat(float64(x), 64))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeEDN(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, k)
			b.WriteByte(' ')
			writeEDN(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}

// writeString writes s as pr-str does, in double quotes with Clojure's
// escapes (see edn.Quote).
func writeString(b *strings.Builder, s string) { b.WriteString(edn.Quote(s)) }

// number prints a JSON number literal: integers (any size) in canonical
// decimal, anything with a fraction or exponent as a Java double.
func number(n json.Number) string {
	if i, ok := new(big.Int).SetString(string(n), 10); ok {
		return i.String()
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !math.IsInf(f, 0) {
		return string(n) // not a number literal at all; print it verbatim
	}
	return edn.FormatFloat(f, 64)
}
