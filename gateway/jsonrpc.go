package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// serveJSON answers a JSON-RPC body (package jsonrpc's dialect): each
// request shimmed for the backend's version and checked against the
// policy, then sent upstream as JSON to an rTorrent that speaks it, or
// translated into one call or one system.multicall for one that does not.
func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	reqs, batch, top := jsonrpc.Parse(body)
	if top != nil {
		h.log.Debug("rtgate: malformed JSON-RPC request", "remote", r.RemoteAddr, "err", top.Message)
		writeJSON(w, http.StatusOK, jsonrpc.AppendError(nil, jsonrpc.NullID, top))
		return
	}
	version := h.up.version()
	for i := range reqs {
		q := &reqs[i]
		if q.Err != nil {
			continue
		}
		q.Method, q.Params, _ = rtorrent.Shim(version, q.Method, q.Params)
		if err := h.policy.Check(q.Method, q.Params); err != nil {
			q.Err = jsonrpc.RefusalError(err, false)
		}
	}
	if rtorrent.SpeaksJSON(version) && h.up.opts.Raw != nil && !needsXML(reqs) {
		h.serveNativeJSON(w, r, body, reqs, batch)
		return
	}
	results, status := h.callJSON(r, reqs)
	if r.Context().Err() != nil {
		return
	}
	out := appendJSONAnswers(nil, reqs, batch, func(i int) []byte {
		if res := results[i]; res.err != nil {
			return jsonrpc.AppendError(nil, reqs[i].ID, res.err)
		}
		return jsonrpc.AppendResult(nil, reqs[i].ID, results[i].value)
	})
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, status, out)
}

// appendJSONAnswers appends the answers of the requests that have an id,
// in order, as one object or (batch) an array; nil when none has an id.
func appendJSONAnswers(dst []byte, reqs []jsonrpc.Request, batch bool, answer func(i int) []byte) []byte {
	n := 0
	for i, q := range reqs {
		if q.ID == nil {
			continue // a notification gets no answer
		}
		switch {
		case n == 0 && batch:
			dst = append(dst, '[')
		case n > 0:
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, answer(i)...)
	}
	if n == 0 {
		return nil
	}
	if batch {
		dst = append(dst, ']')
	}
	return dst
}

// jsonResult is a request's answer: a value or an error.
type jsonResult struct {
	value xmlrpc.Value
	err   *jsonrpc.Error
}

// callJSON sends the requests that passed parsing and the policy upstream
// as XML-RPC (jsonrpc.CallBatch). It returns their answers and the HTTP
// status: 200, or 502 or 504 when rTorrent failed.
func (h *Handler) callJSON(r *http.Request, reqs []jsonrpc.Request) ([]jsonResult, int) {
	results := make([]jsonResult, len(reqs))
	var send []int
	for i, q := range reqs {
		if q.Err != nil {
			results[i].err = q.Err
		} else {
			send = append(send, i)
		}
	}
	status := http.StatusOK
	answer := func(i int, v xmlrpc.Value, err error) {
		if err != nil {
			results[i].err = h.jsonUpstreamError(r, reqs[i].Method, err, &status)
			return
		}
		if reqs[i].Result != nil {
			v = *reqs[i].Result
		}
		results[i].value = v
	}
	jsonrpc.CallBatch(r.Context(), h.up, send, func(i int) (string, []xmlrpc.Value) { return reqs[i].Method, reqs[i].Params }, answer)
	return results, status
}

// jsonUpstreamError maps an upstream failure to a JSON-RPC error, and
// raises *status when rTorrent itself failed rather than answered a fault.
func (h *Handler) jsonUpstreamError(r *http.Request, method string, err error, status *int) *jsonrpc.Error {
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		return jsonrpc.FaultError(fault, false)
	}
	*status = h.upstreamFailed(r, method, err)
	return &jsonrpc.Error{Code: protocol.CodeServerError, Message: "rtgate: " + err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// xmlOnlyMethods are xmlrpc-c's built-in methods, which rTorrent 0.16.17
// answers over XML-RPC only (over JSON-RPC they are -32601).
var xmlOnlyMethods = map[string]bool{
	"system.multicall": true, "system.listMethods": true, "system.methodExist": true,
	"system.methodHelp": true, "system.methodSignature": true, "system.getCapabilities": true,
	"system.capabilities": true, "system.shutdown": true,
}

// needsXML reports whether a body calls a method only XML-RPC answers:
// then the whole body is translated, as for rTorrent 0.9.8, so that a
// client gets the answer it asked for on every version.
func needsXML(reqs []jsonrpc.Request) bool {
	for _, q := range reqs {
		if q.Err == nil && xmlOnlyMethods[q.Method] {
			return true
		}
	}
	return false
}

// jesecLoads are jesec's rTorrent's load commands, which take a data URI
// and answer the torrent's info hash; rTorrent 0.16 has the commands
// without _throw, which take data URIs too.
var jesecLoads = map[string]string{"load.throw": "load.normal", "load.start_throw": "load.start"}

// serveNativeJSON answers a JSON-RPC body for an rTorrent that speaks
// JSON-RPC itself. rtgate answers what it can alone (refusals, malformed
// requests, reads the Fresh hook holds); the rest goes upstream as the
// client wrote it, byte for byte when that is every request (the reply
// then comes back unread), else as a body of those alone, renamed where a
// shim or jesec's load commands ask, whose answers are merged in order
// with rtgate's.
func (h *Handler) serveNativeJSON(w http.ResponseWriter, r *http.Request, body []byte, reqs []jsonrpc.Request, batch bool) {
	answers := map[int][]byte{} // by index in reqs
	var up [][]byte             // the requests to send, as JSON
	var sent []int              // their indexes in reqs
	verbatim, readOnly := true, true
	var calls []call
	for i, q := range reqs {
		if q.Err != nil {
			verbatim = false
			if q.ID != nil {
				answers[i] = jsonrpc.AppendError(nil, q.ID, q.Err)
			}
			continue
		}
		ro := policy.ReadOnly(q.Method, q.Params)
		if ro {
			if v, ver, ok := h.up.fresh(q.Method, q.Params); ok {
				h.up.counts[classOf(q.Method)].fresh.Add(1)
				verbatim = false
				if q.ID != nil {
					key, _ := flightKey('j', q.Method, q.Params)
					answers[i] = jsonrpc.AppendRawResult(nil, q.ID, h.up.freshJSON(key, v, ver))
				}
				continue
			}
		}
		readOnly = readOnly && ro
		calls = append(calls, call{q.Method, q.Params})
		// The method as sent, renamed by a shim, or jesec's load made
		// rTorrent's; not the load translation made for XML-RPC.
		method := q.Method
		if to, ok := jesecLoads[q.Sent]; ok {
			method = to
		} else if strings.HasPrefix(q.Sent, "load.") {
			method = q.Sent
		}
		obj := []byte(q.Raw)
		if method != q.Sent {
			verbatim = false
			obj = rewriteMethod(q, method)
		}
		up = append(up, obj)
		sent = append(sent, i)
	}
	status := http.StatusOK
	if len(sent) > 0 {
		upBody := body
		array := batch || len(up) > 1
		if !verbatim {
			upBody = joinRequests(up, array)
		}
		key := ""
		if readOnly {
			key = "J" + string(upBody)
		}
		reply, err := h.up.forwardBytes(r.Context(), "application/json", upBody, readOnly, key, calls)
		if err == nil && verbatim && !hasResult(reqs) {
			h.copyReply(w, r, reply, "application/json")
			return
		}
		var raw []byte
		if err == nil {
			raw, err = io.ReadAll(reply.body)
			reply.body.Close()
		}
		if err == nil {
			err = splitAnswers(raw, reqs, sent, array, answers)
		}
		var fault *xmlrpc.Fault
		if errors.As(err, &fault) {
			// Answered without rTorrent (BeforeWrite).
			for _, i := range sent {
				if reqs[i].ID != nil {
					answers[i] = jsonrpc.AppendError(nil, reqs[i].ID, jsonrpc.FaultError(fault, false))
				}
			}
		} else if err != nil {
			if r.Context().Err() != nil {
				return
			}
			status = h.upstreamFailed(r, "JSON-RPC", err)
			e := &jsonrpc.Error{Code: protocol.CodeServerError, Message: "rtgate: " + err.Error()}
			for _, i := range sent {
				if reqs[i].ID != nil {
					answers[i] = jsonrpc.AppendError(nil, reqs[i].ID, e)
				}
			}
		}
	}
	// With nothing to answer, an empty 200, as rTorrent 0.16 writes it.
	out := appendJSONAnswers(nil, reqs, batch, func(i int) []byte { return answers[i] })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
}

// hasResult reports whether a request's answer is rtgate's to replace (a
// jesec load answering the info hash).
func hasResult(reqs []jsonrpc.Request) bool {
	for _, q := range reqs {
		if q.Err == nil && q.Result != nil {
			return true
		}
	}
	return false
}

// rewriteMethod returns q's request object with another method, params and
// id as the client sent them.
func rewriteMethod(q jsonrpc.Request, method string) []byte {
	b := []byte(`{"jsonrpc":"2.0"`)
	if q.ID != nil {
		b = append(b, `,"id":`...)
		b = append(b, q.ID...)
	}
	b = append(b, `,"method":`...)
	m, _ := json.Marshal(method)
	b = append(b, m...)
	if q.RawParams != nil {
		b = append(b, `,"params":`...)
		b = append(b, q.RawParams...)
	}
	return append(b, '}')
}

// joinRequests makes a body of request objects: one alone, or an array.
func joinRequests(objs [][]byte, array bool) []byte {
	if !array {
		return objs[0]
	}
	b := []byte{'['}
	for i, o := range objs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, o...)
	}
	return append(b, ']')
}

// splitAnswers reads rTorrent's reply to the requests sent and returns
// each one's answer by its index in reqs: rTorrent answers a batch in
// order, leaving notifications out. A jesec load's answer becomes the
// info hash its Result holds, unless rTorrent answered an error.
func splitAnswers(raw []byte, reqs []jsonrpc.Request, sent []int, array bool, out map[int][]byte) error {
	var withID []int
	for _, i := range sent {
		if reqs[i].ID != nil {
			withID = append(withID, i)
		}
	}
	var objs []json.RawMessage
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
	case array:
		if err := json.Unmarshal(raw, &objs); err != nil {
			return fmt.Errorf("%w: rTorrent's JSON-RPC reply: %v", errBadUpstreamValue, err)
		}
	default:
		objs = []json.RawMessage{raw}
	}
	if len(objs) != len(withID) {
		return fmt.Errorf("%w: rTorrent answered %d of %d JSON-RPC requests", errBadUpstreamValue, len(objs), len(withID))
	}
	for k, i := range withID {
		a := []byte(objs[k])
		if res := reqs[i].Result; res != nil {
			var head struct {
				Error json.RawMessage `json:"error"`
			}
			if json.Unmarshal(a, &head) == nil && head.Error == nil {
				a = jsonrpc.AppendResult(nil, reqs[i].ID, *res)
			}
		}
		out[i] = a
	}
	return nil
}
