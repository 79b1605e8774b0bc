package scgi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves SCGI requests with an http.Handler, as net/http/fcgi does
// for FastCGI, so one handler can answer both HTTP and SCGI clients. Each
// connection carries one request.
//
// The handler's request is built from the SCGI headers by
// net/http/cgi.RequestFromMap, with REQUEST_METHOD=POST,
// SERVER_PROTOCOL=HTTP/1.0 and REQUEST_URI=/RPC2 when the client sent none.
// Its RemoteAddr comes from the connection, never from the client's
// REMOTE_ADDR: host:port for TCP, and for a unix socket "unix:" followed by
// the server's socket path (e.g. "unix:/run/rtgate/scgi.sock"). The client's
// HTTPS variable is ignored, so TLS is nil. The context carries
// http.LocalAddrContextKey and is cancelled when the handler returns or the
// Server closes; a client going away is not detected before a write fails.
//
// A Server must not be copied after first use. Its fields must not change
// after Serve is first called. Serve, Close and Shutdown may be called
// concurrently; Serve may run on several listeners at once.
type Server struct {
	// Handler answers requests. Nil means http.DefaultServeMux.
	//
	// As over HTTP/1.x, a handler should read the request body before it
	// writes more than BufferBytes: SCGI clients (rtxmlrpc, this package's
	// Client) write the whole request before reading the answer, so a
	// streamed answer to an unread large body stalls both sides until a
	// timeout.
	Handler http.Handler

	// Limits bounds request header blocks and bodies; see Limits.
	Limits Limits

	// ReadTimeout bounds reading the whole request, body included, from
	// accepting the connection. Zero means 30 s; negative means none.
	ReadTimeout time.Duration

	// WriteTimeout bounds the handler and the writing of its response, from
	// the start of the handler. Zero (or negative) means none.
	WriteTimeout time.Duration

	// MaxConns caps concurrent connections. Zero means 256; negative means
	// no cap. A connection beyond the cap is answered "Status: 503 Service
	// Unavailable" at once, without reading its request, and closed.
	MaxConns int

	// BufferBytes is how much of a response body is held back so that it can
	// be sent with a Content-Length. A larger response streams without one
	// and ends with the connection's close. Zero means 64 KiB; negative means
	// always stream.
	BufferBytes int

	// ErrorLog receives handler panics and accept errors (level Error),
	// rejected connections (Warn, at most once a second) and bad requests
	// (Debug). Nil means slog.Default().
	ErrorLog *slog.Logger

	mu        sync.Mutex
	inited    bool
	closed    bool // Close or Shutdown began: accept no more
	listeners map[*net.Listener]struct{}
	conns     map[*conn]struct{}
	done      chan struct{} // closed with closed
	idle      chan struct{} // closed once closed && len(conns) == 0
	idleShut  bool
	baseCtx   context.Context // parent of request contexts; Close cancels it
	cancel    context.CancelFunc
	wg        sync.WaitGroup // connection goroutines

	lastRejectLog atomic.Int64 // unix nanoseconds
	rejected      atomic.Int64 // since the last log line
}

const (
	defaultReadTimeout = 30 * time.Second
	defaultMaxConns    = 256
	defaultBufferBytes = 64 << 10
)

// Serve is (&Server{Handler: h}).Serve(l).
func Serve(l net.Listener, h http.Handler) error {
	return (&Server{Handler: h}).Serve(l)
}

// Serve accepts connections on l and serves each in its own goroutine until
// Close or Shutdown, when it returns ErrServerClosed; it returns other
// accept errors that are not temporary. It closes l before returning.
func (s *Server) Serve(l net.Listener) error {
	ol := &onceCloseListener{Listener: l}
	defer ol.Close()
	var ln net.Listener = ol
	if !s.trackListener(&ln, true) {
		return ErrServerClosed
	}
	defer s.trackListener(&ln, false)

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
				// Out of file descriptors and the like: wait, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger().Error("scgi: accept", "err", err, "retry_in", delay)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-s.done:
					t.Stop()
					return ErrServerClosed
				}
				continue
			}
			return fmt.Errorf("scgi: accept: %w", err)
		}
		delay = 0
		s.startConn(nc)
	}
}

// startConn registers nc and starts its goroutine, or turns it away.
func (s *Server) startConn(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if max := s.maxConns(); max > 0 && len(s.conns) >= max {
		s.mu.Unlock()
		s.reject(nc, max)
		return
	}
	c := &conn{srv: s, nc: nc}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go c.serve()
}

// reject answers 503 without reading the request. It runs on the accept
// loop, so its write is bounded; a new socket's buffer takes it at once.
func (s *Server) reject(nc net.Conn, max int) {
	n := s.rejected.Add(1)
	now := time.Now().UnixNano()
	if last := s.lastRejectLog.Load(); now-last >= int64(time.Second) && s.lastRejectLog.CompareAndSwap(last, now) {
		s.rejected.Add(-n)
		s.logger().Warn("scgi: too many connections, answering 503", "max_conns", max, "rejected", n)
	}
	nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	nc.Write(errorResponse(http.StatusServiceUnavailable, "scgi: too many connections"))
	nc.Close()
}

// Close stops the Server at once: it closes the listeners and every
// connection, cancels the requests' contexts, and waits for the connection
// goroutines to return (so a handler that ignores its context delays it;
// Close must not be called from a handler). It may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closeLocked()
	s.cancel()
	err := s.closeListenersLocked()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Shutdown stops the Server gracefully: it closes the listeners and the
// connections that have not sent a byte yet, then waits for the others to
// finish their requests. If ctx ends first it returns ctx.Err() and leaves
// them running; call Close then. It may be called more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closeLocked()
	err := s.closeListenersLocked()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateNew, stateClosed) {
			c.nc.Close()
		}
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		s.wg.Wait() // the goroutines are past removeConn: this is brief
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) initLocked() {
	if s.inited {
		return
	}
	s.inited = true
	s.listeners = make(map[*net.Listener]struct{})
	s.conns = make(map[*conn]struct{})
	s.done = make(chan struct{})
	s.idle = make(chan struct{})
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
}

func (s *Server) closeLocked() {
	s.initLocked()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.checkIdleLocked()
}

func (s *Server) checkIdleLocked() {
	if s.closed && len(s.conns) == 0 && !s.idleShut {
		s.idleShut = true
		close(s.idle)
	}
}

func (s *Server) closeListenersLocked() error {
	var errs []error
	for l := range s.listeners {
		if err := (*l).Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Server) trackListener(l *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if add {
		if s.closed {
			return false
		}
		s.listeners[l] = struct{}{}
	} else {
		delete(s.listeners, l)
	}
	return true
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.checkIdleLocked()
	s.mu.Unlock()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) logger() *slog.Logger {
	if s.ErrorLog != nil {
		return s.ErrorLog
	}
	return slog.Default()
}

func (s *Server) handler() http.Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return http.DefaultServeMux
}

func (s *Server) readTimeout() time.Duration {
	if s.ReadTimeout == 0 {
		return defaultReadTimeout
	}
	return s.ReadTimeout
}

func (s *Server) maxConns() int {
	if s.MaxConns == 0 {
		return defaultMaxConns
	}
	return s.MaxConns
}

func (s *Server) bufferBytes() int {
	switch {
	case s.BufferBytes == 0:
		return defaultBufferBytes
	case s.BufferBytes < 0:
		return 0
	}
	return s.BufferBytes
}

// onceCloseListener makes Close idempotent: both Serve and Close close it.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
