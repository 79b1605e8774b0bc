package auth_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/auth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRequireToken(t *testing.T) {
	var calls atomic.Int64
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	guard := auth.RequireToken(next, "s3cret")
	srv := httptest.NewServer(guard)
	defer srv.Close()
	const body = "<methodCall><methodName>system.client_version</methodName></methodCall>"

	tests := []struct {
		name   string
		url    string
		header func(*http.Request)
		want   int
	}{
		{name: "no token", url: "/RPC2", want: 401},
		{name: "wrong bearer", url: "/RPC2", header: func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, want: 401},
		{name: "bearer", url: "/RPC2", header: func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, want: 200},
		{name: "query", url: "/RPC2?token=s3cret", want: 200},
		{name: "basic password", url: "/RPC2", header: func(r *http.Request) { r.SetBasicAuth("anyone", "s3cret") }, want: 200},
		{name: "wrong basic password", url: "/RPC2", header: func(r *http.Request) { r.SetBasicAuth("anyone", "s3cre") }, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			req, _ := http.NewRequest("POST", srv.URL+tt.url, strings.NewReader(body))
			if tt.header != nil {
				tt.header(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tt.want)
			}
			if reached := calls.Load() > before; reached != (tt.want == 200) {
				t.Errorf("reached the handler: %v", reached)
			}
		})
	}

	// Rotation: the old token stops working, the new one works; no token
	// lets everything through.
	post := func(token string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/RPC2?token="+token, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	guard.SetToken("n3w")
	if got := post("s3cret"); got != 401 {
		t.Errorf("old token after rotation: %d", got)
	}
	if got := post("n3w"); got != 200 {
		t.Errorf("new token: %d", got)
	}
	guard.SetToken("")
	if got := post(""); got != 200 {
		t.Errorf("no token set: %d", got)
	}
}

// TestTokenRequired: which listeners need a token.
func TestTokenRequired(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want bool
	}{
		{"unix", &net.UnixAddr{Name: "/run/rtgate.sock", Net: "unix"}, false},
		{"loopback v4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, false},
		{"loopback v4 elsewhere", &net.TCPAddr{IP: net.IPv4(127, 1, 2, 3), Port: 8080}, false},
		{"loopback v6", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, false},
		{"all interfaces", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, true},
		{"all interfaces v6", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, true},
		{"lan", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 2), Port: 8080}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.TokenRequired(tt.addr); got != tt.want {
				t.Errorf("TokenRequired(%v) = %v", tt.addr, got)
			}
			err := auth.CheckListener(tt.addr, "")
			if (err != nil) != tt.want || (err != nil && !errors.Is(err, auth.ErrTokenRequired)) {
				t.Errorf("CheckListener(%v, \"\") = %v", tt.addr, err)
			}
			if err := auth.CheckListener(tt.addr, "t"); err != nil {
				t.Errorf("CheckListener with a token: %v", err)
			}
		})
	}
}
