package ws_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// bearerProtocol is the Sec-WebSocket-Protocol entry carrying token.
func bearerProtocol(token string) string {
	return protocol.BearerSubprotocolPrefix + base64.RawURLEncoding.EncodeToString([]byte(token))
}

// TestWSTokenSubprotocol: a browser's way to send the token outside the
// URL — a Sec-WebSocket-Protocol entry beside "rtgate" — authenticates;
// the server selects "rtgate" and never echoes the token; a wrong or
// malformed entry is refused with 401, and SetToken revokes such
// connections too.
func TestWSTokenSubprotocol(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		const odd = "tök en/+=?&" // outside base64url and the header's token characters
		tests := []struct {
			name      string
			path      string
			protocols []string
			header    http.Header
			token     string // the handler's token, if not the env's
			want      int    // 0: upgraded with "rtgate" selected
		}{
			{name: "token", path: "/ws", protocols: []string{protocol.Subprotocol, bearerProtocol(testToken)}},
			{name: "token first", path: "/ws", protocols: []string{bearerProtocol(testToken), protocol.Subprotocol}},
			{name: "compat", path: "/rtorrent-ws", protocols: []string{protocol.Subprotocol, bearerProtocol(testToken)}},
			{name: "any characters", path: "/ws", token: odd, protocols: []string{protocol.Subprotocol, bearerProtocol(odd)}},
			{name: "beside a proxy's basic credentials", path: "/ws", protocols: []string{protocol.Subprotocol, bearerProtocol(testToken)},
				header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}},
			{name: "wrong token", path: "/ws", protocols: []string{protocol.Subprotocol, bearerProtocol("nope")}, want: http.StatusUnauthorized},
			{name: "not base64url", path: "/ws", protocols: []string{protocol.Subprotocol, protocol.BearerSubprotocolPrefix + "!!"}, want: http.StatusUnauthorized},
			{name: "padded", path: "/ws", protocols: []string{protocol.Subprotocol, bearerProtocol(testToken) + "=="}, want: http.StatusUnauthorized},
			{name: "no token", path: "/ws", protocols: []string{protocol.Subprotocol}, want: http.StatusUnauthorized},
			{name: "a bearer header wins", path: "/ws", protocols: []string{protocol.Subprotocol, bearerProtocol(testToken)},
				header: http.Header{"Authorization": {"Bearer nope"}}, want: http.StatusUnauthorized},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.token != "" {
					e.handler.SetToken(tt.token)
					defer e.handler.SetToken(testToken)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, resp, err := websocket.Dial(ctx, e.url+tt.path, &websocket.DialOptions{Subprotocols: tt.protocols, HTTPHeader: tt.header})
				if tt.want != 0 {
					if err == nil {
						c.CloseNow()
						t.Fatalf("upgraded, want %d", tt.want)
					}
					if resp == nil || resp.StatusCode != tt.want {
						t.Fatalf("dial: %v (%v), want %d", err, resp, tt.want)
					}
					return
				}
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer c.CloseNow()
				if got := resp.Header.Values("Sec-WebSocket-Protocol"); len(got) != 1 || got[0] != protocol.Subprotocol {
					t.Errorf("selected %q, want %q alone", got, protocol.Subprotocol)
				}
				if c.Subprotocol() != protocol.Subprotocol {
					t.Errorf("Subprotocol() = %q", c.Subprotocol())
				}
				for k, vs := range resp.Header {
					for _, v := range vs {
						if strings.Contains(v, "bearer") {
							t.Errorf("answer header %s: %s carries the token", k, v)
						}
					}
				}
				rc := &rawConn{c, t}
				rc.send(`{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`)
				if got := string(rc.recv()); !strings.Contains(got, `"result":"`+ver(t)+`"`) {
					t.Errorf("call: %s", got)
				}
			})
		}

		// Connections made with the subprotocol's token are revoked like any.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, e.url+"/ws", &websocket.DialOptions{Subprotocols: []string{protocol.Subprotocol, bearerProtocol(testToken)}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		e.handler.SetToken("rotated")
		if code, _ := (&rawConn{c, t}).closeCode(10 * time.Second); code != ws.StatusAuth {
			t.Errorf("closed with %d after the token changed, want %d", code, ws.StatusAuth)
		}
	})
}
