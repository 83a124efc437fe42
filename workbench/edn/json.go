package edn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MarshalJSON returns compact JSON with the same structure as the EDN
// Marshal would print, for tools that do not read EDN:
//
//   - a Keyword becomes a string without the colon (:valid? → "valid?"),
//     a Symbol a string of its name (... → "...");
//   - a Map becomes an object in insertion order, its keys turned into
//     strings: strings and keyword names as they are, numbers, booleans
//     and nil by their EDN text, other keys by their compact EDN;
//     map[string]any and other Go maps are sorted as in Marshal;
//   - a List, Vector or Set becomes an array;
//   - a Tagged value becomes its value alone;
//   - json.Number is copied literally; floats keep their EDN spelling
//     (1.0, 1.5E-4), which is valid JSON, and NaN and ±Inf become null.
//
// Distinct EDN keys can stringify to the same JSON key (1 and "1");
// both entries are then written and a JSON reader keeps the last.
//
// It is a plain function, not the json.Marshaler method of any type.
func MarshalJSON(v any) ([]byte, error) {
	n, err := build(v, 0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(n.width)
	n.writeJSON(&buf)
	return buf.Bytes(), nil
}

// MarshalJSONIndent is MarshalJSON with each element on its own line,
// indented as json.MarshalIndent does with the given prefix and indent.
func MarshalJSONIndent(v any, prefix, indent string) ([]byte, error) {
	b, err := MarshalJSON(v)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		// Every node writes valid JSON, so this means a bug here.
		return nil, fmt.Errorf("edn: indenting generated JSON: %w", err)
	}
	return out.Bytes(), nil
}

func (n *node) writeJSON(buf *bytes.Buffer) {
	switch n.kind {
	case kindNil:
		buf.WriteString("null")
	case kindBool, kindInt, kindNumber:
		buf.WriteString(n.text)
	case kindFloat:
		if n.text[0] == '#' { // ##NaN, ##Inf, ##-Inf
			buf.WriteString("null")
		} else {
			buf.WriteString(n.text)
		}
	case kindString, kindKeyword, kindSymbol:
		writeJSONString(buf, n.raw)
	case kindTagged:
		n.kids[0].writeJSON(buf)
	case kindMap:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.kids); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, n.kids[i].jsonKey())
			buf.WriteByte(':')
			n.kids[i+1].writeJSON(buf)
		}
		buf.WriteByte('}')
	case kindVector, kindList, kindSet:
		buf.WriteByte('[')
		for i := range n.kids {
			if i > 0 {
				buf.WriteByte(',')
			}
			n.kids[i].writeJSON(buf)
		}
		buf.WriteByte(']')
	}
}

// jsonKey is the object key a map key becomes in JSON.
func (n *node) jsonKey() string {
	switch n.kind {
	case kindString, kindKeyword, kindSymbol:
		return n.raw
	case kindNil, kindBool, kindInt, kindFloat, kindNumber:
		return n.text
	}
	var b bytes.Buffer
	n.writeFlat(&b)
	return b.String()
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string. Unlike encoding/json it
// leaves <, > and & alone, since nothing here is embedded in HTML;
// invalid UTF-8 becomes U+FFFD.
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hexDigits[r>>4])
			buf.WriteByte(hexDigits[r&0xf])
		case r == utf8.RuneError:
			buf.WriteString("\ufffd")
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}
