package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/xmlrpc"
)

// This file is the call side of the WebSocket door: JSON-RPC 2.0 in
// rTorrent's dialect, parsed and translated as the JSON-RPC door does
// (parseJSONCall, translateLoad, jsonToValues), checked against the
// Policy, sent through the Coalescer (a batch as one system.multicall) and
// answered with the JSON-RPC door's error codes, plus a "data" member.

// wsError is a JSON-RPC error object with its optional data (raw JSON).
type wsError struct {
	code    int
	message string
	data    []byte
}

// wsHead is a request for one of rtgate's own methods.
type wsHead struct {
	id     json.RawMessage
	method string
	params json.RawMessage
}

// wsCall is one request of a frame and, once known, its answer.
type wsCall struct {
	jsonCall
	werr  *wsError
	value *xmlrpc.Value
}

// handleFrame answers one text frame: a request or a batch. It does not
// block: rTorrent calls are queued for the connection's caller goroutine,
// answers and rtgate's own methods for its writer.
func (c *wsConn) handleFrame(frame []byte) {
	frame = bytes.TrimSpace(frame)
	if !json.Valid(frame) {
		c.answer(appendWSError(nil, nullID, &wsError{code: CodeParseError, message: "parse error: the frame is not valid JSON"}))
		return
	}
	batch := frame[0] == '['
	var elems []json.RawMessage
	if batch {
		if err := json.Unmarshal(frame, &elems); err != nil {
			c.answer(appendWSError(nil, nullID, &wsError{code: CodeParseError, message: "parse error: " + err.Error()}))
			return
		}
		if len(elems) == 0 {
			c.answer(appendWSError(nil, nullID, &wsError{code: CodeInvalidRequest, message: "invalid request: empty batch"}))
			return
		}
	} else {
		elems = []json.RawMessage{frame}
	}

	if c.lim != nil && !c.lim.AllowN(time.Now(), min(len(elems), c.h.callBurst)) {
		e := &wsError{code: CodeLimited, message: fmt.Sprintf("rtgate: over the connection's call rate (%g per second, bursts of %d)", float64(c.h.callRate), c.h.callBurst)}
		c.answer(appendLimited(elems, batch, e))
		return
	}

	calls := make([]wsCall, len(elems))
	send := 0
	for i, raw := range elems {
		w := wsCall{jsonCall: parseJSONCall(raw)}
		switch {
		case isOwnMethod(w.method) && (w.err == nil || w.err.code == CodeInvalidParams):
			switch {
			case c.compat:
				w.werr = &wsError{code: CodeMethodNotFound, message: "method not found: " + w.method}
			case batch:
				w.werr = &wsError{code: CodeInvalidRequest, message: "invalid request: " + w.method + " cannot be part of a batch"}
			default:
				var p struct {
					Params json.RawMessage `json:"params"`
				}
				json.Unmarshal(raw, &p)
				op, e := parseOp(wsHead{id: w.id, method: w.method, params: p.Params})
				if e != nil {
					if w.id != nil {
						c.answer(appendWSError(nil, w.id, e))
					}
					return
				}
				c.enqueue(wsOut{op: op})
				return
			}
		case w.err != nil:
			w.werr = &wsError{code: w.err.code, message: w.err.message}
		default:
			if err := c.h.policy.Check(w.method, w.params); err != nil {
				w.werr = refusalError(err)
			} else {
				send++
			}
		}
		calls[i] = w
	}
	if send == 0 {
		c.answer(appendAnswers(nil, calls, batch))
		return
	}

	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if c.inflight >= c.h.maxInflight {
		c.mu.Unlock()
		e := &wsError{code: CodeLimited, message: "rtgate: over the connection's limit of " + strconv.Itoa(c.h.maxInflight) + " calls in flight"}
		c.answer(appendLimited(elems, batch, e))
		return
	}
	c.inflight++
	c.callq = append(c.callq, wsFrame{calls, batch})
	if !c.calling {
		c.calling = true
		c.calls.Add(1)
		go c.callLoop()
	}
	c.mu.Unlock()
}

// wsFrame is a frame of calls waiting for the connection's caller.
type wsFrame struct {
	calls []wsCall
	batch bool
}

// callLoop runs the connection's frames of calls one after the other, in
// the order they came, while there are any: a client's requests take
// effect in the order it sent them (as they do with rTorrent itself), and
// their answers come in that order too.
func (c *wsConn) callLoop() {
	defer c.calls.Done()
	for {
		c.mu.Lock()
		if len(c.callq) == 0 || c.closing {
			c.calling = false
			c.callq = nil
			c.mu.Unlock()
			return
		}
		f := c.callq[0]
		c.callq[0] = wsFrame{}
		c.callq = c.callq[1:]
		c.mu.Unlock()
		c.runCalls(f.calls, f.batch)
	}
}

// answer queues a frame answered without rTorrent; nil is no answer (only
// notifications).
func (c *wsConn) answer(frame []byte) {
	if frame != nil {
		c.enqueue(wsOut{frame: frame})
	}
}

// runCalls sends a frame's calls that passed parsing and the policy
// upstream, one alone as itself, several as one system.multicall, and
// queues the answer. The frame holds one of the connection's MaxInflight
// slots until its answer is written.
func (c *wsConn) runCalls(calls []wsCall, batch bool) {
	release := func() {
		c.mu.Lock()
		c.inflight--
		c.mu.Unlock()
	}
	var send []int
	for i := range calls {
		if calls[i].werr == nil {
			send = append(send, i)
		}
	}
	answer := func(i int, v xmlrpc.Value, err error) {
		if err != nil {
			calls[i].werr = c.upstreamError(calls[i].method, err)
			return
		}
		if calls[i].result != nil {
			v = *calls[i].result
		}
		calls[i].value = &v
	}
	ctx := c.ctx
	callBatch(ctx, c.h.up, send, func(i int) (string, []xmlrpc.Value) { return calls[i].method, calls[i].params }, answer)
	if ctx.Err() != nil {
		release() // closing: nobody reads the answer
		return
	}
	frame := appendAnswers(nil, calls, batch)
	if frame == nil {
		release()
		return
	}
	c.enqueue(wsOut{frame: frame, done: release})
}

// upstreamError maps a failed call to its JSON-RPC error: an rTorrent fault
// as the JSON-RPC door maps it, with the fault in data; anything else
// (rTorrent unreachable, no answer in time) -32000 without data.
func (c *wsConn) upstreamError(method string, err error) *wsError {
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		data := append([]byte(`{"faultCode":`), strconv.FormatInt(fault.Code, 10)...)
		data = append(data, `,"faultString":`...)
		data = appendJSONString(data, fault.Message)
		data = append(data, '}')
		return &wsError{code: faultCode(fault.Code), message: fault.Message, data: data}
	}
	if c.ctx.Err() == nil {
		c.h.log.Warn("rtgate: upstream call failed", "method", method, "remote", c.remote, "err", err)
	}
	return &wsError{code: CodeServerError, message: "rtgate: " + err.Error()}
}

// refusalError is the answer to a call the policy refuses: -507, as the
// JSON-RPC and XML-RPC doors answer it, naming the command in data.
func refusalError(err error) *wsError {
	var r *policy.Refusal
	if !errors.As(err, &r) {
		return &wsError{code: xmlrpc.FaultRefused, message: err.Error()}
	}
	data := append([]byte(`{"method":`), appendJSONString(nil, r.Method)...)
	if r.Where != "" {
		data = append(data, `,"where":`...)
		data = appendJSONString(data, r.Where)
	}
	data = append(data, '}')
	return &wsError{code: xmlrpc.FaultRefused, message: r.Error(), data: data}
}

// appendAnswers appends the answers to a frame's requests, in their order,
// notifications left out; it returns dst unchanged (nil for nil) if there
// are none.
func appendAnswers(dst []byte, calls []wsCall, batch bool) []byte {
	start := len(dst)
	if batch {
		dst = append(dst, '[')
	}
	n := 0
	for _, c := range calls {
		if c.id == nil {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		if c.werr != nil {
			dst = appendWSError(dst, c.id, c.werr)
			continue
		}
		dst = append(dst, `{"id":`...)
		dst = append(dst, c.id...)
		dst = append(dst, `,"jsonrpc":"2.0","result":`...)
		dst = appendJSON(dst, *c.value)
		dst = append(dst, '}')
	}
	if n == 0 {
		if start == 0 {
			return nil
		}
		return dst[:start]
	}
	if batch {
		dst = append(dst, ']')
	}
	return dst
}

// appendLimited answers every request of a frame with e, without parsing
// more of them than their ids.
func appendLimited(elems []json.RawMessage, batch bool, e *wsError) []byte {
	calls := make([]wsCall, len(elems))
	for i, raw := range elems {
		var head struct {
			ID json.RawMessage `json:"id"`
		}
		calls[i].werr = e
		if json.Unmarshal(raw, &head) != nil {
			calls[i].id = nullID
			continue
		}
		if head.ID != nil {
			var buf bytes.Buffer
			json.Compact(&buf, head.ID)
			calls[i].id = buf.Bytes()
		}
	}
	return appendAnswers(nil, calls, batch)
}

// appendWSError appends an error response, keys sorted as jesec's rTorrent
// writes them.
func appendWSError(dst []byte, id json.RawMessage, e *wsError) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.code), 10)
	if e.data != nil {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.data...)
	}
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, e.message)
	dst = append(dst, `},"id":`...)
	dst = append(dst, id...)
	return append(dst, `,"jsonrpc":"2.0"}`...)
}

// appendWSResult appends a response whose result is raw JSON.
func appendWSResult(dst []byte, id json.RawMessage, result []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"jsonrpc":"2.0","result":`...)
	dst = append(dst, result...)
	return append(dst, '}')
}
