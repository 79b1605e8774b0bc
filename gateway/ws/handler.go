package ws

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/rtgate/rtgate/auth"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Options configures a Handler. The zero value (or nil) gives the
// documented defaults: no token, same-host origins only, the default
// policy, and the limits below.
type Options struct {
	// Token, if set, must be presented by every client, as
	// "Authorization: Bearer <token>", the "token" query parameter, or
	// (for browsers) a Sec-WebSocket-Protocol entry
	// protocol.BearerSubprotocolPrefix+base64url(token); a missing or
	// wrong one is answered 401 at the upgrade. Empty means no
	// authentication, which is only safe where CheckListener allows it.
	// SetToken changes it later.
	Token string

	// Path and CompatPath are the URL paths of the rtgate dialect and of
	// the rtorrent-ws compatible one; any other path is answered 404.
	// Zero means "/ws" and "/rtorrent-ws".
	Path, CompatPath string

	// OriginPatterns lists the browser origins allowed besides the
	// request's own host, as coder/websocket's AcceptOptions takes them
	// ("example.com", "*.example.com", "https://ui.example.com"). A request
	// from another origin is answered 403 at the upgrade; one without an
	// Origin header (not a browser) is not checked.
	OriginPatterns []string

	// Policy decides which rTorrent calls pass. Nil means policy.Default().
	Policy *policy.Policy

	// Version, if set, returns the backend's version ("" while unknown),
	// for the version shims (rtorrent.Shim) applied to every call before
	// the policy sees it. Nil means unknown: only "false=" is renamed.
	Version func() string

	// ReadLimit is the largest frame a client may send; a bigger one
	// closes the connection with 1009. Zero means 4 MiB (rTorrent 0.9.8
	// refuses requests over 2 MiB anyway).
	ReadLimit int64

	// MaxConns bounds the connections served at once; one more is closed
	// with 4013 right after its upgrade. Zero means 10,000; negative means
	// no bound.
	MaxConns int

	// CallRate and CallBurst are each connection's token bucket for
	// requests: a frame costs one token per request in it (a batch of n
	// costs n, at most CallBurst). A frame over the rate is answered
	// -32002 for every request in it. Zero means 50 per second with bursts
	// of 100; a negative CallRate means no limit.
	CallRate  float64
	CallBurst int

	// MaxInflight bounds the frames of rTorrent calls a connection may
	// have waiting or running (a batch is one frame), counted until their
	// answer has been written; a frame over it is answered -32002 at once.
	// A connection's calls run one frame at a time, in the order they came.
	// Zero means 16.
	MaxInflight int

	// MaxTopics bounds the topics one connection may subscribe to. Zero
	// means 256.
	MaxTopics int

	// WriteQueueBytes bounds each connection's answers waiting to be
	// written (topic messages wait in their topics.Subscriber, bounded by
	// the hub's QueueBytes). An answer that would overflow it closes the
	// connection with 4008; one bigger than the bound is accepted into an
	// empty queue. Zero means 1 MiB.
	WriteQueueBytes int

	// WriteTimeout bounds writing one message, plus as much again per MiB
	// of it; a write that takes longer means the peer stopped reading, and
	// the connection is dropped (4009, which such a peer seldom receives).
	// Zero means 10 s.
	WriteTimeout time.Duration

	// PingInterval is the time between keepalive pings, PongTimeout how
	// long a pong may take before the connection is closed with 4009. No
	// ping is sent while a write is under way (WriteTimeout watches it).
	// Zero means 25 s and 10 s; a negative PingInterval sends none.
	PingInterval, PongTimeout time.Duration

	// Compression negotiates permessage-deflate without context takeover
	// with clients that offer it: no memory held per connection between
	// messages, each message over 512 bytes compressed on its own. Off by
	// default: it costs CPU per subscriber on every change.
	Compression bool

	// Logger receives connection closes (Debug) and failures (Warn). Nil
	// means slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultPath            = "/ws"
	DefaultCompatPath      = "/rtorrent-ws"
	DefaultReadLimit       = 4 << 20
	DefaultMaxConns        = 10000
	DefaultCallRate        = 50
	DefaultCallBurst       = 100
	DefaultMaxInflight     = 16
	DefaultMaxTopics       = 256
	DefaultWriteQueue      = 1 << 20
	DefaultWriteTimeout    = 10 * time.Second
	DefaultPingInterval    = 25 * time.Second
	DefaultPongTimeout     = 10 * time.Second
	wsCloseWriteTimeout    = time.Second // for the last words to a peer being cut off
	wsStreamThreshold      = 256 << 10   // messages bigger than this are written without copying
	wsMaxPooledFrameBuffer = 64 << 10
)

// A Handler is rtgate's WebSocket front door, an http.Handler for any
// listener (TCP or unix socket): JSON-RPC calls to rTorrent through a
// Caller (the doors' coalescer) and the Policy, plus topic subscriptions
// from a topics.Hub, in
// two dialects (docs/protocol.md): rtgate's at Path, rtorrent-ws's at
// CompatPath.
//
// Each connection has one goroutine reading (which never blocks on
// rTorrent or on the peer), one writing (the only one that writes data to
// the peer, from a bounded queue of answers and from the connection's
// topics.Subscriber), and, while it has calls, one sending them upstream
// in order (at most MaxInflight frames waiting). The handler owns them
// all: Shutdown closes every connection with 1001 and waits for them.
// Hijacked connections are not the http.Server's: call Shutdown (or Close)
// beside the server's own Shutdown.
//
// A Handler is safe for concurrent use.
type Handler struct {
	up         Caller
	hub        *topics.Hub
	policy     *policy.Policy
	version    func() string
	log        *slog.Logger
	accept     websocket.AcceptOptions
	path       string
	compatPath string

	readLimit    int64
	maxConns     int
	callRate     rate.Limit
	callBurst    int
	maxInflight  int
	maxTopics    int
	queueBytes   int
	writeTimeout time.Duration
	pingInterval time.Duration
	pongTimeout  time.Duration

	token atomic.Pointer[auth.Secret] // nil: no authentication

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	n      int // connections counted against maxConns, handshakes included
	closed bool
	wg     sync.WaitGroup // one per request in ServeHTTP and per connection served
}

// Caller is the way upstream: the doors' coalescer in front of rTorrent's
// client or the embedded engine. An XML-RPC fault comes back as an error
// wrapping *xmlrpc.Fault, answered to the client as a JSON-RPC error with
// the fault in its data.
type Caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

// New returns a Handler calling rTorrent through up and serving the topics
// of hub. A nil opts means the defaults.
func New(up Caller, hub *topics.Hub, opts *Options) *Handler {
	if opts == nil {
		opts = &Options{}
	}
	h := &Handler{
		up:           up,
		hub:          hub,
		policy:       opts.Policy,
		version:      opts.Version,
		log:          opts.Logger,
		path:         opts.Path,
		compatPath:   opts.CompatPath,
		readLimit:    opts.ReadLimit,
		maxConns:     opts.MaxConns,
		callRate:     rate.Limit(opts.CallRate),
		callBurst:    opts.CallBurst,
		maxInflight:  opts.MaxInflight,
		maxTopics:    opts.MaxTopics,
		queueBytes:   opts.WriteQueueBytes,
		writeTimeout: opts.WriteTimeout,
		pingInterval: opts.PingInterval,
		pongTimeout:  opts.PongTimeout,
		conns:        map[*wsConn]struct{}{},
	}
	if h.policy == nil {
		h.policy = policy.Default()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.version == nil {
		h.version = func() string { return "" }
	}
	if h.path == "" {
		h.path = DefaultPath
	}
	if h.compatPath == "" {
		h.compatPath = DefaultCompatPath
	}
	if h.readLimit <= 0 {
		h.readLimit = DefaultReadLimit
	}
	if h.maxConns == 0 {
		h.maxConns = DefaultMaxConns
	}
	switch {
	case opts.CallRate < 0:
		h.callRate = rate.Inf
	case opts.CallRate == 0:
		h.callRate = DefaultCallRate
	}
	if h.callBurst <= 0 {
		h.callBurst = DefaultCallBurst
	}
	if h.maxInflight <= 0 {
		h.maxInflight = DefaultMaxInflight
	}
	if h.maxTopics <= 0 {
		h.maxTopics = DefaultMaxTopics
	}
	if h.queueBytes <= 0 {
		h.queueBytes = DefaultWriteQueue
	}
	if h.writeTimeout <= 0 {
		h.writeTimeout = DefaultWriteTimeout
	}
	if h.pingInterval == 0 {
		h.pingInterval = DefaultPingInterval
	}
	if h.pongTimeout <= 0 {
		h.pongTimeout = DefaultPongTimeout
	}
	h.accept.OriginPatterns = opts.OriginPatterns
	h.accept.Subprotocols = []string{protocol.Subprotocol} // never a token's entry
	if opts.Compression {
		h.accept.CompressionMode = websocket.CompressionNoContextTakeover
	}
	h.SetToken(opts.Token)
	return h
}

// SetToken replaces the token clients must present; empty turns
// authentication off. Connections that authenticated with another token
// are closed with 4001, so that a revoked token stops working at once.
func (h *Handler) SetToken(token string) {
	th := auth.NewSecret(token)
	h.token.Store(th)
	if th == nil {
		return
	}
	h.mu.Lock()
	var revoked []*wsConn
	for c := range h.conns {
		if c.token == nil || *c.token != *th {
			revoked = append(revoked, c)
		}
	}
	h.mu.Unlock()
	for _, c := range revoked {
		c.closeWith(StatusAuth, "token revoked")
	}
}

// ServeHTTP upgrades a request for Path or CompatPath to a WebSocket and
// serves it until either side closes it. It returns once the connection is
// set up; the handler's own goroutines serve it from then on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var compat bool
	switch r.URL.Path {
	case h.path:
	case h.compatPath:
		compat = true
	default:
		http.NotFound(w, r)
		return
	}
	want := h.token.Load()
	if want != nil {
		if tok, ok := requestToken(r); !ok || !want.Matches(tok) {
			h.log.Debug("rtgate: websocket refused: missing or wrong token", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="rtgate"`)
			http.Error(w, "rtgate: missing or wrong token", http.StatusUnauthorized)
			return
		}
	}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "rtgate: shutting down", http.StatusServiceUnavailable)
		return
	}
	over := h.maxConns > 0 && h.n >= h.maxConns
	if !over {
		h.n++
	}
	h.wg.Add(1)
	h.mu.Unlock()
	release := func() {
		h.mu.Lock()
		if !over {
			h.n--
		}
		h.mu.Unlock()
		h.wg.Done()
	}

	ws, err := websocket.Accept(smallBuffers{w}, r, &h.accept)
	if err != nil {
		// Accept has answered: 403 for a refused Origin, 400 or 426 for
		// a request that is no WebSocket handshake.
		h.log.Debug("rtgate: websocket upgrade refused", "remote", r.RemoteAddr, "err", err)
		release()
		return
	}
	if over {
		h.log.Warn("rtgate: websocket refused: too many connections", "remote", r.RemoteAddr, "max", h.maxConns)
		go func() {
			defer release()
			ws.Close(StatusTooManyConns, "too many connections")
		}()
		return
	}
	ws.SetReadLimit(h.readLimit)
	c := newWSConn(h, ws, compat, want, r.RemoteAddr)
	h.mu.Lock()
	if h.closed {
		// Shutdown began during the handshake.
		c.closeWith(websocket.StatusGoingAway, "rtgate is shutting down")
	}
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	// SetToken during the handshake either saw c above or stored the
	// token this finds.
	if cur := h.token.Load(); cur != nil && (want == nil || *cur != *want) {
		c.closeWith(StatusAuth, "token revoked")
	}
	go func() {
		defer release()
		c.serve()
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
}

// Conns returns the number of connections being served.
func (h *Handler) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Shutdown stops accepting connections (new upgrades are answered 503),
// closes every connection with 1001 and waits for their goroutines. If ctx
// ends first, it drops the remaining connections without the closing
// handshake, waits for them and returns ctx's error. It may be called more
// than once.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	conns := h.connList()
	h.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.StatusGoingAway, "rtgate is shutting down")
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	conns = h.connList()
	h.mu.Unlock()
	for _, c := range conns {
		c.ws.CloseNow()
	}
	<-done
	return ctx.Err()
}

// Close is Shutdown without a deadline: it returns once every connection
// has closed, which the closing handshake's own timeouts (5 s to write the
// close frame, 5 s for the answer) and WriteTimeout bound.
func (h *Handler) Close() error {
	return h.Shutdown(context.Background())
}

func (h *Handler) connList() []*wsConn {
	out := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}
