package listappend

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/glomers/glomers/node"
)

// sampleRoot is commit 3 on top of commits 1 and 2.
func sampleRoot() *root {
	return &root{
		seq: 3,
		ptr: map[int64]int64{1: 3, 2: 2, 10: 1},
		recent: []segment{
			{seq: 3, lists: map[int64][]int64{1: {5, 6}}},
			{seq: 2, lists: map[int64][]int64{2: {7}, 1: {5}}},
			{seq: 1, lists: map[int64][]int64{10: {-1}}},
		},
		cold: coldRef{seq: 2, node: 1, t: 99},
	}
}

// The encoding is canonical (pointers and lists sorted by key) and
// decodes to the same root.
func TestRootJSONRoundTrip(t *testing.T) {
	r := sampleRoot()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `[3,[[1,3],[2,2],[10,1]],[[3,[[1,[5,6]]]],[2,[[1,[5]],[2,[7]]]],[1,[[10,[-1]]]]],[2,1,99]]`
	if string(b) != want {
		t.Fatalf("encoded %s, want %s", b, want)
	}
	back, err := decodeRootJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("decoded %+v, want %+v", back, r)
	}
	if _, err := decodeRootJSON([]byte(`{"seq":3}`)); err == nil {
		t.Error("an object decoded as a root")
	}
}

// The text of a failed cas on the root, as Maelstrom prints it (pr-str
// of the parsed JSON: vectors with spaces), gives back the current root;
// anything that is not exactly a root printed so is refused.
func TestRootFromCASFailure(t *testing.T) {
	cur := `[3 [[1 3] [2 2] [10 1]] [[3 [[1 [5 6]]]] [2 [[1 [5]] [2 [7]]]] [1 [[10 [-1]]]]] [2 1 99]]`
	from := `[2 [[1 2] [2 2] [10 1]] [[2 [[1 [5]] [2 [7]]]] [1 [[10 [-1]]]]] []]`
	r, err := rootFromCASFailure("current value " + cur + " is not " + from)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, sampleRoot()) {
		t.Fatalf("parsed %+v, want %+v", r, sampleRoot())
	}
	good := "[3 [[1 3]] [[3 [[1 [5]]]]] []]"
	if _, err := rootFromCASFailure("current value " + good + " is not nil"); err != nil {
		t.Fatalf("%s: %v", good, err)
	}
	for _, bad := range []string{
		"current value " + cur,                                            // no " is not "
		"value " + cur + " is not nil",                                    // another text
		"current value nil is not " + from,                                // no root at all
		"current value [3 [[2 2] [1 3]] [] []] is not nil",                // pointers out of order: not our encoding
		"current value [3, [[1 3]], [[3 [[1 [5]]]]], []] is not nil",      // commas: not as Clojure prints
		"current value {\"seq\" 3} is not nil",                            // a map
		"current value [3 [[1 3]] [[3 [[1 [\"x\"]]]]] []] is not nil",     // a string value
		"current value [99999999999999999999 [] [] []] is not nil",        // out of range
		"current value [3 [[1 3]] [[3 [[1 [5]]]]] [] is not nil",          // unbalanced
		"current value " + good + " trailing is not nil",                  // junk
		"current value " + good,                                           // cut short
		"current value " + good + "]] is not nil",                         // extra brackets
		"current value [3 [[1 3 4]] [[3 [[1 [5]]]]] []] is not nil",       // a triple for a pointer
		"current value [3 [[1 3]] [[3 [[1 [5]]]]]] is not nil",            // three parts
		"current value [3 [[1 3]] [[3 [[1 [5]]]]] [] []] is not nil",      // five parts
		"current value [3 [[1 3]] [[3 [[1 [5]]]]] 0] is not nil",          // a number for the cold map
		"current value [3 [[1 3]] [[3 [[1 [5]]]]] [2 1]] is not nil",      // a pair for the cold map
		"current value [3 [[1 3]] [[3 [[1 [5]]]]] [0 0 0]] is not nil",    // the zero cold map spelt out
		"current value [3 [[1 3]] [[3 [[1 [5]] [1 [6]]]]] []] is not nil", // a key twice in a segment
		"current value [3 [[1 3] [1 3]] [[3 [[1 [5]]]]] []] is not nil",   // a key twice in the pointers
		"current value [- [] [] []] is not nil",                           // a lone minus
	} {
		if r, err := rootFromCASFailure(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, r)
		}
	}
}

// A segment's lin-kv value is its lists, sorted by key.
func TestSegmentEncoding(t *testing.T) {
	s := segment{seq: 7, lists: map[int64][]int64{4: {1, 2}, 3: {9}}}
	raw := encodeSegment(s)
	if string(raw) != `[[3,[9]],[4,[1,2]]]` {
		t.Fatalf("encoded %s", raw)
	}
	back, err := decodeSegmentJSON(7, raw)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, s)
	}
}

// Requests that are not lists of ["r", k, null] or ["append", k, v]
// with integer keys and values are refused with malformed-request.
func TestDecodeRequest(t *testing.T) {
	msg := func(body string) node.Message {
		return node.Message{Src: "c1", Dest: "n0", Body: json.RawMessage(body)}
	}
	req, err := decodeRequest(msg(`{"type":"txn","msg_id":1,"txn":[["r",1,null],["append",2,6],["r",2,null]]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []mop{{k: 1}, {append: true, k: 2, v: 6}, {k: 2}}
	if !reflect.DeepEqual(req.mops, want) || !req.writes {
		t.Fatalf("decoded %+v (writes %v), want %+v", req.mops, req.writes, want)
	}
	for _, bad := range []string{
		`{"type":"txn","txn":[["w",1,2]]}`,
		`{"type":"txn","txn":[["append",1,"x"]]}`,
		`{"type":"txn","txn":[["r","k",null]]}`,
		`{"type":"txn","txn":[["r",1]]}`,
		`{"type":"txn","txn":{"r":1}}`,
	} {
		if _, err := decodeRequest(msg(bad)); node.ErrorCode(err) != node.MalformedRequest {
			t.Errorf("%s: error %v, want malformed-request", bad, err)
		}
	}
}

// A cold map's lin-kv value is its pointers, sorted by key.
func TestPointersEncoding(t *testing.T) {
	ptr := map[int64]int64{12: 3, -1: 7, 5: 5}
	raw := encodePointers(ptr)
	if string(raw) != `[[-1,7],[5,5],[12,3]]` {
		t.Fatalf("encoded %s", raw)
	}
	back, err := decodePointersJSON(raw)
	if err != nil || !reflect.DeepEqual(back, ptr) {
		t.Fatalf("decoded %v, %v; want %v", back, err, ptr)
	}
	if _, err := decodePointersJSON([]byte(`[[1,2,3]]`)); err == nil {
		t.Error("a triple decoded as a pointer")
	}
}
