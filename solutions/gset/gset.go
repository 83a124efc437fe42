// Package gset implements Maelstrom's g-set workload: a grow-only set,
// replicated between nodes as a state-based CRDT.
//
// A node answers {"type":"add","element":e} by adding e to its local set
// and {"type":"read"} with the whole local set. Sets merge by union, which
// is commutative, associative and idempotent, so replicas that have heard
// the same adds, in any order and any number of times, hold the same set.
//
// Replication is the job of a [crdt.Replicator]: every 250 ms a node
// pushes each peer, as {"type":"gset_replicate","elements":[...]}, the
// elements it does not know the peer to have, and counts them as known
// once the peer acknowledges the push. Elements a peer pushed to us are
// known to it as well. A push lost to a partition is retried with
// everything still missing, so after the network heals every node gets
// every element within a few intervals. Once the nodes agree, they send
// nothing at all. This package keeps only what is particular to sets:
// element identity, union, and the difference that makes a push.
//
// Elements may be any JSON values. They are compared by their compact
// JSON text, which is exact for the integers the workload adds (objects
// with the same fields in a different order would count as different
// elements).
package gset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/internal/crdt"
)

// set is a grow-only set of JSON elements, a join semilattice under
// union. On the wire it is the array of its elements.
type set struct {
	keys  map[string]bool   // compact JSON text of every element
	order []json.RawMessage // the elements (compact) in arrival order, for reads
}

// newSet returns an empty set.
func newSet() *set { return &set{keys: map[string]bool{}} }

// keyOf is the identity of an element: its canonical JSON text.
func keyOf(e json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(e))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("element %q: %w", e, err)
	}
	// Re-encoding spells equal JSON values alike: object keys sorted, and
	// "<" the same whether a client wrote it raw or a peer as \u003c.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("element %q: %w", e, err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// add inserts the element whose key is k, reporting whether it is new.
func (s *set) add(k string) bool {
	if s.keys[k] {
		return false
	}
	s.keys[k] = true
	s.order = append(s.order, json.RawMessage(k))
	return true
}

// Merge adds o's elements to s (in o's order) and reports whether s grew.
func (s *set) Merge(o *set) bool {
	grew := false
	for _, e := range o.order {
		if s.add(string(e)) {
			grew = true
		}
	}
	return grew
}

// Missing returns the elements of s that known lacks, in arrival order,
// and false when known has them all.
func (s *set) Missing(known *set) (*set, bool) {
	d := newSet()
	for _, e := range s.order {
		if !known.keys[string(e)] {
			d.add(string(e))
		}
	}
	return d, len(d.order) > 0
}

// MarshalJSON encodes s as the array of its elements.
func (s *set) MarshalJSON() ([]byte, error) {
	if s.order == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.order)
}

// UnmarshalJSON adds the elements of a JSON array to s.
func (s *set) UnmarshalJSON(b []byte) error {
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return fmt.Errorf("elements: %w", err)
	}
	for _, e := range elems {
		k, err := keyOf(e)
		if err != nil {
			return err
		}
		s.add(k)
	}
	return nil
}

// server is one g-set node.
type server struct {
	n    *node.Node
	repl *crdt.Replicator[*set]
}

// Register wires a g-set node onto n: handlers for add and read, and a
// [crdt.Replicator] that handles the peers' pushes and, from init on,
// pushes to every peer.
func Register(n *node.Node) {
	s := &server{n: n, repl: crdt.New(n, crdt.Config[*set]{
		Type: "gset_replicate", Field: "elements", Empty: newSet,
	})}
	n.Handle("add", s.add)
	n.Handle("read", s.read)
}

func (s *server) add(msg node.Message) error {
	var body struct {
		Element json.RawMessage `json:"element"`
	}
	if err := msg.Unmarshal(&body); err != nil || body.Element == nil {
		return node.NewRPCError(node.MalformedRequest, `add needs an "element"`)
	}
	k, err := keyOf(body.Element)
	if err != nil {
		return node.NewRPCError(node.MalformedRequest, err.Error())
	}
	s.repl.Update(func(st *set) { st.add(k) })
	return s.n.Reply(msg, node.Body{Type: "add_ok"})
}

func (s *server) read(msg node.Message) error {
	var out []json.RawMessage
	s.repl.View(func(st *set) { out = slices.Clone(st.order) })
	if out == nil {
		out = []json.RawMessage{}
	}
	return s.n.Reply(msg, struct {
		node.Body
		Value []json.RawMessage `json:"value"`
	}{node.Body{Type: "read_ok"}, out})
}
