package edn

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestMarshalJSONGolden(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "null"},
		{"keyword", Keyword("ok"), `"ok"`},
		{"float", 1.0, "1.0"},
		{"float32", float32(0.9995328), "0.9995328"},
		{"exponent", 1e7, "1.0E7"},
		{"NaN", math.NaN(), "null"},
		{"-Inf", math.Inf(-1), "null"},
		{"json.Number", json.Number("12345678901234567890"), "12345678901234567890"},
		{"string escapes", "<a\"b\\\n\t\r\x01>", `"<a\"b\\\n\t\r\u0001>"`},
		{"ordered map", K("valid?", true, "count", 3), `{"valid?":true,"count":3}`},
		{"stringified keys", Map{{0, 0}, {0.5, 88}, {nil, 1}, {true, 2}, {Vector{1, 2}, 3}}, `{"0":0,"0.5":88,"nil":1,"true":2,"[1 2]":3}`},
		{"sorted Go map", map[string]any{"b": 1, "a": 2}, `{"a":2,"b":1}`},
		{"list, vector, set", K("l", List{1}, "v", Vector{}, "s", Set{Keyword("G0")}), `{"l":[1],"v":[],"s":["G0"]}`},
		{"tagged is its value", Tagged{"jepsen.history.Op", K("index", 0)}, `{"index":0}`},
		{"grudge", map[string][]string{"n1": {"n2"}}, `{"n1":["n2"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MarshalJSON(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("MarshalJSON = %s, want %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Errorf("MarshalJSON produced invalid JSON: %s", got)
			}
		})
	}
}

// TestMarshalJSONRoundTrip decodes the JSON of a results map with
// encoding/json and checks that values survive and key order is kept.
func TestMarshalJSONRoundTrip(t *testing.T) {
	for _, indent := range []bool{false, true} {
		var b []byte
		var err error
		if indent {
			b, err = MarshalJSONIndent(echoResults(), "", "  ")
		} else {
			b, err = MarshalJSON(echoResults())
		}
		if err != nil {
			t.Fatal(err)
		}
		if indent != bytes.Contains(b, []byte("\n  \"timeline\"")) {
			t.Errorf("indent=%v: unexpected layout:\n%s", indent, b)
		}
		var decoded map[string]any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatalf("results JSON does not decode: %v\n%s", err, b)
		}
		if decoded["valid?"] != true {
			t.Errorf(`valid? = %v, want true`, decoded["valid?"])
		}
		all := decoded["net"].(map[string]any)["all"].(map[string]any)
		if got := all["msgs-per-op"].(float64); math.Abs(got-2.0566037) > 1e-6 {
			t.Errorf("msgs-per-op = %v", got)
		}
		if errs, ok := decoded["workload"].(map[string]any)["errors"].([]any); !ok || len(errs) != 0 {
			t.Errorf("errors = %#v, want an empty array", decoded["workload"])
		}

		// Top-level keys appear in insertion order.
		dec := json.NewDecoder(bytes.NewReader(b))
		var keys []string
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
				continue
			case json.Delim('}'), json.Delim(']'):
				depth--
				continue
			}
			if s, ok := tok.(string); ok && depth == 1 && dec.More() {
				keys = append(keys, s)
				// Skip the value of this key.
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := "perf timeline exceptions stats availability net workload valid?"
		if got := strings.Join(keys, " "); got != want {
			t.Errorf("key order %q, want %q", got, want)
		}
	}
}

func TestMarshalJSONIndentShape(t *testing.T) {
	got, err := MarshalJSONIndent(K("a", List{1, 2}), ">", "\t")
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n>\t\"a\": [\n>\t\t1,\n>\t\t2\n>\t]\n>}"
	if string(got) != want {
		t.Errorf("MarshalJSONIndent = %q, want %q", got, want)
	}
}
