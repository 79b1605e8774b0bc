package jsonrpc

import (
	"bytes"
	"encoding/json"

	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Request is one request of a JSON-RPC body or frame, parsed and
// translated into the XML-RPC call rTorrent 0.9.8 runs.
type Request struct {
	// ID is the request's id, compacted; nil for a notification, which
	// gets no answer.
	ID json.RawMessage
	// Method and Params are the XML-RPC call to make. A load.* with a data
	// URI is already translated (load.start_throw → load.raw_start with
	// the torrent's bytes).
	Method string
	Params []xmlrpc.Value
	// Sent is the method as the client sent it; Raw the request object as
	// it came, for an rTorrent that speaks JSON-RPC itself.
	Sent string
	Raw  json.RawMessage
	// RawParams is the request's "params" member as it was sent, for
	// methods the translation does not apply to (rtgate.*'s named params).
	RawParams json.RawMessage
	// Result, if set, replaces rTorrent's answer: the info hash a
	// translated load.*_throw answers in jesec's rTorrent.
	Result *xmlrpc.Value
	// Err is set when the request is answered without rTorrent: it is not
	// a request, or its params cannot be carried. Method and ID may still
	// be set.
	Err *Error
}

// NullID is the id of an answer to a request whose id is unknown.
var NullID = json.RawMessage("null")

// Parse parses a JSON-RPC body: one request object, or a batch (a JSON
// array) of them. A body that is not JSON, or an empty batch, gives no
// requests and the single error to answer with NullID.
func Parse(body []byte) (reqs []Request, batch bool, top *Error) {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return nil, false, &Error{Code: protocol.CodeParseError, Message: "parse error: the body is not valid JSON"}
	}
	if len(body) > 0 && body[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return nil, false, &Error{Code: protocol.CodeParseError, Message: "parse error: " + err.Error()}
		}
		if len(elems) == 0 {
			return nil, false, &Error{Code: protocol.CodeInvalidRequest, Message: "invalid request: empty batch"}
		}
		reqs = make([]Request, len(elems))
		for i, e := range elems {
			reqs[i] = ParseRequest(e)
		}
		return reqs, true, nil
	}
	return []Request{ParseRequest(body)}, false, nil
}

// ParseRequest parses and translates one request object.
func ParseRequest(raw json.RawMessage) Request {
	invalid := func(id json.RawMessage, msg string) Request {
		if id == nil {
			id = NullID
		}
		return Request{ID: id, Err: &Error{Code: protocol.CodeInvalidRequest, Message: "invalid request: " + msg}}
	}
	var fields map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		return invalid(nil, "not an object")
	}
	var r Request
	if id, ok := fields["id"]; ok {
		var buf bytes.Buffer
		json.Compact(&buf, id)
		r.ID = buf.Bytes()
		switch r.ID[0] {
		case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		default:
			return invalid(nil, "id must be a string, a number or null")
		}
	}
	var version string
	if json.Unmarshal(fields["jsonrpc"], &version) != nil || version != "2.0" {
		return invalid(r.ID, `"jsonrpc" must be "2.0"`)
	}
	if m, ok := fields["method"]; !ok || len(m) == 0 || m[0] != '"' || json.Unmarshal(m, &r.Method) != nil {
		return invalid(r.ID, `"method" must be a string`)
	}
	if r.Method == "" {
		return invalid(r.ID, `"method" is empty`)
	}
	r.Sent, r.Raw = r.Method, raw
	r.RawParams = fields["params"]
	failed := func(code int, msg string) Request {
		r.Err = &Error{Code: code, Message: msg}
		return r
	}
	switch p := r.RawParams; {
	case p == nil || string(p) == "null":
	case p[0] == '[':
		params, err := ToValues(p)
		if err != nil {
			return failed(protocol.CodeInvalidParams, err.Error())
		}
		r.Params = params
	case p[0] == '{':
		return failed(protocol.CodeInvalidParams, "invalid parameters: rTorrent takes positional params only (params[0] is the target)")
	default:
		return invalid(r.ID, `"params" must be an array`)
	}
	method, params, result, err := translateLoad(r.Method, r.Params)
	if err != nil {
		return failed(protocol.CodeInvalidParams, err.Error())
	}
	r.Method, r.Params, r.Result = method, params, result
	return r
}
