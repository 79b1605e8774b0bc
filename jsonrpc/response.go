package jsonrpc

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/rtgate/rtgate/internal/jsonenc"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Error is a JSON-RPC error object.
type Error struct {
	Code    int
	Message string
	// Data, if not nil, is the error's "data" member, raw JSON.
	Data []byte
}

func (e *Error) Error() string { return "jsonrpc error " + strconv.Itoa(e.Code) + ": " + e.Message }

// FaultCode maps an rTorrent fault code to a JSON-RPC error code as
// jesec's rTorrent reports the same failures: no such method is -32601, a
// bad target, type or command (rTorrent's input errors) -32602, anything
// else -32000.
func FaultCode(code int64) int {
	switch code {
	case xmlrpc.FaultNoMethod:
		return protocol.CodeMethodNotFound
	case xmlrpc.FaultType, xmlrpc.FaultParse:
		return protocol.CodeInvalidParams
	}
	return protocol.CodeServerError
}

// FaultError is the error answering an rTorrent fault: FaultCode's code
// and rTorrent's message, and with data the fault itself as
// {"faultCode":…,"faultString":…}.
func FaultError(f *xmlrpc.Fault, data bool) *Error {
	e := &Error{Code: FaultCode(f.Code), Message: f.Message}
	if data {
		d := append([]byte(`{"faultCode":`), strconv.FormatInt(f.Code, 10)...)
		d = append(d, `,"faultString":`...)
		d = jsonenc.AppendString(d, f.Message)
		e.Data = append(d, '}')
	}
	return e
}

// RefusalError is the error answering a call the policy refuses: -507,
// as XML-RPC clients see it, the refusal's text as its message, and with
// data the refused command and where it was found, as
// {"method":…,"where":…}.
func RefusalError(err error, data bool) *Error {
	var r *policy.Refusal
	if !errors.As(err, &r) {
		return &Error{Code: protocol.CodeRefused, Message: err.Error()}
	}
	e := &Error{Code: protocol.CodeRefused, Message: r.Error()}
	if data {
		d := append([]byte(`{"method":`), jsonenc.AppendString(nil, r.Method)...)
		if r.Where != "" {
			d = append(d, `,"where":`...)
			d = jsonenc.AppendString(d, r.Where)
		}
		e.Data = append(d, '}')
	}
	return e
}

// AppendResult appends a response object with v as its result, keys
// sorted as jesec's rTorrent writes them.
func AppendResult(dst []byte, id json.RawMessage, v xmlrpc.Value) []byte {
	dst = append(dst, `{"id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"jsonrpc":"2.0","result":`...)
	dst = AppendValue(dst, v)
	return append(dst, '}')
}

// AppendRawResult appends a response object whose result is raw JSON.
func AppendRawResult(dst []byte, id json.RawMessage, result []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"jsonrpc":"2.0","result":`...)
	dst = append(dst, result...)
	return append(dst, '}')
}

// AppendError appends an error response object, keys sorted as jesec's
// rTorrent writes them.
func AppendError(dst []byte, id json.RawMessage, e *Error) []byte {
	dst = append(dst, `{"error":`...)
	dst = AppendErrorObject(dst, e)
	dst = append(dst, `,"id":`...)
	dst = append(dst, id...)
	return append(dst, `,"jsonrpc":"2.0"}`...)
}

// AppendErrorObject appends e as the error object of a response, keys
// sorted: {"code":…,"data":…,"message":…}.
func AppendErrorObject(dst []byte, e *Error) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	if e.Data != nil {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	dst = append(dst, `,"message":`...)
	dst = jsonenc.AppendString(dst, e.Message)
	return append(dst, '}')
}
