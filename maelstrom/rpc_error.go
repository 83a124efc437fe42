package maelstrom

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The error codes of Maelstrom's protocol that the demo library names.
// Timeout (0) and Crash (13) are indefinite: the operation may or may not
// have happened; the others are definite: it did not.
const (
	Timeout                = 0
	NotSupported           = 10
	TemporarilyUnavailable = 11
	MalformedRequest       = 12
	Crash                  = 13
	Abort                  = 14
	KeyDoesNotExist        = 20
	KeyAlreadyExists       = 21
	PreconditionFailed     = 22
	TxnConflict            = 30
)

// ErrorCodeText returns the constant's name for code, such as
// "KeyDoesNotExist", or "ErrorCode<N>" for a code without one.
func ErrorCodeText(code int) string {
	switch code {
	case Timeout:
		return "Timeout"
	case NotSupported:
		return "NotSupported"
	case TemporarilyUnavailable:
		return "TemporarilyUnavailable"
	case MalformedRequest:
		return "MalformedRequest"
	case Crash:
		return "Crash"
	case Abort:
		return "Abort"
	case KeyDoesNotExist:
		return "KeyDoesNotExist"
	case KeyAlreadyExists:
		return "KeyAlreadyExists"
	case PreconditionFailed:
		return "PreconditionFailed"
	case TxnConflict:
		return "TxnConflict"
	}
	return fmt.Sprintf("ErrorCode<%d>", code)
}

// ErrorCode returns the code of the first *RPCError in err's chain, or -1
// when there is none (nil included).
func ErrorCode(err error) int {
	var e *RPCError
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// RPCError is an error reply, {"type":"error","code":…,"text":…}. Return
// one from a handler to answer the request with it; SyncRPC and the KV
// methods return one when the other side answered with an error.
type RPCError struct {
	Code int
	Text string
}

// NewRPCError returns an error with the given code and text.
func NewRPCError(code int, text string) *RPCError {
	return &RPCError{Code: code, Text: text}
}

// Error returns the error as RPCError(Name, "text").
func (e *RPCError) Error() string {
	return fmt.Sprintf("RPCError(%s, %q)", ErrorCodeText(e.Code), e.Text)
}

// MarshalJSON encodes the error as an error body. Unlike the demo
// library's, it always has a code, so Timeout (0) is not lost; an empty
// text is left out, as there.
func (e *RPCError) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorBody{Type: "error", Code: e.Code, Text: e.Text})
}

// errorBody is the wire form of an RPCError.
type errorBody struct {
	Type string `json:"type"`
	Code int    `json:"code"`
	Text string `json:"text,omitempty"`
}
