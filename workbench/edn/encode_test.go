package edn

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// ednMethod has an EDN method, like history.Op and checker.Validity.
type ednMethod struct{ n int }

func (e ednMethod) EDN() any { return K("n", e.n) }

type grudge map[string][]string

func TestMarshalAtoms(t *testing.T) {
	i := 7
	var nilPtr *int
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "nil"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"int", 42, "42"},
		{"negative int8", int8(-8), "-8"},
		{"int64 min", int64(math.MinInt64), "-9223372036854775808"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"uint8", uint8(255), "255"},
		{"integral float", 1.0, "1.0"},
		{"float", 0.5, "0.5"},
		{"negative float", -2.25, "-2.25"},
		{"float32 keeps its short digits", float32(0.9995328), "0.9995328"},
		{"float64 of that float32 shows more", float64(float32(0.9995328)), "0.9995328187942505"},
		{"large float", 1e7, "1.0E7"},
		{"large float with digits", 1.25e21, "1.25E21"},
		{"small float", 1.5e-4, "1.5E-4"},
		{"smallest plain float", 0.001, "0.001"},
		{"just below 1e7", 9999999.5, "9999999.5"},
		{"zero float", 0.0, "0.0"},
		{"negative zero", math.Copysign(0, -1), "-0.0"},
		{"NaN", math.NaN(), "##NaN"},
		{"Inf", math.Inf(1), "##Inf"},
		{"-Inf", math.Inf(-1), "##-Inf"},
		{"json.Number int", json.Number("12345678901234567890"), "12345678901234567890"},
		{"json.Number float", json.Number("-1.5e3"), "-1.5e3"},
		{"string", "Please echo 29", `"Please echo 29"`},
		{"string escapes", "a\"b\\c\nd\te\rf\x01g\x7f", `"a\"b\\c\nd\te\rf\u0001g\u007f"`},
		{"unicode kept", "ヽ(‘ー`)ノ", "\"ヽ(‘ー`)ノ\""},
		{"invalid utf-8 replaced", "a\xffb", "\"a\ufffdb\""},
		{"keyword", Keyword("valid?"), ":valid?"},
		{"pointer", &i, "7"},
		{"nil pointer", nilPtr, "nil"},
		{"EDN method", ednMethod{3}, "{:n 3}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Marshal(c.in)
			if err != nil {
				t.Fatalf("Marshal(%#v): %v", c.in, err)
			}
			if string(got) != c.want {
				t.Errorf("Marshal(%#v) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

func TestMarshalCollections(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"ordered map", K("valid?", true, "count", 3, "f", Keyword("echo")), "{:valid? true, :count 3, :f :echo}"},
		{"empty map", Map{}, "{}"},
		{"nil map", Map(nil), "{}"},
		{"non-keyword keys", Map{{0, 0}, {0.5, 88}, {"k", nil}}, `{0 0, 0.5 88, "k" nil}`},
		{"nested map", K("a", K("b", K("c", 1))), "{:a {:b {:c 1}}}"},
		{"map[string]any sorted", map[string]any{"type": "echo_ok", "echo": "x", "msg_id": json.Number("2")}, `{"echo" "x", "msg_id" 2, "type" "echo_ok"}`},
		{"empty Go map", map[string]any{}, "{}"},
		{"[]any", []any{1, "a", nil, Keyword("b")}, `[1 "a" nil :b]`},
		{"Vector", Vector{1, 2}, "[1 2]"},
		{"empty vector", []any{}, "[]"},
		{"List", List{1, 2, 3}, "(1 2 3)"},
		{"empty List", List{}, "()"},
		{"nil List", List(nil), "()"},
		{"Set keeps order", Set{Keyword("read-atomic"), Keyword("G0")}, "#{:read-atomic :G0}"},
		{"empty Set", Set{}, "#{}"},
		{"Tagged map", Tagged{"jepsen.history.Op", K("index", 0)}, "#jepsen.history.Op{:index 0}"},
		{"Tagged vector", Tagged{"t", Vector{1}}, "#t[1]"},
		{"Tagged string has a space", Tagged{"inst", "2021-02-23"}, `#inst "2021-02-23"`},
		{"Tagged set has a space", Tagged{"t", Set{1}}, "#t #{1}"},
		{"[]string", []string{"n1", "n2"}, `["n1" "n2"]`},
		{"[]int", []int{3, 1}, "[3 1]"},
		{"[]int64", []int64{-1}, "[-1]"},
		{"grudge", map[string][]string{"n2": {"n1"}, "n1": {"n2", "n3"}}, `{"n1" ["n2" "n3"], "n2" ["n1"]}`},
		{"named map type", grudge{"n1": nil}, `{"n1" []}`},
		{"int keys sort numerically", map[int]int{10: 1, 9: 2, -1: 3}, "{-1 3, 9 2, 10 1}"},
		{"array", [2]bool{true, false}, "[true false]"},
		{"nested lists", List{Vector{956, 956}}, "([956 956])"},
		{"start-partition value", Vector{Keyword("isolated"), map[string]any{"n1": Set{"n2", "n3"}}}, `[:isolated {"n1" #{"n2" "n3"}}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Marshal(c.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != c.want {
				t.Errorf("Marshal = %s\nwant      %s", got, c.want)
			}
			// A value that fits on a line prints the same when pretty.
			pretty, err := MarshalIndent(c.in)
			if err != nil {
				t.Fatalf("MarshalIndent: %v", err)
			}
			if len(c.want) <= PrettyWidth && string(pretty) != c.want {
				t.Errorf("MarshalIndent = %s, want %s", pretty, c.want)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	type named int
	cases := []struct {
		name string
		in   any
		want string // in the error
	}{
		{"struct", struct{ A int }{1}, "struct { A int }"},
		{"named int", named(1), "edn.named"},
		{"chan", make(chan int), "chan int"},
		{"func inside a map", K("f", func() {}), "func()"},
		{"bad json.Number", json.Number("12abc"), `"12abc"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Marshal(c.in)
			if err == nil {
				t.Fatalf("Marshal(%T) succeeded, want an error", c.in)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if _, err := MarshalIndent(c.in); err == nil {
				t.Errorf("MarshalIndent(%T) succeeded, want an error", c.in)
			}
			if _, err := MarshalJSON(c.in); err == nil {
				t.Errorf("MarshalJSON(%T) succeeded, want an error", c.in)
			}
		})
	}
}

func TestMarshalErrorNamesKey(t *testing.T) {
	_, err := Marshal(K("workload", K("bad", struct{}{})))
	if err == nil || !strings.Contains(err.Error(), ":bad") {
		t.Fatalf("error %v should name the key :bad", err)
	}
}

// echoResults is the results map of a real Maelstrom echo run.
func echoResults() Map {
	counts := func(n int) Map {
		return K("valid?", true, "count", n, "ok-count", n, "fail-count", 0, "info-count", 0)
	}
	return K(
		"perf", K("latency-graph", K("valid?", true), "rate-graph", K("valid?", true), "valid?", true),
		"timeline", K("valid?", true),
		"exceptions", K("valid?", true),
		"stats", append(counts(53), Entry{Keyword("by-f"), K("echo", counts(53))}),
		"availability", K("valid?", true, "ok-fraction", float32(1)),
		"net", K(
			"all", K("send-count", 109, "recv-count", 108, "msg-count", 109, "msgs-per-op", float32(2.0566037)),
			"clients", K("send-count", 109, "recv-count", 108, "msg-count", 109),
			"servers", K("send-count", 0, "recv-count", 0, "msg-count", 0, "msgs-per-op", float32(0)),
			"valid?", true),
		"workload", K("valid?", true, "errors", List{}),
		"valid?", true,
	)
}

// TestMarshalIndentMatchesMaelstrom compares with the text Maelstrom
// printed for that run: maps that fit stay on one line, others break
// one entry per line with values aligned after their keys.
func TestMarshalIndentMatchesMaelstrom(t *testing.T) {
	want := `{:perf {:latency-graph {:valid? true},
        :rate-graph {:valid? true},
        :valid? true},
 :timeline {:valid? true},
 :exceptions {:valid? true},
 :stats {:valid? true,
         :count 53,
         :ok-count 53,
         :fail-count 0,
         :info-count 0,
         :by-f {:echo {:valid? true,
                       :count 53,
                       :ok-count 53,
                       :fail-count 0,
                       :info-count 0}}},
 :availability {:valid? true, :ok-fraction 1.0},
 :net {:all {:send-count 109,
             :recv-count 108,
             :msg-count 109,
             :msgs-per-op 2.0566037},
       :clients {:send-count 109, :recv-count 108, :msg-count 109},
       :servers {:send-count 0,
                 :recv-count 0,
                 :msg-count 0,
                 :msgs-per-op 0.0},
       :valid? true},
 :workload {:valid? true, :errors ()},
 :valid? true}`
	got, err := MarshalIndent(echoResults())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("MarshalIndent:\n%s\nwant:\n%s", got, want)
	}
	compact, err := Marshal(echoResults())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(compact), "\n") {
		t.Errorf("Marshal output spans lines: %s", compact)
	}
	if strings.Join(strings.Fields(string(got)), " ") != string(compact) {
		t.Errorf("pretty and compact differ in more than line breaks:\n%s\n%s", got, compact)
	}
}

// TestMarshalIndentSequences checks lists, vectors and tagged records,
// again against a real Maelstrom (g-counter) results excerpt.
func TestMarshalIndentSequences(t *testing.T) {
	op := Tagged{"jepsen.history.Op", K("index", 3915, "time", int64(30006406713), "type", Keyword("ok"),
		"process", 2, "f", Keyword("read"), "value", 1429, "final?", true)}
	workload := K("valid?", false,
		"errors", List{op},
		"final-reads", List{1429, 1430, 1430},
		"acceptable", List{Vector{1430, 1430}})
	want := `{:workload {:valid? false,
            :errors (#jepsen.history.Op{:index 3915,
                                        :time 30006406713,
                                        :type :ok,
                                        :process 2,
                                        :f :read,
                                        :value 1429,
                                        :final? true}),
            :final-reads (1429 1430 1430),
            :acceptable ([1430 1430])},
 :valid? false}`
	got, err := MarshalIndent(K("workload", workload, "valid?", false))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("MarshalIndent:\n%s\nwant:\n%s", got, want)
	}

	// A long vector of atoms breaks one element per line.
	long := make(Vector, 30)
	for i := range long {
		long[i] = i * 1000
	}
	got, err = MarshalIndent(K("xs", long))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(got), "\n")
	if len(lines) != 30 || lines[0] != "{:xs [0" || lines[1] != "      1000" || lines[29] != "      29000]}" {
		t.Errorf("long vector laid out as:\n%s", got)
	}
}

func TestMarshalIndentWidthBoundary(t *testing.T) {
	// A map whose one-line form ends exactly at column PrettyWidth stays
	// on one line; one character more breaks it.
	fits := K("a", strings.Repeat("x", PrettyWidth-len(`{:a ""}`)))
	got, err := MarshalIndent(fits)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "\n") || len(got) != PrettyWidth {
		t.Errorf("%d-column map was broken: %s", len(got), got)
	}
	over := K("a", strings.Repeat("x", PrettyWidth-len(`{:a ""}`)+1), "b", 1)
	got, err = MarshalIndent(over)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), ",\n :b 1}") {
		t.Errorf("over-wide map was not broken: %s", got)
	}
}
