package edn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PrettyWidth is the line width MarshalIndent aims for. It is the default
// of fipp, the printer Jepsen writes results.edn with, so our results
// break across lines where Maelstrom's do.
const PrettyWidth = 70

// MaxDepth bounds the nesting every encoder of this package writes. A
// value nested deeper (a node's reply of ten thousand nested arrays, or a
// slice holding itself) has each part below that depth replaced by the
// string TooDeep, so encoding it takes memory and stack in proportion to
// its size rather than to its depth squared, and what is written still
// reads back as EDN or JSON. Maelstrom's own results never come near it.
const MaxDepth = 256

// TooDeep is the marker written in place of a value nested deeper than
// MaxDepth.
var TooDeep = fmt.Sprintf("…cut: nested deeper than %d levels", MaxDepth)

// jsonNumber is the JSON number grammar; json.Number literals must match
// it, since they are copied into both EDN and JSON output verbatim.
var jsonNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)

// Marshal returns the compact, single-line EDN text of v, as Clojure's
// pr-str prints it: {:a 1, :b [1 2]}.
//
// The accepted values are those of the package's value model (see the
// package documentation), plus pointers to them, any slice or array
// (printed as a vector), any map (keys sorted), and any value with a
// method EDN() returning one of these, such as history.Op or
// checker.Validity. Other types are an error naming the type.
func Marshal(v any) ([]byte, error) {
	n, err := build(v, 0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(n.width)
	n.writeFlat(&buf)
	return buf.Bytes(), nil
}

// MarshalIndent returns the EDN text of v laid out like Jepsen's
// results.edn: a collection that does not fit within PrettyWidth columns
// is broken one element (or one map entry) per line, each aligned under
// the first, while a collection that fits stays on one line:
//
//	{:perf {:latency-graph {:valid? true},
//	        :rate-graph {:valid? true},
//	        :valid? true},
//	 :timeline {:valid? true},
//	 :valid? true}
//
// The output has no trailing newline.
func MarshalIndent(v any) ([]byte, error) {
	n, err := build(v, 0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	p := pretty{buf: &buf, width: PrettyWidth}
	p.write(&n, 0)
	return buf.Bytes(), nil
}

// kind classifies a node of the tree that every encoder renders from.
type kind uint8

const (
	kindNil kind = iota
	kindBool
	kindInt
	kindFloat
	kindNumber // a json.Number literal
	kindString
	kindKeyword
	kindSymbol
	kindMap // kids alternate key, value
	kindVector
	kindList
	kindSet
	kindTagged // kids[0] is the tagged value
)

// node is a value after conversion from Go: the EDN text of an atom, or
// a container with its elements. Converting once lets the compact, the
// pretty and the JSON encoders share one reading of the Go value.
type node struct {
	kind kind
	// text is the EDN spelling of an atom, or the "#tag" prefix of a
	// tagged value (with a separating space when the value needs one).
	text string
	// raw is the unescaped content of a string or the name of a keyword.
	raw   string
	kids  []node
	width int // runes in the compact rendering
}

func atom(k kind, text string) node {
	return node{kind: k, text: text, width: len(text)}
}

// delims returns the opening and closing delimiters of a container.
func (n *node) delims() (string, string) {
	switch n.kind {
	case kindMap:
		return "{", "}"
	case kindVector:
		return "[", "]"
	case kindList:
		return "(", ")"
	case kindSet:
		return "#{", "}"
	}
	return "", ""
}

func (n *node) isContainer() bool {
	return n.kind >= kindMap && n.kind <= kindSet
}

// container builds a container node and computes its compact width.
func container(k kind, kids []node) node {
	n := node{kind: k, kids: kids}
	open, closing := n.delims()
	w := len(open) + len(closing)
	for i := range kids {
		w += kids[i].width
	}
	if len(kids) > 1 {
		if k == kindMap {
			// "k v, k v": one space inside each entry, ", " between entries.
			pairs := len(kids) / 2
			w += pairs + 2*(pairs-1)
		} else {
			w += len(kids) - 1
		}
	}
	n.width = w
	return n
}

// build converts a Go value to a node.
func build(v any, depth int) (node, error) {
	if depth > MaxDepth {
		return build(TooDeep, 0)
	}
	if n, ok := buildNumber(v); ok {
		return n, nil
	}
	switch x := v.(type) {
	case nil:
		return atom(kindNil, "nil"), nil
	case bool:
		return atom(kindBool, strconv.FormatBool(x)), nil
	case json.Number:
		if !jsonNumber.MatchString(string(x)) {
			return node{}, fmt.Errorf("edn: json.Number %q is not a number", string(x))
		}
		return atom(kindNumber, string(x)), nil
	case string:
		q := Quote(x)
		return node{kind: kindString, text: q, raw: x, width: utf8.RuneCountInString(q)}, nil
	case Keyword:
		t := ":" + string(x)
		return node{kind: kindKeyword, text: t, raw: string(x), width: utf8.RuneCountInString(t)}, nil
	case Symbol:
		if !validSymbol(string(x)) {
			return node{}, fmt.Errorf("edn: %q is not a symbol EDN can read", string(x))
		}
		return node{kind: kindSymbol, text: string(x), raw: string(x), width: utf8.RuneCountInString(string(x))}, nil
	case Map:
		return buildEntries(x, depth)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := make(Map, len(keys))
		for i, k := range keys {
			m[i] = Entry{Key: k, Val: x[k]}
		}
		return buildEntries(m, depth)
	case []any:
		return buildSeq(kindVector, x, depth)
	case Vector:
		return buildSeq(kindVector, x, depth)
	case List:
		return buildSeq(kindList, x, depth)
	case Set:
		return buildSeq(kindSet, x, depth)
	case []string:
		return buildSeq(kindVector, x, depth)
	case []int:
		return buildSeq(kindVector, x, depth)
	case []int64:
		return buildSeq(kindVector, x, depth)
	case Tagged:
		return buildTagged(x, depth)
	}
	return buildReflect(reflect.ValueOf(v), depth)
}

// buildNumber converts a Go integer or float to a node; ok is false for
// any other value.
func buildNumber(v any) (n node, ok bool) {
	switch x := v.(type) {
	case int:
		return atom(kindInt, strconv.FormatInt(int64(x), 10)), true
	case int8:
		return atom(kindInt, strconv.FormatInt(int64(x), 10)), true
	case int16:
		return atom(kindInt, strconv.FormatInt(int64(x), 10)), true
	case int32:
		return atom(kindInt, strconv.FormatInt(int64(x), 10)), true
	case int64:
		return atom(kindInt, strconv.FormatInt(x, 10)), true
	case uint:
		return atom(kindInt, strconv.FormatUint(uint64(x), 10)), true
	case uint8:
		return atom(kindInt, strconv.FormatUint(uint64(x), 10)), true
	case uint16:
		return atom(kindInt, strconv.FormatUint(uint64(x), 10)), true
	case uint32:
		return atom(kindInt, strconv.FormatUint(uint64(x), 10)), true
	case uint64:
		return atom(kindInt, strconv.FormatUint(x, 10)), true
	case uintptr:
		return atom(kindInt, strconv.FormatUint(uint64(x), 10)), true
	case float64:
		return atom(kindFloat, FormatFloat(x, 64)), true
	case float32:
		return atom(kindFloat, FormatFloat(float64(x), 32)), true
	}
	return node{}, false
}

// buildEntries converts a map's entries, in their order, to a map node.
func buildEntries(m Map, depth int) (node, error) {
	kids := make([]node, 0, 2*len(m))
	for _, e := range m {
		k, err := build(e.Key, depth+1)
		if err != nil {
			return node{}, err
		}
		val, err := build(e.Val, depth+1)
		if err != nil {
			return node{}, fmt.Errorf("%w (under key %s)", err, k.text)
		}
		kids = append(kids, k, val)
	}
	return container(kindMap, kids), nil
}

// buildTagged converts a tagged literal: #tag followed by its value, with
// a space unless the value opens with a bracket.
func buildTagged(x Tagged, depth int) (node, error) {
	val, err := build(x.Value, depth+1)
	if err != nil {
		return node{}, err
	}
	prefix := "#" + x.Tag
	if val.kind != kindMap && val.kind != kindVector && val.kind != kindList {
		prefix += " "
	}
	w := utf8.RuneCountInString(prefix)
	return node{kind: kindTagged, text: prefix, kids: []node{val}, width: w + val.width}, nil
}

// validSymbol reports whether s reads back as one EDN symbol: not
// empty, without whitespace, delimiters or quotes, and not starting with
// a digit, ':' or '#' (or with a sign or '.' followed by a digit, which
// reads as a number).
func validSymbol(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\n\r\f,;()[]{}\"\\`~@^") {
		return false
	}
	first := s[0]
	if first >= '0' && first <= '9' || first == ':' || first == '#' {
		return false
	}
	if (first == '+' || first == '-' || first == '.') && len(s) > 1 && s[1] >= '0' && s[1] <= '9' {
		return false
	}
	return true
}

func buildSeq[T any](k kind, xs []T, depth int) (node, error) {
	kids := make([]node, len(xs))
	for i, x := range xs {
		n, err := build(x, depth+1)
		if err != nil {
			return node{}, err
		}
		kids[i] = n
	}
	return container(k, kids), nil
}

// buildReflect handles the values the type switch in build does not name:
// values with an EDN method, pointers, and slices, arrays and maps of any
// element type.
func buildReflect(rv reflect.Value, depth int) (node, error) {
	if m := rv.MethodByName("EDN"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return atom(kindNil, "nil"), nil
		}
		return build(m.Call(nil)[0].Interface(), depth+1)
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return atom(kindNil, "nil"), nil
		}
		return build(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		kids := make([]node, rv.Len())
		for i := range kids {
			n, err := build(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return node{}, err
			}
			kids[i] = n
		}
		return container(kindVector, kids), nil
	case reflect.Map:
		return buildMap(rv, depth)
	}
	return node{}, fmt.Errorf("edn: cannot encode a value of type %s", rv.Type())
}

// buildMap encodes a Go map with its entries sorted: numerically for
// integer keys, by their EDN text otherwise, so output is deterministic.
func buildMap(rv reflect.Value, depth int) (node, error) {
	type entry struct {
		key, val node
		sortKey  reflect.Value
	}
	entries := make([]entry, 0, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		k, err := build(iter.Key().Interface(), depth+1)
		if err != nil {
			return node{}, fmt.Errorf("%w (a map key)", err)
		}
		val, err := build(iter.Value().Interface(), depth+1)
		if err != nil {
			return node{}, fmt.Errorf("%w (under key %s)", err, k.text)
		}
		entries = append(entries, entry{k, val, iter.Key()})
	}
	var less func(a, b entry) bool
	switch rv.Type().Key().Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		less = func(a, b entry) bool { return a.sortKey.Int() < b.sortKey.Int() }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		less = func(a, b entry) bool { return a.sortKey.Uint() < b.sortKey.Uint() }
	default:
		less = func(a, b entry) bool {
			var x, y bytes.Buffer
			a.key.writeFlat(&x)
			b.key.writeFlat(&y)
			return x.String() < y.String()
		}
	}
	sort.Slice(entries, func(i, j int) bool { return less(entries[i], entries[j]) })
	kids := make([]node, 0, 2*len(entries))
	for _, e := range entries {
		kids = append(kids, e.key, e.val)
	}
	return container(kindMap, kids), nil
}

// FormatFloat spells a float the way Clojure prints a double (bitSize
// 64) or a float (bitSize 32): always with a decimal point (1.0, not 1),
// the shortest digits that read back to the same value (0.9995328),
// scientific notation outside [1e-3, 1e7) as in 1.0E7 and 1.5E-4, and
// ##NaN, ##Inf, ##-Inf for the special values.
func FormatFloat(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "##NaN"
	case math.IsInf(f, 1):
		return "##Inf"
	case math.IsInf(f, -1):
		return "##-Inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bitSize)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, bitSize) // 1.5e-04, 1e+07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, err := strconv.Atoi(exp)
	if err != nil { // cannot happen: strconv always writes a decimal exponent
		return s
	}
	return mant + "E" + strconv.Itoa(e)
}

// Quote returns s as an EDN string literal, escaped as Clojure's pr-str
// escapes it (\" \\ \n \t \r \f \b), with other control characters
// as \uXXXX (Clojure would print them raw) and invalid UTF-8 replaced by
// U+FFFD.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeFlat writes the compact rendering of n.
func (n *node) writeFlat(buf *bytes.Buffer) {
	switch {
	case n.kind == kindTagged:
		buf.WriteString(n.text)
		n.kids[0].writeFlat(buf)
	case n.isContainer():
		open, closing := n.delims()
		buf.WriteString(open)
		for i := range n.kids {
			if i > 0 {
				switch {
				case n.kind != kindMap:
					buf.WriteByte(' ')
				case i%2 == 1:
					buf.WriteByte(' ')
				default:
					buf.WriteString(", ")
				}
			}
			n.kids[i].writeFlat(buf)
		}
		buf.WriteString(closing)
	default:
		buf.WriteString(n.text)
	}
}

// pretty lays out a node tree the way fipp does for EDN: a collection is
// printed on one line when it ends within width columns; otherwise each
// of its elements (or map entries) starts a new line aligned with the
// first one, and each element is laid out by the same rule.
type pretty struct {
	buf   *bytes.Buffer
	width int
}

// write prints n starting at column col and returns the column after it.
func (p *pretty) write(n *node, col int) int {
	if col+n.width <= p.width || !(n.isContainer() || n.kind == kindTagged) {
		n.writeFlat(p.buf)
		return col + n.width
	}
	if n.kind == kindTagged {
		p.buf.WriteString(n.text)
		return p.write(&n.kids[0], col+utf8.RuneCountInString(n.text))
	}
	open, closing := n.delims()
	p.buf.WriteString(open)
	inner := col + len(open)
	c := inner
	if n.kind == kindMap {
		for i := 0; i+1 < len(n.kids); i += 2 {
			if i > 0 {
				p.buf.WriteString(",")
				p.newline(inner)
			}
			c = p.write(&n.kids[i], inner)
			p.buf.WriteByte(' ')
			c = p.write(&n.kids[i+1], c+1)
		}
	} else {
		for i := range n.kids {
			if i > 0 {
				p.newline(inner)
			}
			c = p.write(&n.kids[i], inner)
		}
	}
	p.buf.WriteString(closing)
	return c + len(closing)
}

func (p *pretty) newline(indent int) {
	p.buf.WriteByte('\n')
	for range indent {
		p.buf.WriteByte(' ')
	}
}
