package scgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// ClientOptions configures a Client. A nil *ClientOptions means all defaults.
type ClientOptions struct {
	// DialContext opens connections. Nil means a zero net.Dialer's.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Retries is how many connection attempts follow a failed first one.
	// Zero means 4; negative means none.
	Retries int
	// MinBackoff and MaxBackoff bound the jittered exponential wait between
	// connection attempts. Zero (or negative) means 50 ms and 1 s.
	MinBackoff, MaxBackoff time.Duration
	// Headers are sent with every request, after the ones the Client sets
	// (see Client.Do); for example UNTRUSTED_CONNECTION=1. A REQUEST_METHOD
	// or REQUEST_URI here replaces the Client's own.
	Headers []Header
}

const (
	defaultRetries    = 4
	defaultMinBackoff = 50 * time.Millisecond
	defaultMaxBackoff = time.Second
)

// Client sends SCGI requests to one address, one request per connection, as
// rTorrent expects. It is safe for concurrent use.
type Client struct {
	network, address, str  string
	dialFunc               func(ctx context.Context, network, addr string) (net.Conn, error)
	attempts               int
	minBackoff, maxBackoff time.Duration
	headers                []Header // sent after CONTENT_TYPE
}

// NewClient returns a Client for addr, one of:
//
//	unix:///abs/path   unix socket
//	unix:rel/path      unix socket, relative to the working directory at dial time
//	/abs/path          unix socket
//	tcp://host:port    TCP
//	host:port          TCP
//
// It fails on any other form, and on opts.Headers that cannot be framed or
// that name CONTENT_LENGTH, SCGI or CONTENT_TYPE, which the Client sets.
func NewClient(addr string, opts *ClientOptions) (*Client, error) {
	network, address, canonical, err := parseAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("scgi: address %w", err)
	}
	if opts == nil {
		opts = &ClientOptions{}
	}
	c := &Client{
		network:    network,
		address:    address,
		str:        canonical,
		dialFunc:   opts.DialContext,
		attempts:   1 + defaultRetries,
		minBackoff: opts.MinBackoff,
		maxBackoff: opts.MaxBackoff,
	}
	if c.dialFunc == nil {
		var d net.Dialer
		c.dialFunc = d.DialContext
	}
	switch {
	case opts.Retries < 0:
		c.attempts = 1
	case opts.Retries > 0:
		c.attempts = 1 + opts.Retries
	}
	if c.minBackoff <= 0 {
		c.minBackoff = defaultMinBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = defaultMaxBackoff
	}
	c.maxBackoff = max(c.maxBackoff, c.minBackoff)

	method := Header{"REQUEST_METHOD", "POST"}
	uri := Header{"REQUEST_URI", "/RPC2"}
	var extra []Header
	for i, h := range opts.Headers {
		if err := checkHeader(h); err != nil {
			return nil, fmt.Errorf("scgi: ClientOptions.Headers[%d]: %w", i, err)
		}
		for _, prev := range opts.Headers[:i] {
			if prev.Name == h.Name {
				return nil, fmt.Errorf("scgi: ClientOptions.Headers: duplicate %s", h.Name)
			}
		}
		switch h.Name {
		case "CONTENT_LENGTH", "SCGI", "CONTENT_TYPE":
			return nil, fmt.Errorf("scgi: ClientOptions.Headers: %s is set by the Client", h.Name)
		case "REQUEST_METHOD":
			method = h
		case "REQUEST_URI":
			uri = h
		default:
			extra = append(extra, h)
		}
	}
	c.headers = append([]Header{method, uri}, extra...)
	return c, nil
}

// Network returns "unix" or "tcp".
func (c *Client) Network() string { return c.network }

// Address returns the socket path or host:port the Client dials.
func (c *Client) Address() string { return c.address }

// String returns the address in canonical form: "unix:///abs/path",
// "unix:rel/path" or "tcp://host:port".
func (c *Client) String() string { return c.str }

// Do sends one request and returns the response once its header block has
// been read. The headers are CONTENT_LENGTH, SCGI=1, CONTENT_TYPE (when
// contentType is not empty), REQUEST_METHOD=POST, REQUEST_URI=/RPC2, then
// ClientOptions.Headers.
//
// Do connects, retrying with backoff only while connecting fails (see
// DialError); once a byte of the request may have been written it never
// retries, since calls are not idempotent. After writing it half-closes the
// connection where the connection supports it.
//
// Do writes the whole request before it reads, as rTorrent reads the whole
// request before it answers; a server that streams a long answer before
// reading a long request stalls until ctx ends.
//
// ctx bounds the whole exchange, body reads included: its deadline becomes
// the connection's, and its cancellation interrupts any read or write at
// once, which then returns ctx.Err(). The caller must close Response.Body,
// which releases the connection.
func (c *Client) Do(ctx context.Context, contentType string, body []byte) (*Response, error) {
	if strings.IndexByte(contentType, 0) >= 0 {
		return nil, fmt.Errorf("scgi %s: content type contains a NUL byte", c.str)
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Poison rather than close, so that the only Close is ours.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })

	headers := c.headers
	if contentType != "" {
		headers = make([]Header, 0, 1+len(c.headers))
		headers = append(headers, Header{"CONTENT_TYPE", contentType})
		headers = append(headers, c.headers...)
	}
	bufs := net.Buffers{appendRequestHeader(nil, headers, int64(len(body))), body}
	_, werr := bufs.WriteTo(conn)
	if werr == nil {
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite() // an error here surfaces when reading
		}
	}
	// Read even after a failed write: a server may have answered early (413,
	// 503) and closed, and its answer says more than the broken pipe.
	resp, rerr := ReadResponse(bufio.NewReader(conn))
	if rerr != nil {
		stop()
		conn.Close()
		if werr != nil {
			return nil, c.opError(ctx, "write request", werr)
		}
		return nil, c.opError(ctx, "read response", rerr)
	}
	resp.Body = &clientBody{ctx: ctx, body: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// aLongTimeAgo is a deadline in the past, which fails pending I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

func (c *Client) opError(ctx context.Context, op string, err error) error {
	if e := ctxErr(ctx, err); e != nil {
		err = e
	}
	return fmt.Errorf("scgi %s: %s: %w", c.str, op, err)
}

// clientBody is a Client response's body; it owns the connection.
type clientBody struct {
	ctx      context.Context
	body     io.ReadCloser
	conn     net.Conn
	stop     func() bool
	released atomic.Bool
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	switch {
	case err == io.EOF:
		b.release() // the exchange is over; free the socket early
	case err != nil && !errors.Is(err, errBodyClosed):
		if e := ctxErr(b.ctx, err); e != nil {
			err = e
		}
	}
	return n, err
}

// Close releases the connection. It may be called more than once, and
// concurrently with Read, which it interrupts.
func (b *clientBody) Close() error {
	b.body.Close()
	b.release()
	return nil
}

func (b *clientBody) release() {
	if b.released.CompareAndSwap(false, true) {
		b.stop()
		b.conn.Close()
	}
}
