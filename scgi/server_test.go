package scgi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/scgi"
)

// echo answers with the request body as text/xml. Like rTorrent, it reads
// the whole request before answering: clients write it all before reading.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Write(body)
})

// call sends body with a fresh Client and returns the response and its body.
func call(t testing.TB, addr string, body string) (*scgi.Response, string) {
	t.Helper()
	c, err := scgi.NewClient(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, "text/xml", []byte(body))
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

// parse parses a raw response the way a client would.
func parse(t testing.TB, raw string) (*scgi.Response, string) {
	t.Helper()
	resp, err := scgi.ReadResponse(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadResponse(%q): %v", raw, err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp, string(b)
}

// seenRequest is what a handler saw of a request.
type seenRequest struct {
	Method, URL, RequestURI, Proto, RemoteAddr, Body string
	ContentLength                                    int64
	Header                                           http.Header
	TLS                                              bool
	LocalAddr                                        string
}

// recorder is a handler that reports each request it sees on a channel.
func recorder() (http.Handler, chan seenRequest) {
	ch := make(chan seenRequest, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			b = []byte("error: " + err.Error())
		}
		la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		ch <- seenRequest{
			Method: r.Method, URL: r.URL.String(), RequestURI: r.RequestURI, Proto: r.Proto,
			RemoteAddr: r.RemoteAddr, Body: string(b), ContentLength: r.ContentLength,
			Header: r.Header, TLS: r.TLS != nil, LocalAddr: fmt.Sprint(la),
		}
	}), ch
}

func TestServerRequest(t *testing.T) {
	tests := []struct {
		name string
		req  []byte
		want seenRequest // RemoteAddr and LocalAddr are filled in
	}{
		{
			name: "flood sends only CONTENT_LENGTH, SCGI and CONTENT_TYPE",
			req:  request("<methodCall/>", "CONTENT_TYPE", "text/xml"),
			want: seenRequest{Method: "POST", URL: "/RPC2", RequestURI: "/RPC2", Proto: "HTTP/1.0",
				Body: "<methodCall/>", ContentLength: 13, Header: http.Header{"Content-Type": {"text/xml"}}},
		},
		{
			name: "no SCGI header, no body",
			req:  []byte(netstring("CONTENT_LENGTH\x000\x00")),
			want: seenRequest{Method: "POST", URL: "/RPC2", RequestURI: "/RPC2", Proto: "HTTP/1.0",
				Header: http.Header{}},
		},
		{
			name: "full CGI variables from a web server",
			req: request("a=b", "REQUEST_METHOD", "PUT", "REQUEST_URI", "/x/y?q=1", "SERVER_PROTOCOL", "HTTP/1.1",
				"HTTP_HOST", "example.com", "HTTP_USER_AGENT", "rtxmlrpc", "HTTP_X_FORWARDED_FOR", "10.0.0.1"),
			want: seenRequest{Method: "PUT", URL: "http://example.com/x/y?q=1", RequestURI: "/x/y?q=1", Proto: "HTTP/1.1",
				Body: "a=b", ContentLength: 3,
				Header: http.Header{"User-Agent": {"rtxmlrpc"}, "X-Forwarded-For": {"10.0.0.1"}}},
		},
		{
			name: "SCRIPT_NAME and PATH_INFO without REQUEST_URI",
			req:  request("", "SCRIPT_NAME", "/app", "PATH_INFO", "/RPC2", "QUERY_STRING", "a=1"),
			want: seenRequest{Method: "POST", URL: "/app/RPC2?a=1", RequestURI: "/app/RPC2?a=1", Proto: "HTTP/1.0",
				Header: http.Header{}},
		},
		{
			name: "client's REMOTE_ADDR and HTTPS are ignored",
			req:  request("", "REMOTE_ADDR", "8.8.8.8", "REMOTE_PORT", "53", "HTTPS", "on", "HTTP_HOST", "h"),
			want: seenRequest{Method: "POST", URL: "http://h/RPC2", RequestURI: "/RPC2", Proto: "HTTP/1.0",
				Header: http.Header{}},
		},
	}
	for _, network := range []string{"unix", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				h, seen := recorder()
				addr := startServer(t, &scgi.Server{Handler: h}, network)
				raw := exchange(t, addr, tt.req, false)
				if !strings.HasPrefix(raw, "Status: 200 OK\r\n") {
					t.Fatalf("response %q", raw)
				}
				got := <-seen
				_, sock := splitAddr(addr)
				want := tt.want
				want.LocalAddr = sock
				want.RemoteAddr = "unix:" + sock
				if network == "tcp" {
					if host, _, _ := net.SplitHostPort(got.RemoteAddr); host != "127.0.0.1" {
						t.Errorf("RemoteAddr %q, want 127.0.0.1:port", got.RemoteAddr)
					}
					want.RemoteAddr = got.RemoteAddr
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("handler saw\n%+v\nwant\n%+v", got, want)
				}
			})
		}
	}
}

// goodClient calls addr in a loop until the returned stop is called, which
// fails the test if any call failed. It returns once a first call succeeded,
// so that the loop overlaps whatever the test does next.
func goodClient(t *testing.T, addr string) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	first := make(chan struct{})
	var wg sync.WaitGroup
	var calls int
	var failure error
	wg.Go(func() {
		c, err := scgi.NewClient(addr, nil)
		if err != nil {
			failure = err
			return
		}
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			want := fmt.Sprintf("<call n=%d/>", i)
			resp, err := c.Do(context.Background(), "text/xml", []byte(want))
			if err != nil {
				failure = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != want || resp.StatusCode != 200 {
				failure = fmt.Errorf("call %d: %v %q, %v", i, resp.Status, b, err)
				return
			}
			if calls++; calls == 1 {
				close(first)
			}
		}
	})
	select {
	case <-first:
	case <-time.After(5 * time.Second):
	}
	return func() {
		close(done)
		wg.Wait()
		if failure != nil || calls == 0 {
			t.Errorf("concurrent good client: %d calls, error %v", calls, failure)
		}
	}
}

func TestServerMalformed(t *testing.T) {
	for _, tt := range malformedRequests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, &scgi.Server{Handler: echo, Limits: tt.lim, ReadTimeout: 5 * time.Second}, "unix")
			stop := goodClient(t, addr)
			status := "400 Bad Request"
			if errors.Is(tt.want, scgi.ErrHeaderTooLarge) || errors.Is(tt.want, scgi.ErrBodyTooLarge) {
				status = "413 Request Entity Too Large"
			}
			// Only a request cut short needs the half-close to be noticed;
			// every other one must be answered while the client waits.
			halfClose := strings.HasPrefix(tt.name, "cut")
			start := time.Now()
			got := exchange(t, addr, []byte(tt.in), halfClose)
			if want := errorReply(status, tt.msg); got != want {
				t.Errorf("reply\n got %q\nwant %q", got, want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("reply took %v", d)
			}
			stop()
		})
	}
}

func TestServerRefusesMore(t *testing.T) {
	tests := []struct {
		name      string
		srv       *scgi.Server
		in        string
		halfClose bool
		want      string
	}{
		{
			name: "bad SERVER_PROTOCOL",
			in:   string(request("", "SERVER_PROTOCOL", "SPDY/9")),
			want: errorReply("400 Bad Request", "scgi: malformed request: cgi: invalid SERVER_PROTOCOL version"),
		},
		{
			name: "header block too slow",
			srv:  &scgi.Server{ReadTimeout: 200 * time.Millisecond},
			in:   "24:CONTENT_LENGTH\x00",
			want: errorReply("400 Bad Request", "scgi: request timeout: not received within 200ms"),
		},
		{
			name: "silent client",
			srv:  &scgi.Server{ReadTimeout: 200 * time.Millisecond},
			want: errorReply("400 Bad Request", "scgi: request timeout: not received within 200ms"),
		},
		{
			name:      "connection closed before a byte",
			halfClose: true,
			want:      "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.srv == nil {
				tt.srv = &scgi.Server{}
			}
			tt.srv.Handler = echo
			addr := startServer(t, tt.srv, "unix")
			stop := goodClient(t, addr)
			if got := exchange(t, addr, []byte(tt.in), tt.halfClose); got != tt.want {
				t.Errorf("reply\n got %q\nwant %q", got, tt.want)
			}
			stop()
		})
	}
}

func TestServerBodyCutShort(t *testing.T) {
	h, seen := recorder()
	addr := startServer(t, &scgi.Server{Handler: h}, "unix")
	raw := string(request("0123456789"))
	exchange(t, addr, []byte(raw[:len(raw)-4]), true)
	if got := <-seen; got.Body != "error: unexpected EOF" {
		t.Errorf("handler read %q, want io.ErrUnexpectedEOF", got.Body)
	}
}

func TestServerHalfClose(t *testing.T) {
	for _, halfClose := range []bool{true, false} {
		t.Run(fmt.Sprintf("halfClose=%v", halfClose), func(t *testing.T) {
			addr := startServer(t, &scgi.Server{Handler: echo}, "unix")
			got := exchange(t, addr, request("<x/>", "CONTENT_TYPE", "text/xml"), halfClose)
			if want := "Status: 200 OK\r\nContent-Length: 4\r\nContent-Type: text/xml\r\n\r\n<x/>"; got != want {
				t.Errorf("reply\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestServerBigBodies(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			sums := make(chan [32]byte, 1)
			addr := startServer(t, &scgi.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("reading body: %v", err)
				}
				sums <- sha256.Sum256(b)
				w.Header().Set("Content-Type", "application/octet-stream")
				for i := 0; i < len(b); i += 100 << 10 {
					w.Write(b[i:min(i+100<<10, len(b))])
				}
			})}, network)
			body := make([]byte, 6<<20+7)
			for i := range body {
				body[i] = byte(i * 7 / 5)
			}
			resp, got := call(t, addr, string(body))
			if sha256.Sum256(body) != <-sums {
				t.Error("server read a different body")
			}
			if got != string(body) {
				t.Errorf("response body differs: %d bytes, want %d", len(got), len(body))
			}
			if resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
				t.Errorf("streamed response has Content-Length %d", resp.ContentLength)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestServerPanic(t *testing.T) {
	var logs syncBuffer
	addr := startServer(t, &scgi.Server{
		ErrorLog: slog.New(slog.NewTextHandler(&logs, nil)),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/panic":
				io.WriteString(w, "partial")
				panic("boom")
			case "/panic-streaming":
				w.Write(make([]byte, 100<<10))
				panic("late boom")
			case "/abort":
				panic(http.ErrAbortHandler)
			}
			io.WriteString(w, "fine")
		}),
	}, "unix")

	tests := []struct {
		name, uri string
		check     func(t *testing.T, reply string)
		log       string
	}{
		{"before writing", "/panic", func(t *testing.T, reply string) {
			if want := errorReply("500 Internal Server Error", "scgi: internal server error"); reply != want {
				t.Errorf("reply %q, want %q", reply, want)
			}
		}, "boom"},
		{"while streaming", "/panic-streaming", func(t *testing.T, reply string) {
			if !strings.HasPrefix(reply, "Status: 200 OK\r\n") || strings.Contains(reply, "Content-Length") {
				t.Errorf("reply starts %q", reply[:min(len(reply), 80)])
			}
		}, "late boom"},
		{"ErrAbortHandler", "/abort", func(t *testing.T, reply string) {
			if reply != "" {
				t.Errorf("reply %q, want none", reply)
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, exchange(t, addr, request("", "REQUEST_URI", tt.uri), true))
			if _, body := call(t, addr, ""); body != "fine" {
				t.Errorf("next request got %q", body)
			}
			logged := logs.String()
			if tt.log != "" && (!strings.Contains(logged, "scgi: handler panic") || !strings.Contains(logged, tt.log) ||
				!strings.Contains(logged, "server_test.go")) {
				t.Errorf("log lacks the panic %q and its stack:\n%s", tt.log, logged)
			}
		})
	}
	if strings.Count(logs.String(), "handler panic") != 2 {
		t.Errorf("want two panics logged (none for ErrAbortHandler):\n%s", logs.String())
	}
}
