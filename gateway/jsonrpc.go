package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rtgate/rtgate/xmlrpc"
)

// This file is the JSON-RPC door: JSON-RPC 2.0 in rTorrent's dialect
// (jesec/rtorrent, rTorrent >= 0.15), translated to XML-RPC calls so that
// JSON clients (Flood's faster JSON mode) work against rTorrent 0.9.8.
// Positional params only, params[0] the target; a batch (a JSON array) goes
// upstream as one system.multicall. The answer is one line of JSON with no
// newline after it, since Flood parses what follows the last "\n" of the
// SCGI reply.

// jsonCall is one request of a JSON-RPC body, parsed and translated.
type jsonCall struct {
	id     json.RawMessage // compact; nil for a notification
	method string
	params []xmlrpc.Value
	// result replaces rTorrent's answer, for a translated load.*_throw.
	result *xmlrpc.Value
	// err is the request's error, if it is answered without rTorrent.
	err *jsonError
}

// jsonError is a JSON-RPC error object.
type jsonError struct {
	code    int
	message string
}

var nullID = json.RawMessage("null")

// parseJSONRPC parses a JSON-RPC body. A body that is not JSON, or an
// empty batch, gives a single error answered with a null id.
func parseJSONRPC(body []byte) (calls []jsonCall, batch bool, top *jsonError) {
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return nil, false, &jsonError{CodeParseError, "parse error: the body is not valid JSON"}
	}
	if len(body) > 0 && body[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return nil, false, &jsonError{CodeParseError, "parse error: " + err.Error()}
		}
		if len(elems) == 0 {
			return nil, false, &jsonError{CodeInvalidRequest, "invalid request: empty batch"}
		}
		calls = make([]jsonCall, len(elems))
		for i, e := range elems {
			calls[i] = parseJSONCall(e)
		}
		return calls, true, nil
	}
	return []jsonCall{parseJSONCall(body)}, false, nil
}

// parseJSONCall parses and translates one request object.
func parseJSONCall(raw json.RawMessage) jsonCall {
	invalid := func(id json.RawMessage, msg string) jsonCall {
		if id == nil {
			id = nullID
		}
		return jsonCall{id: id, err: &jsonError{CodeInvalidRequest, "invalid request: " + msg}}
	}
	var fields map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		return invalid(nil, "not an object")
	}
	var c jsonCall
	if id, ok := fields["id"]; ok {
		var buf bytes.Buffer
		json.Compact(&buf, id)
		c.id = buf.Bytes()
		switch c.id[0] {
		case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		default:
			return invalid(nil, "id must be a string, a number or null")
		}
	}
	var version string
	if json.Unmarshal(fields["jsonrpc"], &version) != nil || version != "2.0" {
		return invalid(c.id, `"jsonrpc" must be "2.0"`)
	}
	if m, ok := fields["method"]; !ok || len(m) == 0 || m[0] != '"' || json.Unmarshal(m, &c.method) != nil {
		return invalid(c.id, `"method" must be a string`)
	}
	if c.method == "" {
		return invalid(c.id, `"method" is empty`)
	}
	failed := func(code int, msg string) jsonCall {
		c.err = &jsonError{code, msg}
		return c
	}
	switch p := fields["params"]; {
	case p == nil || string(p) == "null":
	case p[0] == '[':
		params, err := jsonToValues(p)
		if err != nil {
			return failed(CodeInvalidParams, err.Error())
		}
		c.params = params
	case p[0] == '{':
		return failed(CodeInvalidParams, "invalid parameters: rTorrent takes positional params only (params[0] is the target)")
	default:
		return invalid(c.id, `"params" must be an array`)
	}
	method, params, result, err := translateLoad(c.method, c.params)
	if err != nil {
		return failed(CodeInvalidParams, err.Error())
	}
	c.method, c.params, c.result = method, params, result
	return c
}

func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	calls, batch, top := parseJSONRPC(body)
	if top != nil {
		h.log.Debug("rtgate: malformed JSON-RPC request", "remote", r.RemoteAddr, "err", top.message)
		writeJSON(w, http.StatusOK, appendJSONResponse(nil, nullID, nil, top))
		return
	}
	for i := range calls {
		c := &calls[i]
		if c.err != nil {
			continue
		}
		if err := h.policy.Check(c.method, c.params); err != nil {
			c.err = &jsonError{xmlrpc.FaultRefused, err.Error()}
		}
	}
	results, status := h.callJSON(r, calls)
	if r.Context().Err() != nil {
		return
	}

	var out []byte
	if batch {
		out = append(out, '[')
	}
	n := 0
	for i, c := range calls {
		if c.id == nil {
			continue // a notification gets no answer
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		res := results[i]
		out = appendJSONResponse(out, c.id, res.value, res.err)
	}
	if n == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if batch {
		out = append(out, ']')
	}
	writeJSON(w, status, out)
}

// jsonResult is a call's answer: a value or an error.
type jsonResult struct {
	value *xmlrpc.Value
	err   *jsonError
}

// callJSON sends the calls that passed parsing and the policy upstream: one
// alone as itself, several as one system.multicall. It returns their
// answers and the HTTP status: 200, or 502 or 504 when rTorrent failed.
func (h *Handler) callJSON(r *http.Request, calls []jsonCall) ([]jsonResult, int) {
	results := make([]jsonResult, len(calls))
	var send []int
	for i, c := range calls {
		if c.err != nil {
			results[i].err = c.err
		} else {
			send = append(send, i)
		}
	}
	ctx := r.Context()
	status := http.StatusOK
	answer := func(i int, v xmlrpc.Value, err error) {
		if err != nil {
			results[i].err = h.jsonUpstreamError(r, calls[i].method, err, &status)
			return
		}
		if calls[i].result != nil {
			v = *calls[i].result
		}
		results[i].value = &v
	}
	callBatch(ctx, h.up, send, func(i int) (string, []xmlrpc.Value) { return calls[i].method, calls[i].params }, answer)
	return results, status
}

// callBatch sends the calls at the indexes send upstream, for both JSON-RPC
// doors: one alone as itself, several as one system.multicall, whose
// entries (a result, or a fault in its place) it hands to answer in order.
// call returns the method and params of call i. None sends nothing.
func callBatch(ctx context.Context, up Caller, send []int, call func(i int) (string, []xmlrpc.Value), answer func(i int, v xmlrpc.Value, err error)) {
	switch len(send) {
	case 0:
		return
	case 1:
		method, params := call(send[0])
		v, err := up.Call(ctx, method, params...)
		answer(send[0], v, err)
		return
	}
	entries := make([]xmlrpc.Value, len(send))
	for k, i := range send {
		method, params := call(i)
		entries[k] = xmlrpc.NewStruct(
			xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(method)},
			xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)},
		)
	}
	v, err := up.Call(ctx, "system.multicall", xmlrpc.NewArray(entries...))
	if err == nil && (v.Kind() != xmlrpc.Array || v.Len() != len(send)) {
		err = fmt.Errorf("%w: system.multicall answered %d results for %d calls", errBadUpstreamValue, v.Len(), len(send))
	}
	for k, i := range send {
		if err != nil {
			answer(i, xmlrpc.Value{}, err)
			continue
		}
		switch e := v.Index(k); {
		case e.Kind() == xmlrpc.Struct:
			code, _ := e.Member("faultCode")
			msg, _ := e.Member("faultString")
			answer(i, xmlrpc.Value{}, &xmlrpc.Fault{Code: code.Int(), Message: msg.String()})
		case e.Kind() != xmlrpc.Array || e.Len() != 1:
			answer(i, xmlrpc.Value{}, fmt.Errorf("%w: system.multicall entry %d is a %s", errBadUpstreamValue, k+1, e.Kind()))
		default:
			answer(i, e.Index(0), nil)
		}
	}
}

// jsonUpstreamError maps an upstream failure to a JSON-RPC error, and
// raises *status when rTorrent itself failed rather than answered a fault.
func (h *Handler) jsonUpstreamError(r *http.Request, method string, err error, status *int) *jsonError {
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		return &jsonError{faultCode(fault.Code), fault.Message}
	}
	*status = h.upstreamFailed(r, method, err)
	return &jsonError{CodeServerError, "rtgate: " + err.Error()}
}

// faultCode maps an rTorrent fault code to a JSON-RPC error code as
// jesec's rTorrent reports the same failures: no such method is -32601,
// a bad target, type or command (rTorrent's input errors) -32602, anything
// else -32000.
func faultCode(code int64) int {
	switch code {
	case xmlrpc.FaultNoMethod:
		return CodeMethodNotFound
	case xmlrpc.FaultType, xmlrpc.FaultParse:
		return CodeInvalidParams
	}
	return CodeServerError
}

// appendJSONResponse appends one response object, keys sorted as jesec's
// rTorrent writes them.
func appendJSONResponse(dst []byte, id json.RawMessage, v *xmlrpc.Value, e *jsonError) []byte {
	if e != nil {
		dst = append(dst, `{"error":{"code":`...)
		dst = strconv.AppendInt(dst, int64(e.code), 10)
		dst = append(dst, `,"message":`...)
		dst = appendJSONString(dst, e.message)
		dst = append(dst, `},"id":`...)
		dst = append(dst, id...)
		return append(dst, `,"jsonrpc":"2.0"}`...)
	}
	dst = append(dst, `{"id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"jsonrpc":"2.0","result":`...)
	dst = appendJSON(dst, *v)
	return append(dst, '}')
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
