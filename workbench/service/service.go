// Package service implements the pseudo-nodes Maelstrom provides to every
// test: the key/value stores lin-kv, seq-kv and lww-kv, and the timestamp
// oracle lin-tso (Maelstrom 0.2.4 doc/services.md and
// src/maelstrom/service.clj).
//
// A Service is a small state machine. The bench delivers it one request
// body at a time, from the service's own goroutine, and sends back the body
// it returns; the network, not the service, adds "in_reply_to". The package
// does no I/O, starts no goroutines and never reads the clock; the two
// services that behave randomly (seq-kv and lww-kv) draw from a *rand.Rand
// given to New, so a run is repeatable from its seed.
//
// Request and reply bodies are JSON objects as encoding/json decodes them
// with UseNumber: numbers are json.Number, objects map[string]any, arrays
// []any. Keys and values may be any JSON value and are compared as
// Maelstrom compares them, structurally, with 1 ≠ 1.0 and 1 ≠ "1" (see
// history.Equal). A service keeps references to the values it stores and
// returns them in replies: do not modify a body after passing it to Handle,
// or a reply after receiving it.
//
// Behaviour follows Maelstrom's src/maelstrom/service.clj, quirks included:
//
//   - lin-kv applies every request to one map in arrival order. Requests
//     are {"type":"read","key":K}, {"type":"write","key":K,"value":V} and
//     {"type":"cas","key":K,"from":A,"to":B} with optional
//     "create_if_not_exists" (tested with Clojure truth: anything but
//     null and false enables it). Errors: code 20 "key does not exist";
//     code 22 "current value <cur> is not <A>", values printed as Clojure
//     prints them (strings quoted, arrays as [1 2], numbers like Java).
//   - seq-kv answers the same requests from a buffer of the last 32
//     states. Each caller (request src) remembers the state it last
//     observed, i; a request is tried on a random state j with
//     i ≤ j ≤ newest, read modulo the buffer, and, if it would change
//     that state, is re-applied to the newest state instead, which it
//     extends. So reads may be stale, views never go backwards, and a
//     caller that only reads catches up sooner or later (Maelstrom 0.2.3
//     made j's range include the newest state); a write of the value a
//     key already had in the chosen state is acknowledged without
//     reaching the newest state (see seqKV).
//   - lww-kv keeps two replicas that never converge; each request goes to
//     a random one. create_if_not_exists is ignored, and a failed cas
//     prints "from" with Clojure's str (strings unquoted).
//   - lin-tso answers {"type":"ts"} with {"type":"ts_ok","ts":N}, N = 0, 1,
//     2, … in arrival order.
//
// Any other request type gets no reply.
package service

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Service handles the requests addressed to one service id.
//
// Handle takes the requesting node's id (the message's src) and the
// request body, and returns the reply body without "in_reply_to". ok is
// false when no reply must be sent at all: Maelstrom's service thread
// sends nothing for a request whose "type" the service does not know (or
// that makes it fail internally), and the caller eventually times out.
//
// Implementations are safe for concurrent use, though the bench calls
// each service from a single goroutine, in delivery order.
type Service interface {
	Handle(src string, body map[string]any) (reply map[string]any, ok bool)
}

// The service ids, which are also the names New accepts.
const (
	LinKV  = "lin-kv"
	SeqKV  = "seq-kv"
	LWWKV  = "lww-kv"
	LinTSO = "lin-tso"
)

var names = [...]string{LinKV, SeqKV, LWWKV, LinTSO}

// Names returns the ids of the built-in services in the order lin-kv,
// seq-kv, lww-kv, lin-tso. The caller may modify the returned slice.
func Names() []string { return append([]string(nil), names[:]...) }

// New returns a fresh, empty instance of the named service.
//
// seq-kv and lww-kv draw from rng and return an error when it is nil;
// lin-kv and lin-tso are deterministic and ignore it. A *rand.Rand is not
// safe for concurrent use, and each service runs on its own goroutine, so
// give every service its own rng (derived from the test's seed) rather
// than sharing one.
func New(name string, rng *rand.Rand) (Service, error) {
	switch name {
	case LinKV:
		return newLinKV(), nil
	case SeqKV:
		if rng == nil {
			return nil, errors.New("service: seq-kv needs a random source, got nil")
		}
		return newSeqKV(rng), nil
	case LWWKV:
		if rng == nil {
			return nil, errors.New("service: lww-kv needs a random source, got nil")
		}
		return newLWWKV(rng), nil
	case LinTSO:
		return &linTSO{}, nil
	}
	return nil, fmt.Errorf("service: unknown service %q (valid: %s)", name, strings.Join(names[:], ", "))
}
