package scgi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rtgate/rtgate/scgi"
)

func TestNewClientAddress(t *testing.T) {
	tests := []struct {
		addr                    string
		network, address, canon string
	}{
		{"unix:///run/rtorrent.sock", "unix", "/run/rtorrent.sock", "unix:///run/rtorrent.sock"},
		{"unix:rpc.sock", "unix", "rpc.sock", "unix:rpc.sock"},
		{"unix:dir/rpc.sock", "unix", "dir/rpc.sock", "unix:dir/rpc.sock"},
		{"unix:/abs.sock", "unix", "/abs.sock", "unix:///abs.sock"},
		{"/home/u/.rtorrent/rpc.socket", "unix", "/home/u/.rtorrent/rpc.socket", "unix:///home/u/.rtorrent/rpc.socket"},
		{"tcp://127.0.0.1:5000", "tcp", "127.0.0.1:5000", "tcp://127.0.0.1:5000"},
		{"tcp://[::1]:5000", "tcp", "[::1]:5000", "tcp://[::1]:5000"},
		{"localhost:5000", "tcp", "localhost:5000", "tcp://localhost:5000"},
		{"seedbox.example:scgi", "tcp", "seedbox.example:scgi", "tcp://seedbox.example:scgi"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			c, err := scgi.NewClient(tt.addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Network() != tt.network || c.Address() != tt.address || c.String() != tt.canon {
				t.Errorf("got %q %q %q, want %q %q %q", c.Network(), c.Address(), c.String(), tt.network, tt.address, tt.canon)
			}
		})
	}

	bad := []struct{ addr, msg string }{
		{"", `scgi: address empty address`},
		{"rpc.sock", `scgi: address "rpc.sock": want host:port (a relative unix socket path is written unix:rpc.sock)`},
		{"unix://rel.sock", `scgi: address "unix://rel.sock": unix:// takes an absolute path (unix:///abs/path); write unix:rel/path for a relative one`},
		{"unix:", `scgi: address "unix:": empty socket path`},
		{"tcp://host", `scgi: address "tcp://host": want host:port`},
		{"tcp://host:", `scgi: address "tcp://host:": missing port`},
		{"tcp://host:80/RPC2", `scgi: address "tcp://host:80/RPC2": want host:port without a path`},
		{"host:", `scgi: address "host:": missing port (a relative unix socket path is written unix:host:)`},
		{"http://localhost:80", `scgi: address "http://localhost:80": unsupported scheme "http" (want unix:// or tcp://)`},
		{"scgi://localhost:5000", `scgi: address "scgi://localhost:5000": unsupported scheme "scgi" (want unix:// or tcp://)`},
	}
	for _, tt := range bad {
		t.Run(tt.addr, func(t *testing.T) {
			c, err := scgi.NewClient(tt.addr, nil)
			if c != nil || err == nil || err.Error() != tt.msg {
				t.Errorf("NewClient = %v, %v; want error %s", c, err, tt.msg)
			}
		})
	}
}

func TestNewClientHeaders(t *testing.T) {
	tests := []struct {
		name    string
		headers []scgi.Header
		msg     string
	}{
		{"CONTENT_LENGTH", []scgi.Header{{"CONTENT_LENGTH", "1"}}, "scgi: ClientOptions.Headers: CONTENT_LENGTH is set by the Client"},
		{"SCGI", []scgi.Header{{"SCGI", "1"}}, "scgi: ClientOptions.Headers: SCGI is set by the Client"},
		{"CONTENT_TYPE", []scgi.Header{{"CONTENT_TYPE", "x"}}, "scgi: ClientOptions.Headers: CONTENT_TYPE is set by the Client"},
		{"empty name", []scgi.Header{{"A", "1"}, {"", "1"}}, "scgi: ClientOptions.Headers[1]: empty header name"},
		{"NUL in value", []scgi.Header{{"A", "1\x002"}}, "scgi: ClientOptions.Headers[0]: header A: value contains a NUL byte"},
		{"duplicate", []scgi.Header{{"A", "1"}, {"A", "2"}}, "scgi: ClientOptions.Headers: duplicate A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scgi.NewClient("/x.sock", &scgi.ClientOptions{Headers: tt.headers})
			if err == nil || err.Error() != tt.msg {
				t.Errorf("NewClient error %v, want %s", err, tt.msg)
			}
		})
	}
}

// fakeServer accepts connections on a fresh unix socket and runs handle on
// each until the test ends, when done is closed. It stands in for rTorrent
// where a test needs a fault a real one does not produce. accepted counts
// connections.
func fakeServer(t *testing.T, handle func(c net.Conn, done <-chan struct{})) (addr string, accepted *atomic.Int32) {
	t.Helper()
	l, addr := listen(t, "unix")
	accepted = new(atomic.Int32)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			wg.Go(func() {
				defer c.Close()
				handle(c, done)
			})
		}
	})
	t.Cleanup(func() {
		close(done)
		l.Close()
		wg.Wait()
	})
	return addr, accepted
}

// reply is a fakeServer handler that reads the request, then writes raw.
func reply(raw string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, _ <-chan struct{}) {
		br := bufio.NewReader(c)
		if _, n, err := scgi.ReadRequest(br, scgi.Limits{}); err == nil {
			io.CopyN(io.Discard, br, n)
		}
		io.WriteString(c, raw)
	}
}

func TestClientSendsHeaders(t *testing.T) {
	tests := []struct {
		name        string
		opts        *scgi.ClientOptions
		contentType string
		want        []scgi.Header
	}{
		{"defaults", nil, "text/xml", []scgi.Header{
			{"CONTENT_LENGTH", "6"}, {"SCGI", "1"}, {"CONTENT_TYPE", "text/xml"},
			{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/RPC2"}}},
		{"no content type", nil, "", []scgi.Header{
			{"CONTENT_LENGTH", "6"}, {"SCGI", "1"}, {"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/RPC2"}}},
		{"extra headers and overrides", &scgi.ClientOptions{Headers: []scgi.Header{
			{"UNTRUSTED_CONNECTION", "1"}, {"REQUEST_URI", "/other"}, {"HTTP_X_A", "b"}}},
			"application/json", []scgi.Header{
				{"CONTENT_LENGTH", "6"}, {"SCGI", "1"}, {"CONTENT_TYPE", "application/json"},
				{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/other"},
				{"UNTRUSTED_CONNECTION", "1"}, {"HTTP_X_A", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan []scgi.Header, 1)
			addr, _ := fakeServer(t, func(c net.Conn, _ <-chan struct{}) {
				br := bufio.NewReader(c)
				headers, n, err := scgi.ReadRequest(br, scgi.Limits{})
				if err != nil {
					t.Errorf("ReadRequest: %v", err)
					return
				}
				body, _ := io.ReadAll(br) // to EOF: the client half-closed
				if int64(len(body)) != n {
					t.Errorf("body %q, want %d bytes", body, n)
				}
				seen <- headers
				io.WriteString(c, "Status: 200 OK\r\n\r\nok")
			})
			c, err := scgi.NewClient(addr, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(context.Background(), tt.contentType, []byte("<x/>\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "ok" || err != nil || resp.ContentLength != -1 {
				t.Errorf("body %q, %v, length %d", body, err, resp.ContentLength)
			}
			if got := <-seen; !slices.Equal(got, tt.want) {
				t.Errorf("server saw %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestClientFixtures(t *testing.T) {
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			addr, _ := fakeServer(t, reply(string(raw)))
			resp, body := call(t, addr, "<methodCall/>")
			_, want, _ := strings.Cut(string(raw), "\r\n\r\n")
			if resp.StatusCode != 200 || body != want || resp.ContentLength != int64(len(want)) {
				t.Errorf("got %s, %d of %d bytes", resp.Status, len(body), len(want))
			}
		})
	}
}

// countingDial dials for real, counting attempts, after failing the first
// ones with the given errors.
func countingDial(n *atomic.Int32, fail ...error) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		i := int(n.Add(1)) - 1
		if i < len(fail) {
			return nil, fail[i]
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "dial timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClientRetry(t *testing.T) {
	fast := func(retries int) *scgi.ClientOptions {
		return &scgi.ClientOptions{Retries: retries, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	}

	t.Run("socket appears late", func(t *testing.T) {
		path := filepath.Join(tempDir(t), "late.sock")
		srv := &scgi.Server{Handler: echo}
		served := make(chan error, 1)
		timer := time.AfterFunc(150*time.Millisecond, func() {
			l, err := net.Listen("unix", path)
			if err != nil {
				served <- err
				return
			}
			served <- srv.Serve(l)
		})
		t.Cleanup(func() {
			if timer.Stop() {
				return
			}
			srv.Close()
			if err := <-served; err != scgi.ErrServerClosed {
				t.Errorf("Serve: %v", err)
			}
		})
		var attempts atomic.Int32
		c, _ := scgi.NewClient("unix://"+path, &scgi.ClientOptions{
			Retries: 50, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
			DialContext: countingDial(&attempts),
		})
		resp, err := c.Do(context.Background(), "text/xml", []byte("<late/>"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "<late/>" || attempts.Load() < 2 {
			t.Errorf("body %q after %d attempts", body, attempts.Load())
		}
	})

	stale := func(t *testing.T) string {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(tempDir(t), "stale.sock"), Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		l.SetUnlinkOnClose(false)
		l.Close()
		return "unix://" + l.Addr().String()
	}
	refusedTCP := func(t *testing.T) string {
		l, addr := listen(t, "tcp")
		l.Close()
		return addr
	}
	missing := func(t *testing.T) string { return "unix://" + filepath.Join(tempDir(t), "missing.sock") }

	tests := []struct {
		name     string
		addr     func(t *testing.T) string
		opts     *scgi.ClientOptions
		attempts int
		msg      string // %s is the address
		is       error
	}{
		{"socket never appears", missing, fast(3), 4, "dial scgi %s: 4 attempts: connect: no such file or directory", syscall.ENOENT},
		{"stale socket file", stale, fast(2), 3, "dial scgi %s: 3 attempts: connect: connection refused", syscall.ECONNREFUSED},
		{"tcp refused", refusedTCP, fast(1), 2, "dial scgi %s: 2 attempts: connect: connection refused", syscall.ECONNREFUSED},
		{"no retries", missing, fast(-1), 1, "dial scgi %s: 1 attempt: connect: no such file or directory", syscall.ENOENT},
		{"default retries", missing, &scgi.ClientOptions{MinBackoff: time.Millisecond}, 5, "dial scgi %s: 5 attempts: connect: no such file or directory", syscall.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr(t)
			c, err := scgi.NewClient(addr, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Do(context.Background(), "", nil)
			var de *scgi.DialError
			if !errors.As(err, &de) || de.Attempts != tt.attempts || !errors.Is(err, tt.is) ||
				err.Error() != fmt.Sprintf(tt.msg, c) {
				t.Errorf("Do error %v, want %s", err, fmt.Sprintf(tt.msg, c))
			}
		})
	}

	t.Run("transient dial errors are retried", func(t *testing.T) {
		addr := startServer(t, &scgi.Server{Handler: echo}, "unix")
		var attempts atomic.Int32
		eagain := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EAGAIN)}
		opts := fast(5)
		opts.DialContext = countingDial(&attempts, eagain, timeoutError{}, eagain)
		c, _ := scgi.NewClient(addr, opts)
		resp, err := c.Do(context.Background(), "", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if attempts.Load() != 4 {
			t.Errorf("%d attempts, want 4", attempts.Load())
		}
	})

	t.Run("other dial errors are not", func(t *testing.T) {
		var attempts atomic.Int32
		opts := fast(5)
		opts.DialContext = countingDial(&attempts, errors.New("permission denied"))
		c, _ := scgi.NewClient("/nowhere.sock", opts)
		_, err := c.Do(context.Background(), "", nil)
		if err == nil || err.Error() != "dial scgi unix:///nowhere.sock: 1 attempt: permission denied" || attempts.Load() != 1 {
			t.Errorf("Do error %v after %d attempts", err, attempts.Load())
		}
	})

	t.Run("no retry once connected", func(t *testing.T) {
		tests := []struct {
			name   string
			handle func(net.Conn, <-chan struct{})
		}{
			{"closed at once", func(c net.Conn, _ <-chan struct{}) {}},
			{"closed after reading the request", reply("")},
			{"closed mid-header", reply("Status: 200 OK\r\nContent-")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				addr, accepted := fakeServer(t, tt.handle)
				c, _ := scgi.NewClient(addr, fast(5))
				resp, err := c.Do(context.Background(), "text/xml", []byte("<methodCall/>"))
				var de *scgi.DialError
				if err == nil || errors.As(err, &de) || !strings.HasPrefix(err.Error(), "scgi "+c.String()+": ") {
					t.Errorf("Do = %v, %v; want a read or write error", resp, err)
				}
				if n := accepted.Load(); n != 1 {
					t.Errorf("server saw %d connections, want 1", n)
				}
			})
		}
	})

	t.Run("context ends the retries", func(t *testing.T) {
		c, _ := scgi.NewClient(missing(t), &scgi.ClientOptions{Retries: 1000, MinBackoff: 10 * time.Millisecond, MaxBackoff: 10 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, "", nil)
		var de *scgi.DialError
		if !errors.As(err, &de) || de.Attempts < 2 || !errors.Is(err, syscall.ENOENT) || time.Since(start) > 3*time.Second {
			t.Errorf("Do error %v after %v", err, time.Since(start))
		}
	})

	t.Run("context already cancelled", func(t *testing.T) {
		var attempts atomic.Int32
		c, _ := scgi.NewClient(missing(t), &scgi.ClientOptions{DialContext: countingDial(&attempts)})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Do(ctx, "", nil)
		if !errors.Is(err, context.Canceled) || attempts.Load() != 0 {
			t.Errorf("Do error %v after %d attempts", err, attempts.Load())
		}
	})

	t.Run("cancel during backoff", func(t *testing.T) {
		c, _ := scgi.NewClient(missing(t), &scgi.ClientOptions{Retries: 3, MinBackoff: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Do(ctx, "", nil)
		want := fmt.Sprintf("dial scgi %s: 1 attempt: context canceled (last error: connect: no such file or directory)", c)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, syscall.ENOENT) || err.Error() != want {
			t.Errorf("Do error %v\nwant %s", err, want)
		}
	})
}

func TestClientContext(t *testing.T) {
	// hold answers with head, then holds the connection until the test ends.
	hold := func(head string) func(net.Conn, <-chan struct{}) {
		return func(c net.Conn, done <-chan struct{}) {
			reply(head)(c, done)
			<-done
		}
	}
	const prompt = 3 * time.Second // prompt, not hung: generous for a loaded CI machine

	t.Run("cancel while waiting for the reply", func(t *testing.T) {
		addr, _ := fakeServer(t, hold(""))
		c, _ := scgi.NewClient(addr, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Do(ctx, "", nil)
		want := fmt.Sprintf("scgi %s: read response: context canceled", c)
		if !errors.Is(err, context.Canceled) || err.Error() != want || time.Since(start) > prompt {
			t.Errorf("Do error %v after %v, want %s", err, time.Since(start), want)
		}
	})

	t.Run("deadline while waiting for the reply", func(t *testing.T) {
		addr, _ := fakeServer(t, hold("Status: 200 OK\r\n"))
		c, _ := scgi.NewClient(addr, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, "", nil)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > prompt {
			t.Errorf("Do error %v after %v", err, time.Since(start))
		}
	})

	t.Run("cancel mid-body", func(t *testing.T) {
		addr, _ := fakeServer(t, hold("Status: 200 OK\r\nContent-Length: 100\r\n\r\nfirst part"))
		c, _ := scgi.NewClient(addr, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, err := c.Do(ctx, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 100)
		if n, err := io.ReadAtLeast(resp.Body, buf, len("first part")); err != nil || string(buf[:n]) != "first part" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		if n, err := resp.Body.Read(buf); n != 0 || err != context.Canceled || time.Since(start) > prompt {
			t.Errorf("Read = %d, %v after %v; want context.Canceled", n, err, time.Since(start))
		}
	})

	t.Run("deadline mid-body", func(t *testing.T) {
		addr, _ := fakeServer(t, hold("Status: 200 OK\r\n\r\npart"))
		c, _ := scgi.NewClient(addr, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		resp, err := c.Do(ctx, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if string(body) != "part" || err != context.DeadlineExceeded {
			t.Errorf("ReadAll = %q, %v; want DeadlineExceeded", body, err)
		}
	})

	t.Run("Close interrupts a Read", func(t *testing.T) {
		addr, _ := fakeServer(t, hold("Status: 200 OK\r\n\r\n"))
		c, _ := scgi.NewClient(addr, nil)
		resp, err := c.Do(context.Background(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(50*time.Millisecond, func() { resp.Body.Close() })
		start := time.Now()
		if _, err := resp.Body.Read(make([]byte, 1)); err == nil || time.Since(start) > prompt {
			t.Errorf("Read = %v after %v", err, time.Since(start))
		}
		if err := resp.Body.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// TestClientEarlyAnswer checks that a server's answer before the end of the
// request (413 for an oversized body) reaches the caller rather than the
// broken pipe it causes.
func TestClientEarlyAnswer(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			addr := startServer(t, &scgi.Server{Handler: echo, Limits: scgi.Limits{MaxBodyBytes: 1 << 20}}, network)
			resp, body := call(t, addr, strings.Repeat("x", 8<<20))
			if resp.StatusCode != 413 || body != "scgi: body too large: CONTENT_LENGTH 8388608 exceeds 1048576 bytes\n" {
				t.Errorf("got %s %q", resp.Status, body)
			}
		})
	}
}

func TestClientConcurrent(t *testing.T) {
	addr := startServer(t, &scgi.Server{Handler: echo}, "unix")
	c, _ := scgi.NewClient(addr, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				want := fmt.Sprintf("<call g=%d i=%d/>", g, i)
				resp, err := c.Do(context.Background(), "text/xml", []byte(want))
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != want || err != nil {
					t.Errorf("got %q, %v; want %q", body, err, want)
				}
			}
		})
	}
	wg.Wait()
}
