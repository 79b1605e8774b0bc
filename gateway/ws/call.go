package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/xmlrpc"
)

// This file is the call side of the WebSocket door: JSON-RPC 2.0 in
// rTorrent's dialect, parsed and translated by package jsonrpc as the
// JSON-RPC door does, checked against the Policy, sent upstream (a batch
// as one system.multicall) and answered with the protocol's error codes,
// plus a "data" member.

// wsHead is a request for one of rtgate's own methods.
type wsHead struct {
	id     json.RawMessage
	method string
	params json.RawMessage
}

// wsCall is one request of a frame and, once known, its answer.
type wsCall struct {
	jsonrpc.Request
	werr  *jsonrpc.Error
	value *xmlrpc.Value
}

// handleFrame answers one text frame: a request or a batch. It does not
// block: rTorrent calls are queued for the connection's caller goroutine,
// answers and rtgate's own methods for its writer.
func (c *wsConn) handleFrame(frame []byte) {
	frame = bytes.TrimSpace(frame)
	if !json.Valid(frame) {
		c.answer(jsonrpc.AppendError(nil, jsonrpc.NullID, &jsonrpc.Error{Code: protocol.CodeParseError, Message: "parse error: the frame is not valid JSON"}))
		return
	}
	batch := frame[0] == '['
	var elems []json.RawMessage
	if batch {
		if err := json.Unmarshal(frame, &elems); err != nil {
			c.answer(jsonrpc.AppendError(nil, jsonrpc.NullID, &jsonrpc.Error{Code: protocol.CodeParseError, Message: "parse error: " + err.Error()}))
			return
		}
		if len(elems) == 0 {
			c.answer(jsonrpc.AppendError(nil, jsonrpc.NullID, &jsonrpc.Error{Code: protocol.CodeInvalidRequest, Message: "invalid request: empty batch"}))
			return
		}
	} else {
		elems = []json.RawMessage{frame}
	}

	if c.lim != nil && !c.lim.AllowN(time.Now(), min(len(elems), c.h.callBurst)) {
		e := &jsonrpc.Error{Code: protocol.CodeLimited, Message: fmt.Sprintf("rtgate: over the connection's call rate (%g per second, bursts of %d)", float64(c.h.callRate), c.h.callBurst)}
		c.answer(appendLimited(elems, batch, e))
		return
	}

	calls := make([]wsCall, len(elems))
	send := 0
	version := c.h.version()
	for i, raw := range elems {
		w := wsCall{Request: jsonrpc.ParseRequest(raw)}
		switch {
		case isOwnMethod(w.Method) && (w.Err == nil || w.Err.Code == protocol.CodeInvalidParams):
			switch {
			case c.compat:
				w.werr = &jsonrpc.Error{Code: protocol.CodeMethodNotFound, Message: "method not found: " + w.Method}
			case batch:
				w.werr = &jsonrpc.Error{Code: protocol.CodeInvalidRequest, Message: "invalid request: " + w.Method + " cannot be part of a batch"}
			case w.Method == allowedMethod:
				c.answerAllowed(w.ID, w.RawParams, version)
				return
			default:
				op, e := parseOp(wsHead{id: w.ID, method: w.Method, params: w.RawParams})
				if e != nil {
					if w.ID != nil {
						c.answer(jsonrpc.AppendError(nil, w.ID, e))
					}
					return
				}
				c.enqueue(wsOut{op: op})
				return
			}
		case w.Err != nil:
			w.werr = w.Err
		default:
			if w.werr = c.admit(version, &w.Request); w.werr == nil {
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
		e := &jsonrpc.Error{Code: protocol.CodeLimited, Message: "rtgate: over the connection's limit of " + strconv.Itoa(c.h.maxInflight) + " calls in flight"}
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
			calls[i].werr = c.upstreamError(calls[i].Method, err)
			return
		}
		if calls[i].Result != nil {
			v = *calls[i].Result
		}
		calls[i].value = &v
	}
	ctx := c.ctx
	func() {
		// The connection's caller goroutine is the door's own: a panic
		// upstream answers this frame's calls and leaves the rest be.
		defer func() {
			if p := recover(); p != nil {
				c.h.log.Error("rtgate: websocket call panicked", "remote", c.remote, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				for _, i := range send {
					if calls[i].value == nil && calls[i].werr == nil {
						calls[i].werr = &jsonrpc.Error{Code: protocol.CodeServerError, Message: fmt.Sprintf("rtgate: internal error answering %s", calls[i].Method)}
					}
				}
			}
		}()
		jsonrpc.CallBatch(ctx, c.h.up, send, func(i int) (string, []xmlrpc.Value) { return calls[i].Method, calls[i].Params }, answer)
	}()
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
func (c *wsConn) upstreamError(method string, err error) *jsonrpc.Error {
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		return jsonrpc.FaultError(fault, true)
	}
	if c.ctx.Err() == nil {
		c.h.log.Warn("rtgate: upstream call failed", "method", method, "remote", c.remote, "err", err)
	}
	return &jsonrpc.Error{Code: protocol.CodeServerError, Message: "rtgate: " + err.Error()}
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
		if c.ID == nil {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		if c.werr != nil {
			dst = jsonrpc.AppendError(dst, c.ID, c.werr)
			continue
		}
		dst = jsonrpc.AppendResult(dst, c.ID, *c.value)
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
func appendLimited(elems []json.RawMessage, batch bool, e *jsonrpc.Error) []byte {
	calls := make([]wsCall, len(elems))
	for i, raw := range elems {
		var head struct {
			ID json.RawMessage `json:"id"`
		}
		calls[i].werr = e
		if json.Unmarshal(raw, &head) != nil {
			calls[i].ID = jsonrpc.NullID
			continue
		}
		if head.ID != nil {
			var buf bytes.Buffer
			json.Compact(&buf, head.ID)
			calls[i].ID = buf.Bytes()
		}
	}
	return appendAnswers(nil, calls, batch)
}
