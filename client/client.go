package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Options configure Dial. A nil *Options means all defaults.
type Options struct {
	// Token is sent as "Authorization: Bearer <token>". Empty sends none,
	// which rtgate accepts only on loopback and Unix-socket listeners.
	Token string
	// HTTPHeader holds extra handshake headers (an Origin, say).
	HTTPHeader http.Header
	// HTTPClient dials the handshake; set its Transport to reach rtgate
	// over a Unix socket. Nil means http.DefaultClient.
	HTTPClient *http.Client
	// ReadLimit bounds one incoming frame. Zero means 64 MiB: a snapshot of
	// a large library is one frame.
	ReadLimit int64
	// QueueLen bounds the messages a Subscription holds that its reader has
	// not taken with Next. Zero means 4096. Past it the subscription ends
	// with ErrOverflow (resume from Subscription.Position).
	QueueLen int
	// PingInterval is the time between the client's pings, PongTimeout
	// how long a pong may take before the connection is closed, so that a
	// server gone silent (a dropped network) ends the connection instead of
	// leaving a Read waiting forever. Zero means 30 s and 10 s; a negative
	// PingInterval sends none.
	PingInterval, PongTimeout time.Duration
}

// Client is one WebSocket connection to rtgate's /ws endpoint. Its methods
// are safe for concurrent use. One goroutine, owned by the Client and
// stopped by Close, reads frames and routes them to calls and
// subscriptions.
type Client struct {
	conn     *websocket.Conn
	queueLen int

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan response
	subs    map[string]*Subscription
	unsubs  map[string]chan struct{} // background unsubscribes under way, closed when done
	err     error                    // why the connection ended; set once

	done   chan struct{} // closed when the reader has returned
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup // background calls, awaited by Close
}

// Dial connects to url (ws://host:port/ws or wss://…).
func Dial(ctx context.Context, url string, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	header := opts.HTTPHeader.Clone()
	if opts.Token != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("Authorization", "Bearer "+opts.Token)
	}
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: opts.HTTPClient, HTTPHeader: header})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("client: dial %s: %w", url, &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status})
		}
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	limit := opts.ReadLimit
	if limit == 0 {
		limit = 64 << 20
	}
	conn.SetReadLimit(limit)
	queueLen := opts.QueueLen
	if queueLen <= 0 {
		queueLen = 4096
	}
	rctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		conn:     conn,
		queueLen: queueLen,
		pending:  map[uint64]chan response{},
		subs:     map[string]*Subscription{},
		unsubs:   map[string]chan struct{}{},
		done:     make(chan struct{}),
		ctx:      rctx,
		cancel:   cancel,
	}
	go c.readLoop(rctx)
	interval, timeout := opts.PingInterval, opts.PongTimeout
	if interval == 0 {
		interval = 30 * time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if interval > 0 {
		c.background(func(ctx context.Context) { c.keepalive(ctx, interval, timeout) })
	}
	return c, nil
}

// keepalive pings the server every interval until ctx ends, and closes the
// connection when a pong does not come within timeout.
func (c *Client) keepalive(ctx context.Context, interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.conn.CloseNow()
			return
		}
	}
}

// Close closes the connection normally and waits for the goroutines the
// Client owns. It is safe to call more than once.
func (c *Client) Close() error {
	c.conn.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	<-c.done
	c.bg.Wait()
	return nil
}

// write sends one frame. ctx is checked before, not during, the write: a
// context ending in the middle of a write would close the whole
// connection, and with it every other call and subscription. A write that
// never ends is ended by the keepalive, or Close.
func (c *Client) write(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.conn.Write(c.ctx, websocket.MessageText, frame); err != nil {
		if cerr := c.Err(); cerr != nil {
			return cerr
		}
		return fmt.Errorf("client: write: %w", err)
	}
	return nil
}

// background runs fn in a goroutine the Client owns: fn's context ends
// with the Client, and Close waits for fn.
func (c *Client) background(fn func(ctx context.Context)) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		fn(c.ctx)
	}()
}

// Done is closed when the connection has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (a *websocket.CloseError carries
// rtgate's close code), or nil while it is open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Call invokes an rTorrent method with positional params (the target
// first) and returns its JSON result. An rTorrent fault or a policy refusal
// is an *Error.
func (c *Client) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	return c.call(ctx, method, params)
}

// Call is one entry of a Batch.
type Call struct {
	Method string
	Params []any
}

// Result is the outcome of one Call of a Batch.
type Result struct {
	Result json.RawMessage
	Err    error // an *Error, or nil
}

// Batch sends calls in one frame, as a JSON-RPC batch, and returns their
// results in the same order.
func (c *Client) Batch(ctx context.Context, calls []Call) ([]Result, error) {
	if len(calls) == 0 {
		return nil, errors.New("client: empty batch")
	}
	ids := make([]uint64, len(calls))
	chans := make([]chan response, len(calls))
	reqs := make([]request, len(calls))
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	for i, call := range calls {
		ids[i], chans[i] = c.registerLocked()
		params := call.Params
		if params == nil {
			params = []any{}
		}
		reqs[i] = request{JSONRPC: "2.0", ID: ids[i], Method: call.Method, Params: params}
	}
	c.mu.Unlock()
	defer c.unregister(ids...)

	frame, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("client: encode batch: %w", err)
	}
	if err := c.write(ctx, frame); err != nil {
		return nil, err
	}
	out := make([]Result, len(calls))
	for i, ch := range chans {
		resp, err := c.wait(ctx, ch)
		if err != nil {
			return nil, err
		}
		out[i] = Result{Result: resp.Result}
		if resp.Error != nil {
			out[i].Err = resp.Error
		}
	}
	return out, nil
}

func (c *Client) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	id, ch := c.registerLocked()
	c.mu.Unlock()
	defer c.unregister(id)

	frame, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return nil, fmt.Errorf("client: encode %s: %w", method, err)
	}
	if err := c.write(ctx, frame); err != nil {
		return nil, err
	}
	resp, err := c.wait(ctx, ch)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.Result, nil
}

func (c *Client) registerLocked() (uint64, chan response) {
	c.nextID++
	ch := make(chan response, 1)
	c.pending[c.nextID] = ch
	return c.nextID, ch
}

func (c *Client) unregister(ids ...uint64) {
	c.mu.Lock()
	for _, id := range ids {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

func (c *Client) wait(ctx context.Context, ch chan response) (response, error) {
	select {
	case resp := <-ch:
		return resp, nil
	case <-ctx.Done():
		return response{}, ctx.Err()
	case <-c.done:
		// The reader may have delivered just before it ended.
		select {
		case resp := <-ch:
			return resp, nil
		default:
			return response{}, c.Err()
		}
	}
}

// readLoop routes every frame until the connection ends.
func (c *Client) readLoop(ctx context.Context) {
	defer close(c.done)
	var err error
	for {
		var typ websocket.MessageType
		var frame []byte
		typ, frame, err = c.conn.Read(ctx)
		if err != nil {
			break
		}
		if typ != websocket.MessageText {
			continue
		}
		if err = c.route(frame); err != nil {
			c.conn.Close(websocket.StatusUnsupportedData, "client: "+err.Error())
			break
		}
	}
	c.fail(fmt.Errorf("client: connection ended: %w", err))
}

func (c *Client) route(frame []byte) error {
	frame = bytes.TrimLeft(frame, " \t\r\n")
	if len(frame) > 0 && frame[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(frame, &batch); err != nil {
			return fmt.Errorf("malformed batch: %w", err)
		}
		for _, one := range batch {
			if err := c.route(one); err != nil {
				return err
			}
		}
		return nil
	}
	var in incoming
	if err := json.Unmarshal(frame, &in); err != nil {
		return fmt.Errorf("malformed frame: %w", err)
	}
	if in.Method != "" {
		if in.Method == "rtgate.message" {
			var m Message
			if err := json.Unmarshal(in.Params, &m); err != nil {
				return fmt.Errorf("malformed rtgate.message: %w", err)
			}
			c.deliver(m)
		}
		return nil // notifications this client does not know are ignored
	}
	if in.ID == nil {
		return nil // an error about a frame without id; nothing waits for it
	}
	c.mu.Lock()
	ch := c.pending[*in.ID]
	delete(c.pending, *in.ID) // a second answer with the same id goes nowhere
	c.mu.Unlock()
	if ch != nil {
		ch <- response{Result: in.Result, Error: in.Error} // buffered: never blocks
	}
	return nil
}

func (c *Client) deliver(m Message) {
	c.mu.Lock()
	s := c.subs[m.Topic]
	c.mu.Unlock()
	if s != nil {
		s.push(m)
	}
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	subs := c.subs
	c.subs = map[string]*Subscription{}
	c.mu.Unlock()
	for _, s := range subs {
		s.end(err)
	}
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

type incoming struct {
	ID     *uint64         `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
}

type response struct {
	Result json.RawMessage
	Error  *Error
}
