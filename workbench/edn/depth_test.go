package edn

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// nested returns n arrays inside one another around 1, as a node's reply
// decoded by encoding/json would hold them.
func nested(n int) any {
	var v any = json.Number("1")
	for range n {
		v = []any{v}
	}
	return v
}

// TestDeepValueIsCut checks that a value nested far deeper than MaxDepth
// (a hostile reply of 10,000 levels, or a slice holding itself) is
// encoded by every encoder with the marker in place of what lies too
// deep, in output whose size grows with the depth kept, not the depth
// given, and without a heap that grows with the square of the depth.
func TestDeepValueIsCut(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	for name, v := range map[string]any{"10000 levels": nested(10_000), "cycle": cyclic} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			results := K("workload", K("reply", v))
			encoders := map[string]func() ([]byte, error){
				"Marshal":           func() ([]byte, error) { return Marshal(results) },
				"MarshalIndent":     func() ([]byte, error) { return MarshalIndent(results) },
				"MarshalJSONIndent": func() ([]byte, error) { return MarshalJSONIndent(results, "", "  ") },
			}
			for enc, f := range encoders {
				out, err := f()
				if err != nil {
					t.Fatalf("%s: %v", enc, err)
				}
				if !strings.Contains(string(out), "nested deeper than 256 levels") {
					t.Errorf("%s: no marker in %.200q", enc, out)
				}
				// Indented JSON repeats the indentation on each of about
				// 2×256 lines: at most 2×256 lines of 2×256 spaces.
				if len(out) > 600_000 {
					t.Errorf("%s: %d bytes for a cut value", enc, len(out))
				}
				if enc == "MarshalJSONIndent" && !json.Valid(out) {
					t.Errorf("%s: invalid JSON", enc)
				}
			}
			runtime.ReadMemStats(&after)
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
				t.Errorf("encoding allocated %d MB", grown>>20)
			}
		})
	}
}

// TestDepthAtTheLimitIsKept checks that MaxDepth levels are written in full.
func TestDepthAtTheLimitIsKept(t *testing.T) {
	out, err := Marshal(nested(MaxDepth))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("[", MaxDepth) + "1" + strings.Repeat("]", MaxDepth)
	if string(out) != want {
		t.Errorf("Marshal of %d levels = %.80q…, want it whole", MaxDepth, out)
	}
}
