package scgi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/scgi"
)

// blocker is a handler that signals each request's arrival and holds it
// until released.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		io.WriteString(w, "released")
	case <-r.Context().Done():
	}
}

// goCall runs call in a goroutine; wait returns its body.
func goCall(t *testing.T, addr string) (wait func() string) {
	var wg sync.WaitGroup
	var body string
	var err error
	wg.Go(func() {
		c, _ := scgi.NewClient(addr, nil)
		var resp *scgi.Response
		resp, err = c.Do(context.Background(), "", nil)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		var b []byte
		b, err = io.ReadAll(resp.Body)
		body = string(b)
	})
	return func() string {
		wg.Wait()
		if err != nil {
			t.Errorf("call: %v", err)
		}
		return body
	}
}

func TestServerMaxConns(t *testing.T) {
	var logs syncBuffer
	b := newBlocker()
	addr := startServer(t, &scgi.Server{Handler: b, MaxConns: 2, ErrorLog: slog.New(slog.NewTextHandler(&logs, nil))}, "unix")
	waits := []func() string{goCall(t, addr), goCall(t, addr)}
	<-b.entered
	<-b.entered

	resp, body := call(t, addr, "<methodCall/>")
	if resp.StatusCode != http.StatusServiceUnavailable || body != "scgi: too many connections\n" {
		t.Errorf("third connection got %q %q, want 503", resp.Status, body)
	}
	if !strings.Contains(logs.String(), "too many connections") {
		t.Errorf("rejection not logged: %q", logs.String())
	}
	close(b.release)
	for _, wait := range waits {
		if got := wait(); got != "released" {
			t.Errorf("held call got %q", got)
		}
	}
	// The held connections go away a moment after their replies.
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, body := call(t, addr, "")
		if resp.StatusCode == 200 && body == "released" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused: %s %q", resp.Status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerShutdown(t *testing.T) {
	b := newBlocker()
	srv := &scgi.Server{Handler: b}
	addr := startServer(t, srv, "unix")
	wait := goCall(t, addr)
	<-b.entered

	idle, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(20 * time.Millisecond) // let the server accept it

	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(context.Background()) }()

	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("silent connection: read %d, %v; want it closed", n, err)
	}
	if c, err := dialRaw(addr); err == nil {
		c.Close()
		t.Error("still accepting after Shutdown")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(b.release)
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if got := wait(); got != "released" {
		t.Errorf("request in flight got %q", got)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestServerShutdownTimeoutThenClose(t *testing.T) {
	b := newBlocker()
	srv := &scgi.Server{Handler: b}
	addr := startServer(t, srv, "unix")
	c, _ := scgi.NewClient(addr, nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := c.Do(context.Background(), "", nil)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		errc <- err
	}()
	<-b.entered

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	// Close cancels the handler's context, which ends it, and waits for it.
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := <-errc; err == nil {
		t.Error("the interrupted call succeeded")
	}
}

func TestServerClosed(t *testing.T) {
	srv := &scgi.Server{Handler: echo}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	l, _ := listen(t, "unix")
	if err := srv.Serve(l); err != scgi.ErrServerClosed {
		t.Errorf("Serve after Close = %v, want ErrServerClosed", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve left its listener open: %v", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after Close: %v", err)
	}
}

func TestServe(t *testing.T) {
	l, addr := listen(t, "tcp")
	errc := make(chan error, 1)
	go func() { errc <- scgi.Serve(l, echo) }()
	if _, body := call(t, addr, "<ping/>"); body != "<ping/>" {
		t.Errorf("body %q", body)
	}
	l.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve = %v, want net.ErrClosed", err)
	}
}

func TestServerTimeouts(t *testing.T) {
	t.Run("WriteTimeout stops a handler writing to a client that does not read", func(t *testing.T) {
		errc := make(chan error, 1)
		addr := startServer(t, &scgi.Server{WriteTimeout: 200 * time.Millisecond, Handler: http.HandlerFunc(
			func(w http.ResponseWriter, r *http.Request) {
				chunk := make([]byte, 64<<10)
				for {
					if _, err := w.Write(chunk); err != nil {
						errc <- err
						return
					}
				}
			})}, "unix")
		c, err := dialRaw(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(request(""))
		select {
		case err := <-errc:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("Write error %v, want a deadline error", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler still writing")
		}
	})

	t.Run("ReadTimeout covers the body", func(t *testing.T) {
		h, seen := recorder()
		addr := startServer(t, &scgi.Server{ReadTimeout: 200 * time.Millisecond, Handler: h}, "unix")
		c, err := dialRaw(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		raw := request("0123456789")
		c.Write(raw[:len(raw)-5]) // and the rest never comes
		select {
		case got := <-seen:
			if !strings.HasPrefix(got.Body, "error: ") || !strings.Contains(got.Body, "timeout") {
				t.Errorf("handler read %q, want a timeout", got.Body)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler still reading")
		}
	})
}
