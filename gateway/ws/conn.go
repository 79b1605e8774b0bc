package ws

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/rtgate/rtgate/auth"
	"github.com/rtgate/rtgate/topics"
)

// wsConn is one WebSocket connection. Its reader (serve's goroutine) parses
// frames and hands work out without blocking; its writer (writeLoop) is the
// only goroutine that writes data frames; its caller (callLoop, running
// while there are calls) sends calls upstream one frame at a time. The
// fields under mu are shared; topics is the writer's alone.
type wsConn struct {
	h      *Handler
	ws     *websocket.Conn
	compat bool         // the rtorrent-ws dialect
	token  *auth.Secret // what it authenticated with; nil if none was needed
	remote string
	sub    *topics.Subscriber
	lim    *rate.Limiter // nil: no rate limit

	// ctx is the context of the connection's calls, canceled when it
	// starts closing.
	ctx    context.Context
	cancel context.CancelFunc

	writerDone chan struct{} // closed when writeLoop has returned
	// writeDeadline is when the write under way must be done by (Unix
	// nanoseconds), 0 when the writer is not writing; stall fires then.
	writeDeadline atomic.Int64
	stall         *time.Timer // runs stalled; stopped between writes
	calls         sync.WaitGroup

	mu       sync.Mutex
	out      []wsOut // answers and operations for the writer, in order
	outBytes int
	wake     context.CancelFunc // ends the writer's wait in Next
	closing  bool
	code     websocket.StatusCode // why it closes, once closing
	reason   string
	inflight int         // frames of calls queued, running, or with answers unwritten
	callq    []wsFrame   // frames of calls waiting for callLoop
	calling  bool        // callLoop is running
	ping     *time.Timer // the next keepalive

	topics map[string]*wsTopic // the writer's view of the subscriptions
}

func newWSConn(h *Handler, ws *websocket.Conn, compat bool, token *auth.Secret, remote string) *wsConn {
	c := &wsConn{
		h:          h,
		ws:         ws,
		compat:     compat,
		token:      token,
		remote:     remote,
		sub:        h.hub.NewSubscriber(),
		writerDone: make(chan struct{}),
	}
	if h.callRate != rate.Inf {
		c.lim = rate.NewLimiter(h.callRate, h.callBurst)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.stall = time.AfterFunc(time.Hour, c.stalled)
	c.stall.Stop()
	return c
}

// serve runs the connection until it is closed: it starts the writer and
// the keepalive, reads frames, then waits for everything it started.
func (c *wsConn) serve() {
	go c.writeLoop()
	if c.h.pingInterval > 0 {
		c.mu.Lock()
		if !c.closing {
			c.ping = time.AfterFunc(c.h.pingInterval, c.keepalive)
		}
		c.mu.Unlock()
	}
	c.readLoop()
	<-c.writerDone
	c.calls.Wait()
	c.stall.Stop()
	c.sub.Close()
	c.cancel()
	c.mu.Lock()
	code, reason := c.code, c.reason
	c.out = nil
	c.mu.Unlock()
	c.h.log.Debug("rtgate: websocket closed", "remote", c.remote, "code", int(code), "reason", reason)
}

// readLoop reads frames until the connection ends or must close. It never
// waits for anything but the peer.
func (c *wsConn) readLoop() {
	for {
		// No deadline: a context ending inside Read would drop the
		// connection without its closing handshake. The keepalive and
		// the closing writer end a Read that waits too long.
		typ, frame, err := c.ws.Read(context.Background())
		if err != nil {
			switch code := websocket.CloseStatus(err); {
			case errors.Is(err, websocket.ErrMessageTooBig):
				// The library has sent 1009; the writer finishes the
				// handshake.
				c.closeWith(websocket.StatusMessageTooBig, "frame over the read limit")
			case code != -1:
				c.closeWith(code, "closed by the peer")
			default:
				c.closeWith(websocket.StatusAbnormalClosure, "connection lost")
			}
			return
		}
		if typ != websocket.MessageText {
			c.closeWith(websocket.StatusUnsupportedData, "binary frames are not accepted")
			return
		}
		if c.isClosing() {
			return
		}
		c.handleFrame(frame)
	}
}

func (c *wsConn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// closeWith starts closing the connection with code, unless it is closing
// already: the writer stops, sends its last words and the close frame, and
// calls in flight are canceled. It does not wait.
func (c *wsConn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		c.code, c.reason = code, reason
		if c.ping != nil {
			c.ping.Stop()
		}
	}
	wake := c.wake
	c.wake = nil
	c.mu.Unlock()
	if wake != nil {
		wake()
	}
	c.cancel()
}

// keepalive pings the peer (from its timer's goroutine) and closes the
// connection with 4009 if no pong comes within PongTimeout.
func (c *wsConn) keepalive() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.calls.Add(1) // serve waits for it like a call
	c.mu.Unlock()
	defer c.calls.Done()

	// A write under way is watched by its own timeout; a ping queued
	// behind it would measure the write, not the peer.
	if !c.isWriting() {
		ctx, cancel := context.WithTimeout(context.Background(), c.h.pongTimeout)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			c.closeWith(StatusStalled, "no pong")
			return
		}
	}
	c.mu.Lock()
	if !c.closing {
		c.ping.Reset(c.h.pingInterval)
	}
	c.mu.Unlock()
}
