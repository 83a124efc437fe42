package node

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Error codes defined by Maelstrom (codes 0–999 are reserved for it; use
// 1000 and above for your own). They are untyped constants so they can be
// used wherever an int is expected, as in [NewRPCError] and [ErrorCode];
// convert to [Code] for the name and definiteness: Code(KeyDoesNotExist).
//
// A definite error promises the operation did not happen and never will;
// an indefinite one (Timeout, Crash, and every unknown code) promises
// nothing. When in doubt return an indefinite error: a wrong definite
// error makes the checkers report anomalies that did not happen.
const (
	Timeout                = 0  // indefinite: could not complete in time
	NodeNotFound           = 1  // definite: the destination node does not exist
	NotSupported           = 10 // definite: the request type is not implemented
	TemporarilyUnavailable = 11 // definite: cannot be served right now
	MalformedRequest       = 12 // definite: the request could not be understood
	Crash                  = 13 // indefinite: generic failure, the safe catch-all
	Abort                  = 14 // definite: generic failure
	KeyDoesNotExist        = 20 // definite: the key is missing
	KeyAlreadyExists       = 21 // definite: the key exists
	PreconditionFailed     = 22 // definite: e.g. a compare-and-swap "from" mismatch
	TxnConflict            = 30 // definite: transaction aborted on a conflict
)

// Code is a Maelstrom error code with its name and definiteness.
type Code int

// String returns the name the bench uses for the code, such as
// "key-does-not-exist", or "unknown" for codes it does not know
// (including every application code ≥ 1000).
func (c Code) String() string {
	name, _ := c.info()
	return name
}

// Definite reports whether the bench treats the code as definite (the
// operation certainly did not happen). Unknown codes are indefinite.
func (c Code) Definite() bool {
	_, definite := c.info()
	return definite
}

// info returns the code's Maelstrom name and definiteness.
func (c Code) info() (name string, definite bool) {
	switch c {
	case Timeout:
		return "timeout", false
	case NodeNotFound:
		return "node-not-found", true
	case NotSupported:
		return "not-supported", true
	case TemporarilyUnavailable:
		return "temporarily-unavailable", true
	case MalformedRequest:
		return "malformed-request", true
	case Crash:
		return "crash", false
	case Abort:
		return "abort", true
	case KeyDoesNotExist:
		return "key-does-not-exist", true
	case KeyAlreadyExists:
		return "key-already-exists", true
	case PreconditionFailed:
		return "precondition-failed", true
	case TxnConflict:
		return "txn-conflict", true
	}
	return "unknown", false
}

// RPCError is an error reply: {"type":"error","code":C,"text":T}.
//
// Return one (possibly wrapped) from a handler to reply with it; [Node.Call]
// and the [KV] methods return one when the other side replied with an
// error. Use [ErrorCode] or errors.As to inspect it.
type RPCError struct {
	Code int
	Text string
}

// NewRPCError returns an error with the given code and text.
func NewRPCError(code int, text string) *RPCError {
	return &RPCError{Code: code, Text: text}
}

// Errorf returns an error with the given code and a formatted text.
func Errorf(code int, format string, args ...any) *RPCError {
	return &RPCError{Code: code, Text: fmt.Sprintf(format, args...)}
}

// Error returns the code's name and number and the text, e.g.
// "key-does-not-exist (20): not found".
func (e *RPCError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("%s (%d)", Code(e.Code), e.Code)
	}
	return fmt.Sprintf("%s (%d): %s", Code(e.Code), e.Code, e.Text)
}

// Definite reports whether the error's code is definite.
func (e *RPCError) Definite() bool { return Code(e.Code).Definite() }

// MarshalJSON encodes the error as a complete error body. The code is
// always present, so Timeout (0) is not lost to omitempty.
func (e RPCError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
		Code int    `json:"code"`
		Text string `json:"text"`
	}{"error", e.Code, e.Text})
}

// ErrorCode returns the code of the first *RPCError in err's chain, or -1
// if there is none.
func ErrorCode(err error) int {
	var e *RPCError
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// IsKeyDoesNotExist reports whether err carries code [KeyDoesNotExist].
func IsKeyDoesNotExist(err error) bool { return ErrorCode(err) == KeyDoesNotExist }

// IsPreconditionFailed reports whether err carries code
// [PreconditionFailed].
func IsPreconditionFailed(err error) bool { return ErrorCode(err) == PreconditionFailed }
