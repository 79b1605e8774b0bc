package scgi

import (
	"net"
	"net/http"
	"strconv"
)

// responseWriter is the http.ResponseWriter a Server hands its Handler. It
// buffers the body up to a limit so that small responses carry a
// Content-Length; past the limit, or on Flush, it sends the header block
// without one and streams, and the end of the body is the connection's close.
// Like net/http's, it is not safe for concurrent use.
type responseWriter struct {
	conn  net.Conn
	limit int // body bytes buffered before streaming

	header      http.Header // the handler's, until WriteHeader
	sent        http.Header // snapshot taken by WriteHeader
	status      int
	wroteHeader bool  // status and headers decided
	streaming   bool  // header block is on the wire
	declared    int64 // Content-Length set by the handler, or -1
	written     int64 // body bytes accepted from the handler
	buf         []byte
	err         error // first write error; sticks
}

var _ http.Flusher = (*responseWriter)(nil)

func newResponseWriter(conn net.Conn, limit int) *responseWriter {
	return &responseWriter{conn: conn, limit: limit, header: make(http.Header), declared: -1}
}

func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status. As in net/http, codes outside 100..999
// panic, later calls are ignored, and header changes after it have no
// effect. Informational (1xx) codes are ignored: CGI has no interim answers.
func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("scgi: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.wroteHeader || code < 200 {
		return
	}
	w.wroteHeader = true
	w.status = code
	w.sent = w.header.Clone()
	if w.sent == nil {
		w.sent = make(http.Header)
	}
	if v := w.sent.Get("Content-Length"); v != "" {
		if n, ok := parseDecimal(v); ok && bodyAllowed(code) {
			w.declared = n
			w.sent.Set("Content-Length", v)
		} else {
			w.sent.Del("Content-Length")
		}
	}
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if len(w.buf)+len(p) <= w.limit {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if !w.streaming {
		w.startStreaming(p)
	} else {
		w.send(net.Buffers{w.buf, p})
	}
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// Flush sends the header block and any buffered body now; the response then
// streams, without Content-Length.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush returning the write error, for http.ResponseController.
func (w *responseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.streaming {
		w.startStreaming(nil)
	} else if len(w.buf) > 0 {
		w.send(net.Buffers{w.buf})
	}
	return w.err
}

// finish sends what the handler left: the whole response with its
// Content-Length if it never streamed, else the buffered tail.
func (w *responseWriter) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if w.streaming {
		if len(w.buf) > 0 {
			w.send(net.Buffers{w.buf})
		}
		return w.err
	}
	cl := int64(-1)
	if bodyAllowed(w.status) {
		cl = int64(len(w.buf))
	}
	w.send(net.Buffers{w.headerBlock(cl, w.buf, nil), w.buf})
	return w.err
}

// startStreaming sends the header block, the buffered body and p.
func (w *responseWriter) startStreaming(p []byte) {
	w.streaming = true
	w.send(net.Buffers{w.headerBlock(-1, w.buf, p), w.buf, p})
}

// send writes bufs and empties the body buffer, keeping its memory.
func (w *responseWriter) send(bufs net.Buffers) {
	_, w.err = bufs.WriteTo(w.conn)
	w.buf = w.buf[:0]
}

// headerBlock renders "Status: ...", the headers and the blank line. A
// Content-Length of contentLength is added unless the handler declared one or
// contentLength is negative. A missing Content-Type is sniffed from the first
// body bytes, a and b, as net/http does; set Header()["Content-Type"] = nil
// to send none.
func (w *responseWriter) headerBlock(contentLength int64, a, b []byte) []byte {
	h := w.sent
	if _, ok := h["Content-Type"]; !ok && w.written > 0 {
		h.Set("Content-Type", http.DetectContentType(sniffPrefix(a, b)))
	}
	if contentLength >= 0 && w.declared < 0 {
		h.Set("Content-Length", strconv.FormatInt(contentLength, 10))
	}
	out := make(appendWriter, 0, 256)
	out = append(out, "Status: "...)
	out = strconv.AppendInt(out, int64(w.status), 10)
	out = append(out, ' ')
	out = append(out, statusText(w.status)...)
	out = append(out, "\r\n"...)
	h.WriteSubset(&out, excludedHeaders) // drops invalid names, folds newlines in values
	return append(out, "\r\n"...)
}

// excludedHeaders are never sent from the handler's map: the Status line is
// the writer's own.
var excludedHeaders = map[string]bool{"Status": true}

func sniffPrefix(a, b []byte) []byte {
	const n = 512 // what http.DetectContentType considers
	if len(a) >= n || len(b) == 0 {
		return a[:min(len(a), n)]
	}
	out := make([]byte, 0, n)
	out = append(out, a...)
	return append(out, b[:min(len(b), n-len(a))]...)
}

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter []byte

func (w *appendWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}
