package ws

import (
	"encoding/json"
	"strconv"

	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent"
)

// This file is rtgate.allowed: which calls this connection may make, so
// that a user interface shows only the actions its caller can take and
// says why the others are refused. Each call is judged exactly as the
// call itself would be (the same parsing, version shims and policy, in
// admit), without being sent.

// allowedMethod is the name of the method.
const allowedMethod = "rtgate.allowed"

// maxAllowedCalls bounds the calls one rtgate.allowed asks about.
const maxAllowedCalls = 1000

// admit prepares a parsed rTorrent call for the backend and judges it by
// the connection's policy: it applies the version shims to r in place and
// returns the error to answer instead of sending it, or nil.
func (c *wsConn) admit(version string, r *jsonrpc.Request) *jsonrpc.Error {
	r.Method, r.Params, _ = rtorrent.Shim(version, r.Method, r.Params)
	if err := c.h.policy.Check(r.Method, r.Params); err != nil {
		return jsonrpc.RefusalError(err, true)
	}
	return nil
}

// answerAllowed answers rtgate.allowed. Its params name the calls, each a
// method name alone (a call without params) or a call shape as it would
// be sent; the result says, in their order, whether each would pass and,
// if not, the error the call would get:
//
//	{"calls":["d.start",{"method":"d.erase","params":["<HASH>"]}]}
//	{"calls":[{"allowed":true},{"allowed":false,"error":{"code":-507,"message":"…","data":{"method":"d.erase"}}}]}
func (c *wsConn) answerAllowed(id json.RawMessage, raw json.RawMessage, version string) {
	calls, e := parseAllowed(raw)
	if e != nil {
		if id != nil {
			c.answer(jsonrpc.AppendError(nil, id, e))
		}
		return
	}
	if id == nil {
		return
	}
	result := []byte(`{"calls":[`)
	for i, call := range calls {
		if i > 0 {
			result = append(result, ',')
		}
		var e *jsonrpc.Error
		if isOwnMethod(call.Method) {
			e = &jsonrpc.Error{Code: protocol.CodeInvalidRequest, Message: "invalid request: " + allowedMethod + " judges rTorrent calls, not " + call.Method}
		} else {
			r := jsonrpc.ParseRequest(call.request())
			if e = r.Err; e == nil {
				e = c.admit(version, &r)
			}
		}
		if e == nil {
			result = append(result, `{"allowed":true}`...)
			continue
		}
		result = append(result, `{"allowed":false,"error":`...)
		result = jsonrpc.AppendErrorObject(result, e)
		result = append(result, '}')
	}
	result = append(result, "]}"...)
	c.answer(jsonrpc.AppendRawResult(nil, id, result))
}

// allowedCall is one call rtgate.allowed asks about.
type allowedCall struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// request is the call as a JSON-RPC request, the form jsonrpc parses.
func (a allowedCall) request() json.RawMessage {
	params := a.Params
	if params == nil {
		params = json.RawMessage("[]")
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      int             `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}{"2.0", 0, a.Method, params})
	return b
}

func parseAllowed(raw json.RawMessage) ([]allowedCall, *jsonrpc.Error) {
	bad := func(msg string) *jsonrpc.Error {
		return &jsonrpc.Error{Code: protocol.CodeInvalidParams, Message: "invalid parameters: " + allowedMethod + " " + msg}
	}
	if len(raw) > 0 && raw[0] == '[' {
		// One object by position, as rtgate's other methods take it.
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
			raw = list[0]
		}
	}
	var p struct {
		Calls []json.RawMessage `json:"calls"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &p) != nil || p.Calls == nil {
		return nil, bad(`takes named params: {"calls":["d.start",{"method":"d.erase","params":["<HASH>"]}]}`)
	}
	if len(p.Calls) > maxAllowedCalls {
		return nil, bad("asks about at most " + strconv.Itoa(maxAllowedCalls) + " calls at once")
	}
	calls := make([]allowedCall, len(p.Calls))
	for i, item := range p.Calls {
		var name string
		if json.Unmarshal(item, &name) == nil {
			calls[i].Method = name
		} else if json.Unmarshal(item, &calls[i]) != nil {
			return nil, bad("call " + strconv.Itoa(i) + ": not a method name or a {\"method\":…,\"params\":[…]} object")
		}
		if calls[i].Method == "" {
			return nil, bad("call " + strconv.Itoa(i) + ": no method")
		}
	}
	return calls, nil
}
