package ws_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/auth"
	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestWSAuth: the token is taken from a Bearer header or the token query
// parameter, anything else is refused with 401 before the upgrade, and
// SetToken closes connections made with the old token with 4001.
func TestWSAuth(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		tests := []struct {
			name   string
			path   string
			header string
			want   int // 0: upgraded
		}{
			{"no token", "/ws", "", http.StatusUnauthorized},
			{"wrong bearer", "/ws", "Bearer nope", http.StatusUnauthorized},
			{"basic scheme", "/ws", "Basic " + testToken, http.StatusUnauthorized},
			{"wrong query", "/ws?token=nope", "", http.StatusUnauthorized},
			{"bearer", "/ws", "Bearer " + testToken, 0},
			{"bearer, any case", "/ws", "bearer " + testToken, 0},
			{"query", "/ws?token=" + testToken, "", 0},
			{"compat, no token", "/rtorrent-ws", "", http.StatusUnauthorized},
			{"compat, query", "/rtorrent-ws?token=" + testToken, "", 0},
			{"other path", "/elsewhere?token=" + testToken, "", http.StatusNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := http.Header{}
				if tt.header != "" {
					h.Set("Authorization", tt.header)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, resp, err := websocket.Dial(ctx, e.url+tt.path, &websocket.DialOptions{HTTPHeader: h})
				got := 0
				if err != nil {
					if resp == nil {
						t.Fatal(err)
					}
					got = resp.StatusCode
				} else {
					c.CloseNow()
				}
				if got != tt.want {
					t.Errorf("status %d, want %d", got, tt.want)
				}
			})
		}

		// The Go client's handshake error.
		_, err := client.Dial(context.Background(), e.url+"/ws", &client.Options{Token: "nope"})
		var hs *client.HandshakeError
		if !errors.As(err, &hs) || hs.StatusCode != http.StatusUnauthorized {
			t.Errorf("client with a wrong token: %v", err)
		}

		// A new token: connections made with the old one are closed with 4001.
		old := e.dialRaw(t, "/ws", nil)
		e.handler.SetToken("new-token")
		if code, _ := old.closeCode(10 * time.Second); code != ws.StatusAuth {
			t.Errorf("old connection closed with %d, want %d", code, ws.StatusAuth)
		}
		if _, err := e.tryDialRaw(t, "/ws", nil); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("old token after SetToken: %v", err)
		}
		h := http.Header{"Authorization": {"Bearer new-token"}}
		fresh := e.dialRaw(t, "/ws", h)
		fresh.send(`{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`)
		if got := string(fresh.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
			t.Errorf("new token: %s", got)
		}
	})
}

func isStatus(err error, code int) bool {
	var he *httpStatusError
	return errors.As(err, &he) && he.code == code
}

// TestWSOrigin: a browser's Origin must be the server's own host or match
// OriginPatterns, else 403 at the upgrade; clients that send no Origin are
// not browsers and pass.
func TestWSOrigin(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{OriginPatterns: []string{"ui.example.com", "https://*.trusted.example"}}})
		host := strings.TrimPrefix(e.url, "ws://")
		tests := []struct {
			origin string
			want   int
		}{
			{"", 0},
			{"http://" + host, 0},
			{"http://evil.example", http.StatusForbidden},
			{"http://ui.example.com", 0},
			{"https://app.trusted.example", 0},
			{"http://app.trusted.example", http.StatusForbidden},
			{"null", http.StatusForbidden},
		}
		for _, tt := range tests {
			t.Run(tt.origin, func(t *testing.T) {
				h := http.Header{}
				if tt.origin != "" {
					h.Set("Origin", tt.origin)
				}
				_, err := e.tryDialRaw(t, "/ws", h)
				switch {
				case tt.want == 0 && err != nil:
					t.Errorf("refused: %v", err)
				case tt.want != 0 && !isStatus(err, tt.want):
					t.Errorf("got %v, want status %d", err, tt.want)
				}
			})
		}
	})
}

// TestWSFrames: a frame over the read limit closes that connection with
// 1009 and a binary frame with 1003, while another connection is served
// throughout.
func TestWSFrames(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{ReadLimit: 1 << 10}})
		other := e.dialRaw(t, "/ws", nil)
		check := func() {
			t.Helper()
			other.send(`{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`)
			if got := string(other.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
				t.Errorf("other connection: %s", got)
			}
		}

		big := e.dialRaw(t, "/ws", nil)
		big.send(`{"jsonrpc":"2.0","id":1,"method":"d.name","params":["` + strings.Repeat("A", 2<<10) + `"]}`)
		if code, _ := big.closeCode(10 * time.Second); code != websocket.StatusMessageTooBig {
			t.Errorf("oversized frame: close %d, want 1009", code)
		}
		check()

		// Just under the limit is fine.
		fits := e.dialRaw(t, "/ws", nil)
		fits.send(`{"jsonrpc":"2.0","id":1,"method":"d.name","params":["` + strings.Repeat("A", 900) + `"]}`)
		if got := fits.recvJSON(); got["error"] == nil {
			t.Errorf("under the limit: %v", got)
		}

		bin := e.dialRaw(t, "/ws", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := bin.Write(ctx, websocket.MessageBinary, []byte(`{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`)); err != nil {
			t.Fatal(err)
		}
		if code, _ := bin.closeCode(10 * time.Second); code != websocket.StatusUnsupportedData {
			t.Errorf("binary frame: close %d, want 1003", code)
		}
		check()
	})
}

// TestWSMaxConns: one connection over MaxConns is upgraded and closed at
// once with 4013 (so that browsers see why); once one leaves, there is
// room again.
func TestWSMaxConns(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{MaxConns: 2}})
		a := e.dialRaw(t, "/ws", nil)
		e.dialRaw(t, "/ws", nil)
		over := e.dialRaw(t, "/ws", nil)
		if code, _ := over.closeCode(10 * time.Second); code != ws.StatusTooManyConns {
			t.Errorf("third connection closed with %d, want %d", code, ws.StatusTooManyConns)
		}
		a.Close(websocket.StatusNormalClosure, "")
		waitFor(t, func() bool { return e.handler.Conns() == 1 })
		again := e.dialRaw(t, "/ws", nil)
		again.send(`{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`)
		if got := string(again.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
			t.Errorf("after one left: %s", got)
		}
	})
}

// TestWSKeepalive: a peer that answers no ping is closed with 4009; one
// that reads (and so answers pings) stays.
func TestWSKeepalive(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{PingInterval: 100 * time.Millisecond, PongTimeout: 200 * time.Millisecond}})
		alive := e.dial(t)
		deaf := e.dialRaw(t, "/ws", nil) // reads nothing, so answers no ping
		time.Sleep(time.Second)
		if code, _ := deaf.closeCode(10 * time.Second); code != ws.StatusStalled {
			t.Errorf("deaf peer closed with %d, want %d", code, ws.StatusStalled)
		}
		waitFor(t, func() bool { return e.handler.Conns() == 1 })
		time.Sleep(500 * time.Millisecond)
		if v, err := alive.Call(context.Background(), "system.client_version"); err != nil || string(v) != `"`+ver(t)+`"` {
			t.Errorf("live client: %s, %v", v, err)
		}
	})
}

// TestWSShutdown: Shutdown closes every connection with 1001, waits for
// them, and refuses new ones with 503.
func TestWSShutdown(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		var subs []*client.Subscription
		for range 3 {
			c := e.dial(t)
			s, err := c.Subscribe(context.Background(), "torrents", nil)
			if err != nil {
				t.Fatal(err)
			}
			next(t, s)
			subs = append(subs, s)
		}
		compat := e.dialRaw(t, "/rtorrent-ws", nil)
		compatCode := make(chan websocket.StatusCode, 1)
		go func() {
			code, _ := compat.closeCode(10 * time.Second) // answers the closing handshake
			compatCode <- code
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.handler.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.handler.Conns(); n != 0 {
			t.Errorf("%d connections after Shutdown", n)
		}
		for i, s := range subs {
			_, err := s.Next(ctx)
			if client.CloseCode(err) != int(websocket.StatusGoingAway) {
				t.Errorf("client %d: %v", i, err)
			}
		}
		if code := <-compatCode; code != websocket.StatusGoingAway {
			t.Errorf("compat client: close %d", code)
		}
		if _, err := e.tryDialRaw(t, "/ws", nil); !isStatus(err, http.StatusServiceUnavailable) {
			t.Errorf("dial after Shutdown: %v", err)
		}
	})
}

// TestWSUnixSocket serves the handler on a unix socket, as cmd does beside
// TCP, and uses it with the Go client.
func TestWSUnixSocket(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{noToken: true})
		sock := filepath.Join(tempDir(t), "ws.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		if err := auth.CheckListener(l.Addr(), ""); err != nil {
			t.Errorf("CheckListener(unix, no token): %v", err)
		}
		srv := &http.Server{Handler: e.handler}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
		t.Cleanup(func() {
			e.handler.Close()
			srv.Close()
			<-done
		})
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		ctx := context.Background()
		c, err := client.Dial(ctx, "ws://rtgate/ws", &client.Options{HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if v, err := c.Call(ctx, "system.client_version"); err != nil || string(v) != `"`+ver(t)+`"` {
			t.Errorf("system.client_version = %s, %v", v, err)
		}
		s, err := c.Subscribe(ctx, "transfer", nil)
		if err != nil {
			t.Fatal(err)
		}
		if m := next(t, s); m.Kind != client.KindSnapshot {
			t.Errorf("transfer: %+v", m)
		}
	})
}
