package scgi_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/scgi"
)

// TestMain fails the run if a goroutine is still alive once every test and
// benchmark has finished.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tempDir returns a directory with a path short enough for a unix socket
// (t.TempDir's can exceed the 108-byte limit with long test names).
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "scgi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// listen opens a listener on a fresh unix socket or loopback TCP port and
// returns it with the address a Client takes.
func listen(t testing.TB, network string) (net.Listener, string) {
	t.Helper()
	var l net.Listener
	var err error
	switch network {
	case "unix":
		l, err = net.Listen("unix", filepath.Join(tempDir(t), "s.sock"))
	case "tcp":
		l, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		t.Fatalf("network %q", network)
	}
	if err != nil {
		t.Fatal(err)
	}
	return l, network + "://" + l.Addr().String()
}

// startServer serves srv on a fresh socket until the test ends and returns
// the address for NewClient.
func startServer(t testing.TB, srv *scgi.Server, network string) string {
	t.Helper()
	l, addr := listen(t, network)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-errc; !errors.Is(err, scgi.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return addr
}

// splitAddr turns a Client address back into network and address.
func splitAddr(addr string) (network, address string) {
	network, address, _ = strings.Cut(addr, "://")
	return network, address
}

// exchange sends raw bytes to addr, half-closing after them if halfClose,
// and returns all it reads until the server closes.
func exchange(t testing.TB, addr string, raw []byte, halfClose bool) string {
	t.Helper()
	c, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	if halfClose {
		c.(interface{ CloseWrite() error }).CloseWrite()
	}
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("read: %v (after %q)", err, out)
	}
	return string(out)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// request returns an SCGI request with the given headers, CONTENT_LENGTH and
// SCGI first, and body.
func request(body string, headers ...string) []byte {
	var hs []scgi.Header
	for i := 0; i+1 < len(headers); i += 2 {
		hs = append(hs, scgi.Header{Name: headers[i], Value: headers[i+1]})
	}
	return scgi.AppendRequest(nil, hs, []byte(body))
}

// netstring frames a raw header block, for requests AppendRequest refuses
// to write.
func netstring(block string) string {
	return fmt.Sprintf("%d:%s,", len(block), block)
}

// errorReply is the full response a Server sends for a request it refuses.
func errorReply(status, msg string) string {
	return fmt.Sprintf("Status: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s\n", status, len(msg)+1, msg)
}

func headerNames(hs []scgi.Header) []string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	return names
}

// dialRaw connects to a Client address without SCGI.
// (Not net.Dial(splitAddr(addr)): vet's hostport check crashes on it in Go 1.26.)
func dialRaw(addr string) (net.Conn, error) {
	network, address := splitAddr(addr)
	return net.Dial(network, address)
}
