package gateway

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/xmlrpc"
)

// serveJSON answers a JSON-RPC body (package jsonrpc's dialect): each
// request checked against the policy, the rest sent upstream as one call
// or one system.multicall, the answers in one line with nothing after it.
func (h *Handler) serveJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	reqs, batch, top := jsonrpc.Parse(body)
	if top != nil {
		h.log.Debug("rtgate: malformed JSON-RPC request", "remote", r.RemoteAddr, "err", top.Message)
		writeJSON(w, http.StatusOK, jsonrpc.AppendError(nil, jsonrpc.NullID, top))
		return
	}
	for i := range reqs {
		q := &reqs[i]
		if q.Err != nil {
			continue
		}
		if err := h.policy.Check(q.Method, q.Params); err != nil {
			q.Err = jsonrpc.RefusalError(err, false)
		}
	}
	results, status := h.callJSON(r, reqs)
	if r.Context().Err() != nil {
		return
	}

	var out []byte
	if batch {
		out = append(out, '[')
	}
	n := 0
	for i, q := range reqs {
		if q.ID == nil {
			continue // a notification gets no answer
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		if res := results[i]; res.err != nil {
			out = jsonrpc.AppendError(out, q.ID, res.err)
		} else {
			out = jsonrpc.AppendResult(out, q.ID, res.value)
		}
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

// jsonResult is a request's answer: a value or an error.
type jsonResult struct {
	value xmlrpc.Value
	err   *jsonrpc.Error
}

// callJSON sends the requests that passed parsing and the policy upstream
// (jsonrpc.CallBatch). It returns their answers and the HTTP status: 200,
// or 502 or 504 when rTorrent failed.
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
