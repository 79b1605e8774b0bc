package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/topics"
)

// wsEnv is the whole chain the WebSocket door serves, real from end to end:
// rTorrent → rtorrent.Client → poller → topics.Hub → ws.Handler, and
// rtorrent.Client → Coalescer (OnWrite refreshing the poller) → ws.Handler,
// served by an httptest server. Its hub also has the topic "bulk", made by
// a test producer publishing what the test pushes (for floods that real
// rTorrent changes cannot produce quickly).
type wsEnv struct {
	b       *backend
	poller  *poller.Poller
	hub     *topics.Hub
	bulk    *bulkProducer
	handler *ws.Handler
	srv     *httptest.Server
	url     string // ws://127.0.0.1:port, without a path
	token   string
}

type wsEnvOptions struct {
	backend  *rtorrenttest.Options
	ws       ws.Options
	hub      topics.Options
	listener func(net.Listener) net.Listener // wraps the server's listener
	noToken  bool
}

const testToken = "s3cret-token"

func startWSEnv(t testing.TB, o *wsEnvOptions) *wsEnv {
	t.Helper()
	if o == nil {
		o = &wsEnvOptions{}
	}
	b := startBackend(t, o.backend)
	p := poller.New(b.client, &poller.Options{Interval: 200 * time.Millisecond, Logger: quiet})
	bulk := &bulkProducer{pub: make(chan []byte, 1024)}
	factory := p.Factory()
	hub := topics.NewHub(func(name string) (topics.Producer, error) {
		if name == "bulk" {
			return bulk, nil
		}
		return factory(name)
	}, &o.hub)
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan error, 1)
	go func() { polled <- p.Run(ctx) }()

	up := gateway.NewCoalescer(b.client, &gateway.CoalesceOptions{
		OnWrite: func(_ string, targets []string) {
			if len(targets) > 0 {
				p.RequestRefresh(targets...)
			}
		},
	})
	wo := o.ws
	if wo.Logger == nil {
		wo.Logger = quiet
	}
	token := ""
	if !o.noToken {
		token = testToken
		wo.Token = token
	}
	h := ws.New(up, hub, &wo)
	srv := httptest.NewUnstartedServer(h)
	if o.listener != nil {
		srv.Listener = o.listener(srv.Listener)
	}
	srv.Config.ErrorLog = nil
	srv.Start()
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("handler Close: %v", err)
		}
		srv.Close()
		cancel()
		<-polled
		hub.Close()
	})
	waitFor(t, func() bool { return p.Health().State == poller.StateConnected })
	return &wsEnv{b: b, poller: p, hub: hub, bulk: bulk, handler: h, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http"), token: token}
}

// bulkProducer is a topics.Producer whose changes are whatever the test
// pushes on pub (nil ends its Run with an error); its snapshot counts them.
type bulkProducer struct {
	pub chan []byte
	mu  sync.Mutex
	n   int
}

func (p *bulkProducer) Run(ctx context.Context, t *topics.Topic) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case data := <-p.pub:
			if data == nil {
				return errors.New("bulk producer stopped")
			}
			if err := t.Update(func() ([]byte, error) {
				p.mu.Lock()
				p.n++
				p.mu.Unlock()
				return data, nil
			}); err != nil {
				return nil
			}
		}
	}
}

func (p *bulkProducer) Snapshot() ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return []byte(`{"n":` + strconv.Itoa(p.n) + `}`), nil
}

// rawConn is a bare coder/websocket client, for what the Go client would
// not send and for the rtorrent-ws dialect.
type rawConn struct {
	*websocket.Conn
	t testing.TB
}

// dialRaw dials path with the env's token (query parameter) unless header
// says otherwise.
func (e *wsEnv) dialRaw(t testing.TB, path string, header http.Header) *rawConn {
	t.Helper()
	c, err := e.tryDialRaw(t, path, header)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	return c
}

func (e *wsEnv) tryDialRaw(t testing.TB, path string, header http.Header) (*rawConn, error) {
	t.Helper()
	return e.dialRawWith(t, path, header, nil)
}

// dialRawWith dials with hc as the HTTP client (nil: the default).
func (e *wsEnv) dialRawWith(t testing.TB, path string, header http.Header, hc *http.Client) (*rawConn, error) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	if e.token != "" && header.Get("Authorization") == "" {
		header.Set("Authorization", "Bearer "+e.token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, e.url+path, &websocket.DialOptions{HTTPHeader: header, HTTPClient: hc})
	if err != nil {
		if resp != nil {
			return nil, &httpStatusError{resp.StatusCode}
		}
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &rawConn{c, t}, nil
}

type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string { return "handshake answered " + strconv.Itoa(e.code) }

// send writes one text frame.
func (c *rawConn) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads one frame, within 10 s.
func (c *rawConn) recv() []byte {
	c.t.Helper()
	b, err := c.tryRecv(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return b
}

func (c *rawConn) tryRecv(d time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err == nil && typ != websocket.MessageText {
		return nil, errors.New("binary frame")
	}
	return b, err
}

// recvJSON reads one frame into a generic value.
func (c *rawConn) recvJSON() map[string]any {
	c.t.Helper()
	b := c.recv()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("frame %.200q: %v", b, err)
	}
	return m
}

// closeCode reads until the connection ends and returns the close code the
// server sent (-1 if none).
func (c *rawConn) closeCode(d time.Duration) (websocket.StatusCode, string) {
	deadline := time.Now().Add(d)
	for {
		_, err := c.tryRecv(time.Until(deadline))
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			return -1, err.Error()
		}
	}
}

// smallBufferListener wraps a listener so that every accepted TCP
// connection has a small send buffer: a peer that stops reading blocks the
// server's writes after a few kilobytes instead of megabytes. (Its receive
// buffer stays as it is: a small one slows down reading what a client
// floods in.)
func smallBufferListener(l net.Listener) net.Listener { return smallBufListener{l} }

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// smallBufferClient is an HTTP client for websocket.Dial whose connections
// have a small receive buffer.
func smallBufferClient() *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(8 << 10)
			}
			return c, err
		},
	}}
}
