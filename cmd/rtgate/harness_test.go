package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// started is a `rtgate run` under test.
type started struct {
	m   *Main
	log *syncBuffer
}

// startMain runs `rtgate run` with args until the test ends and returns
// once it says it is running. prepare, if not nil, adjusts the Main first
// (test hooks).
func startMain(t testing.TB, prepare func(*Main), args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	m := NewMain(out, out)
	if prepare != nil {
		prepare(m)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append(args, "run")) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "rtgate running") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("rtgate stopped before it ran: %v; log:\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rtgate never said it runs; log:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &started{m: m, log: out}
}

var httpListening = regexp.MustCompile(`msg="http listening" addr=(\S+)`)

// httpAddr returns the host:port of the first HTTP listener the log names.
func (s *started) httpAddr(t testing.TB) string {
	t.Helper()
	m := httpListening.FindStringSubmatch(s.log.String())
	if m == nil {
		t.Fatalf("no http address in the log:\n%s", s.log.String())
	}
	return m[1]
}

// writeConfig writes yaml to a config file for the test and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rtgate.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// post sends body to url with the content type and returns the status and
// body; err is for a request that got no answer.
func post(ctx context.Context, hc *http.Client, url, contentType, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

const versionXML = `<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>`
const versionJSON = `{"jsonrpc":"2.0","id":1,"method":"system.client_version","params":[]}`

// hangingSCGI is a fake rTorrent for the one fault a real one cannot be
// made to produce on demand: it accepts connections, reads the requests
// and never answers. It is closed when the test ends.
type hangingSCGI struct {
	sock string
	l    net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open []net.Conn
}

func startHangingSCGI(t *testing.T) *hangingSCGI {
	t.Helper()
	h := &hangingSCGI{sock: filepath.Join(shortDir(t), "hang.sock")}
	l, err := net.Listen("unix", h.sock)
	if err != nil {
		t.Fatal(err)
	}
	h.l = l
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.open = append(h.open, c)
			h.mu.Unlock()
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				io.Copy(io.Discard, c) // until the client gives up
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		h.mu.Lock()
		for _, c := range h.open {
			c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
	})
	return h
}

// shortDir returns a temporary directory with a path short enough for a
// unix socket.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rtg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// staleSocket returns the path of a unix socket file that nothing listens
// on: connecting to it is refused, as a busy rTorrent refuses.
func staleSocket(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(shortDir(t), "stale.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	return sock
}

// bodyHas reports whether a reply body holds every one of wants.
func bodyHas(body string, wants ...string) bool {
	for _, w := range wants {
		if !bytes.Contains([]byte(body), []byte(w)) {
			return false
		}
	}
	return true
}
