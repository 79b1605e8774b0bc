package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// HandlerOptions configures a Handler. The zero value (or nil) means the
// default policy, 16 MiB bodies and slog.Default().
type HandlerOptions struct {
	// Policy decides which calls pass. Nil means policy.Default().
	Policy *policy.Policy

	// MaxBodyBytes caps a request body; a larger one is answered 413
	// without being read. Zero means 16 MiB, rTorrent's own limit at HEAD
	// and the scgi package's default. (rTorrent 0.9.x closes the
	// connection on requests over 2 MiB; rtgate then answers 502 and says
	// so. Set 2 MiB to refuse them up front.)
	MaxBodyBytes int64

	// ErrorLog receives upstream failures (level Warn) and malformed
	// requests (Debug). Nil means slog.Default().
	ErrorLog *slog.Logger

	// XMLOnly answers JSON-RPC requests as rTorrent 0.9.8 does, with an
	// XML-RPC parse fault, so that clients that probe (Flood) fall back to
	// XML-RPC. The zero value serves both dialects.
	XMLOnly bool
}

// DefaultMaxBodyBytes is HandlerOptions.MaxBodyBytes's zero value.
const DefaultMaxBodyBytes = 16 << 20

// A Handler is the legacy front door: rTorrent's XML-RPC, and jesec's
// JSON-RPC dialect, in one http.Handler. Serve it over HTTP as POST /RPC2
// (what nginx's scgi_pass gives ruTorrent, what Python's xmlrpc.client
// sends) and over SCGI with scgi.Server (what Flood and rtxmlrpc speak):
// the same handler answers both, and does not look at the path.
//
// Each request is read whole (up to MaxBodyBytes), decoded, checked
// against the Policy and sent upstream through the Coalescer; nothing
// malformed or refused reaches rTorrent. A request whose Content-Type
// contains "application/json" is JSON-RPC; any other is XML-RPC, as
// rTorrent itself does not look.
//
// A Handler is safe for concurrent use.
type Handler struct {
	up      *Coalescer
	policy  *policy.Policy
	maxBody int64
	log     *slog.Logger
	xmlOnly bool
}

// NewHandler returns a Handler sending calls through up. A nil opts means
// the defaults.
func NewHandler(up *Coalescer, opts *HandlerOptions) *Handler {
	h := &Handler{up: up, policy: policy.Default(), maxBody: DefaultMaxBodyBytes, log: slog.Default()}
	if opts != nil {
		if opts.Policy != nil {
			h.policy = opts.Policy
		}
		if opts.MaxBodyBytes > 0 {
			h.maxBody = opts.MaxBodyBytes
		}
		if opts.ErrorLog != nil {
			h.log = opts.ErrorLog
		}
		h.xmlOnly = opts.XMLOnly
	}
	return h
}

// ServeHTTP answers one XML-RPC or JSON-RPC request; see Handler and the
// status table in errors.go.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plainError(w, http.StatusMethodNotAllowed, fmt.Sprintf("rtgate: method %s not allowed: send an XML-RPC or JSON-RPC call with POST", r.Method))
		return
	}
	body, status, err := h.readBody(r)
	if err != nil {
		h.log.Debug("rtgate: unreadable request", "remote", r.RemoteAddr, "status", status, "err", err)
		plainError(w, status, err.Error())
		return
	}
	if !h.xmlOnly && strings.Contains(r.Header.Get("Content-Type"), "application/json") {
		h.serveJSON(w, r, body)
		return
	}
	h.serveXML(w, r, body)
}

// readBody reads the whole body, or says which status refuses it.
func (h *Handler) readBody(r *http.Request) ([]byte, int, error) {
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge,
			fmt.Errorf("rtgate: request body of %d bytes exceeds the limit of %d", r.ContentLength, h.maxBody)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// Trust the claimed length only so far: a client could announce
		// 16 MiB and send nothing.
		buf.Grow(int(min(r.ContentLength, 64<<10)))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxBody+1))
	switch {
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("rtgate: reading request body: %w (after %d bytes)", err, n)
	case n > h.maxBody:
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("rtgate: request body exceeds the limit of %d bytes", h.maxBody)
	case r.ContentLength >= 0 && n < r.ContentLength:
		return nil, http.StatusBadRequest, fmt.Errorf("rtgate: request body cut short: %d of %d bytes", n, r.ContentLength)
	}
	return buf.Bytes(), 0, nil
}

func (h *Handler) serveXML(w http.ResponseWriter, r *http.Request, body []byte) {
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(body))
	if err == nil && method == "" {
		err = errors.New("empty methodName")
	}
	if err != nil {
		// rTorrent answers a parse fault with status 200 too.
		h.log.Debug("rtgate: malformed XML-RPC request", "remote", r.RemoteAddr, "err", err)
		writeFault(w, http.StatusOK, &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "rtgate: malformed request: " + err.Error()})
		return
	}
	version := h.up.version()
	if m, p, changed := rtorrent.Shim(version, method, params); changed {
		// The call the backend means: renamed, so re-encoded.
		b, err := (xmlrpc.Encoder{}).AppendCall(nil, m, p)
		if err != nil {
			writeFault(w, http.StatusOK, &xmlrpc.Fault{Code: xmlrpc.FaultParse, Message: "rtgate: " + err.Error()})
			return
		}
		method, params, body = m, p, b
	}
	if err := h.policy.Check(method, params); err != nil {
		writeFault(w, http.StatusOK, err.(*policy.Refusal).Fault())
		return
	}
	reply, err := h.up.forward(r.Context(), method, params, body)
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		writeFault(w, http.StatusOK, fault) // answered without rTorrent
		return
	}
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left
		}
		status := h.upstreamFailed(r, method, err)
		writeFault(w, status, &xmlrpc.Fault{Code: xmlrpc.FaultInternal, Message: "rtgate: " + err.Error()})
		return
	}
	h.copyReply(w, r, reply, "text/xml")
}

// copyReply streams an upstream reply to the client and closes it; ct is
// its content type when upstream named none.
func (h *Handler) copyReply(w http.ResponseWriter, r *http.Request, reply *rawReply, ct string) {
	defer reply.body.Close()
	if reply.contentType != "" {
		ct = reply.contentType
	}
	w.Header().Set("Content-Type", ct)
	if reply.contentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(reply.contentLength, 10))
	}
	if _, err := io.Copy(w, reply.body); err != nil {
		// Half a reply must not look like a whole one: drop the connection.
		if r.Context().Err() == nil {
			h.log.Warn("rtgate: reply cut off", "remote", r.RemoteAddr, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// upstreamFailed logs a failed upstream call and returns the status that
// tells the client: 504 if rTorrent did not answer in time, else 502.
func (h *Handler) upstreamFailed(r *http.Request, method string, err error) int {
	h.log.Warn("rtgate: upstream call failed", "remote", r.RemoteAddr, "method", method, "err", err)
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

func writeFault(w http.ResponseWriter, status int, f *xmlrpc.Fault) {
	body := xmlrpc.AppendFault(nil, f)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func plainError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}
