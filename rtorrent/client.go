package rtorrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Options configure a Client. The zero value (or nil) is ready to use.
type Options struct {
	// SCGI configures dialing, connect retries and extra SCGI headers.
	SCGI *scgi.ClientOptions

	// Timeout bounds a call whose context has no deadline. Zero means 30 s,
	// which is what rTorrent allows an SCGI request at HEAD; negative means
	// no bound beyond the context.
	Timeout time.Duration
}

// Client calls rTorrent. It is safe for concurrent use; each call uses its
// own connection.
type Client struct {
	scgi    *scgi.Client
	timeout time.Duration

	mu   sync.Mutex
	info *Info // nil until asked for, and again after a connect failure
}

// New returns a client of the rTorrent listening at addr: unix:///path,
// tcp://host:port, a bare absolute path or a bare host:port.
func New(addr string, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	sc, err := scgi.NewClient(addr, opts.SCGI)
	if err != nil {
		return nil, fmt.Errorf("rtorrent: %w", err)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	return &Client{scgi: sc, timeout: timeout}, nil
}

// Address returns the address the client dials, as unix://… or tcp://….
func (c *Client) Address() string { return c.scgi.String() }

// Do sends an encoded request (an XML-RPC methodCall, or JSON-RPC to an
// rTorrent that speaks it) to rTorrent as it is, with the client's dialing
// and connect retries, and returns the reply unread: the raw path of
// rtgate's doors. ctx bounds the whole exchange, reading the body
// included; the client's Timeout does not apply. The caller closes
// Response.Body.
func (c *Client) Do(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
	resp, err := c.scgi.Do(ctx, contentType, body)
	if err != nil && isConnectError(err) {
		c.Invalidate()
	}
	return resp, err
}

// Call invokes method with params and returns its result. An XML-RPC fault
// is returned as *xmlrpc.Fault.
func (c *Client) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	v, err := c.call(ctx, method, params)
	if err != nil {
		return xmlrpc.Value{}, fmt.Errorf("rtorrent: %s: %w", method, err)
	}
	return v, nil
}

// CallArgs is Call with plain Go params converted by xmlrpc.ValueOf: a
// string, an int or int64, a bool, a []byte (sent as base64), or a slice of
// those.
func (c *Client) CallArgs(ctx context.Context, method string, args ...any) (xmlrpc.Value, error) {
	params, err := xmlrpc.Values(args...)
	if err != nil {
		return xmlrpc.Value{}, fmt.Errorf("rtorrent: %s: %w", method, err)
	}
	return c.Call(ctx, method, params...)
}

var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

var decoders = sync.Pool{New: func() any { return xmlrpc.NewDecoder(nil, nil) }}

func (c *Client) call(ctx context.Context, method string, params []xmlrpc.Value) (xmlrpc.Value, error) {
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}

	bp := encodeBufs.Get().(*[]byte)
	body, err := xmlrpc.Encoder{}.AppendCall((*bp)[:0], method, params)
	if err != nil {
		encodeBufs.Put(bp)
		return xmlrpc.Value{}, fmt.Errorf("encode call: %w", err)
	}
	resp, err := c.scgi.Do(ctx, "text/xml", body)
	if cap(body) <= 1<<20 { // do not pin a huge load.raw buffer in the pool
		*bp = body[:0]
		encodeBufs.Put(bp)
	}
	if err != nil {
		if isConnectError(err) {
			c.Invalidate()
		}
		return xmlrpc.Value{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return xmlrpc.Value{}, fmt.Errorf("%w: %s: %q", ErrHTTPStatus, resp.Status, msg)
	}

	dec := decoders.Get().(*xmlrpc.Decoder)
	dec.Reset(resp.Body)
	v, err := dec.DecodeResponse()
	dec.Reset(nil)
	decoders.Put(dec)
	if err != nil {
		var fault *xmlrpc.Fault
		if errors.As(err, &fault) {
			return xmlrpc.Value{}, err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return xmlrpc.Value{}, fmt.Errorf("read reply: %w (%w)", ctxErr, err)
		}
		return xmlrpc.Value{}, fmt.Errorf("read reply: %w", err)
	}
	return v, nil
}

// isConnectError reports whether err means nothing answered at the address,
// so that what was learned about the rTorrent there may be stale.
func isConnectError(err error) bool {
	var dial *scgi.DialError
	return errors.As(err, &dial)
}
