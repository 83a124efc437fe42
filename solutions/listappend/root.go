package listappend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// rootKey is the lin-kv key of the one mutable value: the root.
const rootKey = "root"

// segmentKey is the lin-kv key under which the segment of commit seq is
// stored once it leaves the root's inline window.
func segmentKey(seq int64) string { return "s" + strconv.FormatInt(seq, 10) }

// coldRef names a cold map: the commit that made it, the index of the
// node that made it (in the init message's node ids) and a timestamp
// (nanoseconds, distinct for each attempt of that node's process). A
// cold map is written before the cas that would install it, so failed
// attempts leave cold maps behind too: the name keeps every attempt's
// apart. The zero coldRef means no cold map.
type coldRef struct{ seq, node, t int64 }

// coldKey is the lin-kv key of the cold pointer map ref names.
func coldKey(ref coldRef) string { return fmt.Sprintf("c%d.%d.%d", ref.seq, ref.node, ref.t) }

// segment is what one commit wrote: the whole new list of every key it
// appended to. Segments are immutable: commit seq's segment is decided
// by the cas that installs root seq, and nothing ever changes it.
type segment struct {
	seq   int64
	lists map[int64][]int64
}

// root is a decoded root value: the commit sequence number of the
// transaction batch that installed it, a pointer per recently appended
// ("hot") key to the segment holding that key's current list, the
// segments of the last few commits inline, newest first, and the commit
// whose cold map holds the pointers of every other key (0: none). The
// empty database is the root with seq 0, no pointers, no segments and no
// cold map (stored as no root key at all).
type root struct {
	seq    int64
	ptr    map[int64]int64 // hot key → seq of the segment with its list
	recent []segment       // newest first; recent[0].seq == seq when seq > 0
	cold   coldRef         // the current cold map; zero for none

	// newCold is the cold map this root's commit made (cold.seq == seq),
	// which its committer stores; never encoded.
	newCold map[int64]int64
}

// emptyRoot is the state before the first commit.
func emptyRoot() *root { return &root{ptr: map[int64]int64{}} }

// inline returns the inline segment of commit seq, if the root has it.
func (r *root) inline(seq int64) (segment, bool) {
	for _, s := range r.recent {
		if s.seq == seq {
			return s, true
		}
	}
	return segment{}, false
}

// MarshalJSON encodes the root canonically, as a JSON array of integers,
// strings and arrays only (so that Maelstrom's text of a failed cas,
// which prints it as EDN, can be read back unambiguously):
//
//	[seq, [[key, segment-seq], …], [[seg-seq, [[key, [v, …]], …]], …], [] or [cold-seq, node, t]]
//
// Pointers and lists are sorted by key. lin-kv compares a cas's "from"
// with the stored value structurally, so two encodings of one root must
// be identical: this is the only encoder, and it is deterministic.
func (r *root) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	b.WriteString(strconv.FormatInt(r.seq, 10))
	b.WriteString(",[")
	for i, k := range slices.Sorted(maps.Keys(r.ptr)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%d]", k, r.ptr[k])
	}
	b.WriteString("],[")
	for i, s := range r.recent {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,", s.seq)
		writeLists(&b, s.lists)
		b.WriteByte(']')
	}
	b.WriteString("],")
	if r.cold == (coldRef{}) {
		b.WriteString("[]")
	} else {
		fmt.Fprintf(&b, "[%d,%d,%d]", r.cold.seq, r.cold.node, r.cold.t)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// encodePointers is the lin-kv value of a cold map: [[key, seg-seq], …].
func encodePointers(ptr map[int64]int64) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, k := range slices.Sorted(maps.Keys(ptr)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%d]", k, ptr[k])
	}
	b.WriteByte(']')
	return b.Bytes()
}

// decodePointersJSON decodes a cold map read from lin-kv.
func decodePointersJSON(raw []byte) (map[int64]int64, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return pointersFromValue(v)
}

func pointersFromValue(v any) (map[int64]int64, error) {
	ptrs, ok := v.([]any)
	if !ok {
		return nil, errors.New("pointers are not a list")
	}
	out := make(map[int64]int64, len(ptrs))
	for _, p := range ptrs {
		k, s, err := pair(p)
		if err != nil {
			return nil, fmt.Errorf("pointer: %w", err)
		}
		out[k] = s
	}
	return out, nil
}

// encodeSegment is the lin-kv value of a segment: [[key, [v, …]], …].
func encodeSegment(s segment) json.RawMessage {
	var b bytes.Buffer
	writeLists(&b, s.lists)
	return b.Bytes()
}

func writeLists(b *bytes.Buffer, lists map[int64][]int64) {
	b.WriteByte('[')
	for i, k := range slices.Sorted(maps.Keys(lists)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "[%d,[", k)
		for j, v := range lists[k] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(v, 10))
		}
		b.WriteString("]]")
	}
	b.WriteByte(']')
}

// decodeRootJSON decodes a root read from lin-kv.
func decodeRootJSON(raw []byte) (*root, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("root %.200s: %w", raw, err)
	}
	return rootFromValue(v)
}

// decodeSegmentJSON decodes a segment read from lin-kv.
func decodeSegmentJSON(seq int64, raw []byte) (segment, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return segment{}, fmt.Errorf("segment %d: %w", seq, err)
	}
	lists, err := listsFromValue(v)
	if err != nil {
		return segment{}, fmt.Errorf("segment %d: %w", seq, err)
	}
	return segment{seq: seq, lists: lists}, nil
}

// decodeJSON decodes JSON keeping integers exact (as json.Number).
func decodeJSON(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// rootFromValue converts a decoded value ([]any, integers as int64 or
// json.Number) into a root.
func rootFromValue(v any) (*root, error) {
	parts, ok := v.([]any)
	if !ok || len(parts) != 4 {
		return nil, fmt.Errorf("root is not [seq pointers segments cold]: %.200v", v)
	}
	r := &root{}
	var err error
	if r.seq, err = toInt(parts[0]); err != nil {
		return nil, fmt.Errorf("root seq: %w", err)
	}
	if r.ptr, err = pointersFromValue(parts[1]); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	switch c, ok := parts[3].([]any); {
	case !ok || (len(c) != 0 && len(c) != 3):
		return nil, fmt.Errorf("root cold map is not [] or [seq node t]: %v", parts[3])
	case len(c) == 3:
		for i, f := range []*int64{&r.cold.seq, &r.cold.node, &r.cold.t} {
			if *f, err = toInt(c[i]); err != nil {
				return nil, fmt.Errorf("root cold map: %w", err)
			}
		}
		if r.cold == (coldRef{}) {
			return nil, errors.New("root cold map [0 0 0]")
		}
	}
	segs, ok := parts[2].([]any)
	if !ok {
		return nil, errors.New("root segments are not a list")
	}
	for _, sv := range segs {
		sp, ok := sv.([]any)
		if !ok || len(sp) != 2 {
			return nil, fmt.Errorf("root segment is not [seq lists]: %v", sv)
		}
		seq, err := toInt(sp[0])
		if err != nil {
			return nil, fmt.Errorf("root segment seq: %w", err)
		}
		lists, err := listsFromValue(sp[1])
		if err != nil {
			return nil, fmt.Errorf("root segment %d: %w", seq, err)
		}
		r.recent = append(r.recent, segment{seq: seq, lists: lists})
	}
	return r, nil
}

// listsFromValue decodes [[key, [v, …]], …].
func listsFromValue(v any) (map[int64][]int64, error) {
	entries, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("lists are not a list: %v", v)
	}
	lists := make(map[int64][]int64, len(entries))
	for _, e := range entries {
		kv, ok := e.([]any)
		if !ok || len(kv) != 2 {
			return nil, fmt.Errorf("list entry is not [key values]: %v", e)
		}
		k, err := toInt(kv[0])
		if err != nil {
			return nil, err
		}
		vs, ok := kv[1].([]any)
		if !ok {
			return nil, fmt.Errorf("values of key %d are not a list", k)
		}
		l := make([]int64, len(vs))
		for i, x := range vs {
			if l[i], err = toInt(x); err != nil {
				return nil, err
			}
		}
		lists[k] = l
	}
	return lists, nil
}

func pair(v any) (a, b int64, err error) {
	p, ok := v.([]any)
	if !ok || len(p) != 2 {
		return 0, 0, fmt.Errorf("%v is not a pair", v)
	}
	if a, err = toInt(p[0]); err != nil {
		return 0, 0, err
	}
	b, err = toInt(p[1])
	return a, b, err
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer", x)
		}
		return i, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

// casFailurePrefix starts the text of lin-kv's precondition-failed
// error: Maelstrom's src/maelstrom/service.clj (the kv state machine's
// cas) replies (str "current value " (pr-str current) " is not "
// (pr-str from)).
const casFailurePrefix = "current value "

// rootFromCASFailure recovers the current root from the text of a failed
// cas on the root, sparing a read. The root holds only integers and
// arrays, which Clojure prints as EDN vectors ([1 [[2 3]] []]), so the
// text is unambiguous. Any surprise is an error, and the caller reads the
// root instead. A wrong guess could not do harm anyway: the next cas
// names the root it was computed from, and lin-kv refuses it unless that
// is exactly the current value.
func rootFromCASFailure(text string) (*root, error) {
	rest, ok := strings.CutPrefix(text, casFailurePrefix)
	if !ok {
		return nil, fmt.Errorf("cas failure text %.80q lacks %q", text, casFailurePrefix)
	}
	p := ednParser{s: rest}
	v, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("cas failure text: %w", err)
	}
	if !strings.HasPrefix(p.s[p.i:], " is not ") {
		return nil, fmt.Errorf("cas failure text: %.40q after the current value", p.s[p.i:])
	}
	r, err := rootFromValue(v)
	if err != nil {
		return nil, fmt.Errorf("cas failure text: %w", err)
	}
	// Roots are encoded canonically, and their EDN is their JSON with
	// spaces for commas: anything else was not printed from a root.
	enc, _ := r.MarshalJSON()
	if strings.ReplaceAll(string(enc), ",", " ") != rest[:p.i] {
		return nil, fmt.Errorf("cas failure text: %.80q is not a root as this package encodes it", rest[:p.i])
	}
	return r, nil
}

// ednParser reads the subset of EDN Clojure prints for JSON arrays of
// integers: vectors, integers and nil (commas are whitespace in EDN).
type ednParser struct {
	s string
	i int
}

func (p *ednParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *ednParser) value() (any, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end of EDN")
	}
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		out := []any{}
		for {
			p.skipSpace()
			if p.i >= len(p.s) {
				return nil, errors.New("unterminated EDN vector")
			}
			if p.s[p.i] == ']' {
				p.i++
				return out, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("EDN integer %q: %w", p.s[p.i:j], err)
		}
		p.i = j
		return n, nil
	case strings.HasPrefix(p.s[p.i:], "nil"):
		p.i += 3
		return nil, nil
	default:
		return nil, fmt.Errorf("unexpected %q in EDN", p.s[p.i:min(len(p.s), p.i+20)])
	}
}
