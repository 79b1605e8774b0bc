package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/topics"
)

// TestMain fails the run if a goroutine is still alive once every test and
// benchmark has finished.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is rtgate's WebSocket door in front of a real rTorrent, with one
// more topic, "count", whose test producer publishes {"i":1}, {"i":2}, …
// as fast as the test asks; clients reach it through a proxy the test can
// cut.
type server struct {
	handler *ws.Handler
	hub     *topics.Hub
	count   *counter
	proxy   *proxy
	url     string // through the proxy: ws://127.0.0.1:port/ws
}

const token = "client-test-token"

func startServer(t *testing.T, hubOpts *topics.Options) *server {
	t.Helper()
	rt := rtorrenttest.Start(t, nil)
	rc, err := rtorrent.New(rt.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counter{next: make(chan int, 4096)}
	hub := topics.NewHub(func(name string) (topics.Producer, error) {
		if name == "count" {
			return cnt, nil
		}
		return nil, fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
	}, hubOpts)
	h := ws.New(gateway.NewCoalescer(rc, nil), hub, &ws.Options{
		Token:  token,
		Logger: slog.New(slog.DiscardHandler),
	})
	hs := httptest.NewServer(h)
	p := startProxy(t, strings.TrimPrefix(hs.URL, "http://"))
	t.Cleanup(func() {
		p.close()
		h.Close()
		hs.Close()
		hub.Close()
	})
	return &server{handler: h, hub: hub, count: cnt, proxy: p, url: "ws://" + p.addr + "/ws"}
}

// counter is the producer of "count": each int sent on next is published
// as the change {"i":n}; its snapshot is {"n":<last>}.
type counter struct {
	next chan int
	mu   sync.Mutex
	last int
}

func (c *counter) Run(ctx context.Context, t *topics.Topic) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-c.next:
			t.Update(func() ([]byte, error) {
				c.mu.Lock()
				c.last = n
				c.mu.Unlock()
				return []byte(`{"i":` + strconv.Itoa(n) + `}`), nil
			})
		}
	}
}

// published returns the last n published.
func (c *counter) published() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *counter) Snapshot() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []byte(`{"n":` + strconv.Itoa(c.last) + `}`), nil
}

// proxy forwards TCP connections to rtgate; cut drops every connection it
// carries, as a network failure would.
type proxy struct {
	l      net.Listener
	addr   string
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, addr: l.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			down, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				up.Close()
				down.Close()
				return
			}
			p.conns[down], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			for _, pair := range [][2]net.Conn{{up, down}, {down, up}} {
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					io.Copy(pair[0], pair[1])
					pair[0].Close()
					pair[1].Close()
				}()
			}
		}
	}()
	return p
}

// cut closes every connection the proxy carries.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) close() {
	p.l.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cut()
	p.wg.Wait()
}

var errStop = errors.New("stop")

// ver is the version of the rTorrent the test runs against, as
// system.client_version answers it.
func ver(t testing.TB) string { return rtorrenttest.VersionOf(t).Name }
