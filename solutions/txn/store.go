package txn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// version is one value of a key, stamped with the hybrid logical clock
// reading of the transaction that wrote it and the id of the node that
// ran that transaction. Versions are totally ordered by (ts, origin):
// the larger one wins a merge (last writer wins).
type version struct {
	val    json.RawMessage
	ts     int64
	origin string
}

// newer reports whether v wins over w in the last-writer-wins order.
func (v version) newer(w version) bool {
	if v.ts != w.ts {
		return v.ts > w.ts
	}
	return v.origin > w.origin
}

// clock is a hybrid logical clock: readings never go backwards, every
// local reading exceeds every earlier reading and every timestamp
// observed from a peer, and they follow the wall clock (in nanoseconds)
// while it is ahead. So a transaction that read a version gets a larger
// timestamp than that version, wherever either ran: the
// last-writer-wins order respects what each writer saw.
type clock struct{ last int64 }

// tick returns a fresh timestamp for a local transaction at wall time
// wall (Unix nanoseconds).
func (c *clock) tick(wall int64) int64 {
	c.last = max(c.last+1, wall)
	return c.last
}

// observe moves the clock past a timestamp seen in a peer's version.
func (c *clock) observe(ts int64) { c.last = max(c.last, ts) }

// mop is one micro-operation of a transaction, as the workload sends it:
// ["r", k, null] or ["w", k, v].
type mop struct {
	write bool
	key   string          // the key's compact JSON encoding
	val   json.RawMessage // a write's value; a read's result once applied
}

// parseTxn decodes the "txn" field of a request: an array of [f, k, v]
// micro-operations with f "r" or "w". Keys are compared by their compact
// JSON encoding, so any JSON value may be a key (1 and 1.0 are different
// keys).
func parseTxn(raw []json.RawMessage) ([]mop, error) {
	if len(raw) == 0 {
		return nil, errors.New(`txn needs a non-empty "txn" array`)
	}
	ops := make([]mop, len(raw))
	for i, r := range raw {
		var parts []json.RawMessage
		if err := json.Unmarshal(r, &parts); err != nil || len(parts) != 3 {
			return nil, fmt.Errorf("micro-op %d is not an [f, k, v] array: %s", i, r)
		}
		var f string
		if err := json.Unmarshal(parts[0], &f); err != nil || (f != "r" && f != "w") {
			return nil, fmt.Errorf(`micro-op %d: function %s is not "r" or "w"`, i, parts[0])
		}
		k, err := compact(parts[1])
		if err != nil {
			return nil, fmt.Errorf("micro-op %d: key: %w", i, err)
		}
		ops[i] = mop{write: f == "w", key: string(k)}
		if ops[i].write {
			v, err := compact(parts[2])
			if err != nil {
				return nil, fmt.Errorf("micro-op %d: value: %w", i, err)
			}
			ops[i].val = v
		}
	}
	return ops, nil
}

// encodeTxn renders applied micro-operations as the reply's "txn" array.
func encodeTxn(ops []mop) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, o := range ops {
		if i > 0 {
			b.WriteByte(',')
		}
		if o.write {
			b.WriteString(`["w",`)
		} else {
			b.WriteString(`["r",`)
		}
		b.WriteString(o.key)
		b.WriteByte(',')
		if o.val == nil {
			b.WriteString("null")
		} else {
			b.Write(o.val)
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.Bytes()
}

// store is a node's replica: the newest version of every key it knows.
// It is not safe for concurrent use; the Server guards it.
type store struct {
	self string
	clk  clock
	data map[string]version
}

func newStore(self string) *store {
	return &store{self: self, data: map[string]version{}}
}

// apply runs a transaction against the store as one indivisible step:
// reads see the store as it was before the transaction, overlaid with
// the transaction's own earlier writes; a read of a key nobody wrote
// returns nil. Only each key's last write in the transaction (its
// external write) reaches the store, all of them with one timestamp, so
// no other transaction ever sees an intermediate write or part of this
// one. It fills in the reads and returns the external writes in key
// order of first write, with their version, or nil when the transaction
// wrote nothing.
func (s *store) apply(ops []mop, wall int64) []keyVersion {
	var own map[string]json.RawMessage // this transaction's writes so far
	var order []string                 // keys written, in order of first write
	for i := range ops {
		o := &ops[i]
		if o.write {
			if own == nil {
				own = map[string]json.RawMessage{}
			}
			if _, ok := own[o.key]; !ok {
				order = append(order, o.key)
			}
			own[o.key] = o.val
			continue
		}
		if v, ok := own[o.key]; ok {
			o.val = v
		} else if cur, ok := s.data[o.key]; ok {
			o.val = cur.val
		} else {
			o.val = nil
		}
	}
	if len(order) == 0 {
		return nil
	}
	ts := s.clk.tick(wall)
	out := make([]keyVersion, len(order))
	for i, k := range order {
		v := version{val: own[k], ts: ts, origin: s.self}
		s.data[k] = v
		out[i] = keyVersion{key: k, v: v}
	}
	return out
}

// merge installs v under key unless the store holds a newer version, and
// reports whether it did.
func (s *store) merge(key string, v version) bool {
	s.clk.observe(v.ts)
	if cur, ok := s.data[key]; ok && !v.newer(cur) {
		return false
	}
	s.data[key] = v
	return true
}

// keyVersion is a version with its key.
type keyVersion struct {
	key string
	v   version
}

// wireWrite is a replicated version on the wire: [key, value, ts]. The
// origin is the sender: a node replicates only its own transactions'
// writes.
type wireWrite [3]json.RawMessage

func toWire(kv keyVersion) wireWrite {
	return wireWrite{json.RawMessage(kv.key), kv.v.val, strconv.AppendInt(nil, kv.v.ts, 10)}
}

// fromWire decodes a replicated version sent by origin.
func fromWire(w wireWrite, origin string) (keyVersion, error) {
	k, err := compact(w[0])
	if err != nil {
		return keyVersion{}, fmt.Errorf("key: %w", err)
	}
	v, err := compact(w[1])
	if err != nil {
		return keyVersion{}, fmt.Errorf("value: %w", err)
	}
	ts, err := strconv.ParseInt(string(w[2]), 10, 64)
	if err != nil {
		return keyVersion{}, fmt.Errorf("timestamp: %w", err)
	}
	return keyVersion{key: string(k), v: version{val: v, ts: ts, origin: origin}}, nil
}

// compact returns the compact encoding of a JSON value. A missing value
// (as in a short array) is an error.
func compact(v json.RawMessage) (json.RawMessage, error) {
	if len(v) == 0 {
		return nil, errors.New("missing JSON value")
	}
	if !bytes.ContainsAny(v, " \t\r\n") {
		if !json.Valid(v) {
			return nil, errors.New("invalid JSON")
		}
		return bytes.Clone(v), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
