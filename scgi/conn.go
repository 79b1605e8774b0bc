package scgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

// Connection states, for Shutdown to tell silent connections from requests
// in flight.
const (
	stateNew    int32 = iota // accepted, no byte received yet
	stateActive              // a request is being read or served
	stateClosed              // closed by Shutdown before its first byte
)

const (
	// lingerTimeout and maxDrainBytes bound how long, and how much, a
	// rejected request is read and discarded after its answer, so that
	// closing does not reset the connection and destroy the answer in flight.
	lingerTimeout = 500 * time.Millisecond
	maxDrainBytes = 256 << 10
)

// conn serves one connection's request; its serve method is the
// connection's goroutine.
type conn struct {
	srv   *Server
	nc    net.Conn
	state atomic.Int32
}

func (c *conn) serve() {
	s := c.srv
	defer s.wg.Done()
	defer s.removeConn(c)
	defer c.nc.Close()

	if d := s.readTimeout(); d > 0 {
		c.nc.SetReadDeadline(time.Now().Add(d))
	}
	br := bufio.NewReaderSize(c.nc, 4096)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.replyError(err)
		}
		return
	}
	if !c.state.CompareAndSwap(stateNew, stateActive) {
		return // Shutdown closed it
	}
	headers, contentLength, err := ReadRequest(br, s.Limits)
	if err != nil {
		c.replyError(err)
		return
	}
	ctx, cancel := context.WithCancel(s.baseCtx)
	defer cancel()
	body := newBody(br, contentLength)
	req, err := c.newRequest(ctx, headers, contentLength, body)
	if err != nil {
		c.replyError(err)
		return
	}
	if s.WriteTimeout > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	}
	w := newResponseWriter(c.nc, s.bufferBytes())
	if !c.runHandler(w, req) {
		return
	}
	if err := w.finish(); err != nil {
		s.logger().Debug("scgi: write response", "remote", req.RemoteAddr, "err", err)
		return
	}
	// Read what the handler left of a small body: closing a TCP socket with
	// unread data resets it, which may destroy the response in flight.
	if body.n > 0 && body.n <= maxDrainBytes {
		io.CopyN(io.Discard, br, body.n)
	}
}

// newRequest builds the handler's request from the SCGI headers, with the
// defaults Flood and rtxmlrpc rely on (they send only CONTENT_LENGTH, SCGI
// and CONTENT_TYPE): REQUEST_METHOD=POST, SERVER_PROTOCOL=HTTP/1.0,
// REQUEST_URI=/RPC2.
func (c *conn) newRequest(ctx context.Context, headers []Header, contentLength int64, body *body) (*http.Request, error) {
	params := make(map[string]string, len(headers)+3)
	for _, h := range headers {
		params[h.Name] = h.Value
	}
	if params["REQUEST_METHOD"] == "" {
		params["REQUEST_METHOD"] = "POST"
	}
	if params["SERVER_PROTOCOL"] == "" {
		params["SERVER_PROTOCOL"] = "HTTP/1.0"
	}
	if params["REQUEST_URI"] == "" && params["SCRIPT_NAME"] == "" && params["PATH_INFO"] == "" {
		params["REQUEST_URI"] = "/RPC2"
	}
	// The connection is what it is: a client's word on TLS does not count.
	delete(params, "HTTPS")
	r, err := cgi.RequestFromMap(params)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	r.RequestURI = params["REQUEST_URI"]
	if r.RequestURI == "" {
		r.RequestURI = r.URL.RequestURI()
	}
	r.RemoteAddr = remoteAddr(c.nc) // never the client's REMOTE_ADDR
	r.ContentLength = contentLength
	r.Body = http.NoBody
	if contentLength > 0 {
		r.Body = body
	}
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.nc.LocalAddr())
	return r.WithContext(ctx), nil
}

// remoteAddr is the Request.RemoteAddr of a connection: the peer's host:port
// for TCP; for a unix socket, whose peer has no address, "unix:" and the
// server's socket path.
func remoteAddr(nc net.Conn) string {
	ra := nc.RemoteAddr()
	if ra == nil {
		return ""
	}
	switch ra.Network() {
	case "unix", "unixpacket":
		if la := nc.LocalAddr(); la != nil {
			return "unix:" + la.String()
		}
		return "unix:"
	}
	return ra.String()
}

// runHandler calls the handler and reports whether it returned normally. A
// panic is logged and answered 500 if nothing was sent yet; a panic with
// http.ErrAbortHandler just drops the connection.
func (c *conn) runHandler(w *responseWriter, r *http.Request) (ok bool) {
	defer func() {
		v := recover()
		if v == nil || v == http.ErrAbortHandler {
			return
		}
		stack := make([]byte, 64<<10)
		stack = stack[:runtime.Stack(stack, false)]
		c.srv.logger().Error("scgi: handler panic", "remote", r.RemoteAddr, "uri", r.RequestURI,
			"panic", fmt.Sprint(v), "stack", string(stack))
		if !w.streaming && w.err == nil {
			c.nc.Write(errorResponse(http.StatusInternalServerError, "scgi: internal server error"))
		}
	}()
	c.srv.handler().ServeHTTP(w, r)
	return true
}

// replyError answers a request that could not be read: 413 when too large,
// 400 when malformed or too slow. Other errors mean the peer is gone.
func (c *conn) replyError(err error) {
	code, msg := 0, err.Error()
	switch {
	case errors.Is(err, ErrHeaderTooLarge), errors.Is(err, ErrBodyTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMalformed):
		code = http.StatusBadRequest
	case errors.Is(err, os.ErrDeadlineExceeded):
		code = http.StatusBadRequest
		msg = fmt.Sprintf("scgi: request timeout: not received within %v", c.srv.readTimeout())
	}
	c.srv.logger().Debug("scgi: bad request", "remote", remoteAddr(c.nc), "status", code, "err", err)
	if code == 0 {
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.nc.Write(errorResponse(code, msg)); err != nil {
		return
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		io.CopyN(io.Discard, c.nc, maxDrainBytes)
	}
}

// errorResponse renders a complete plain-text response whose body is msg.
func errorResponse(code int, msg string) []byte {
	b := make([]byte, 0, 128+len(msg))
	b = append(b, "Status: "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, statusText(code)...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(msg)+1), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, msg...)
	return append(b, '\n')
}
