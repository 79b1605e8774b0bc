package scgi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtgate/rtgate/scgi"
)

// startRTorrent runs a throwaway rTorrent on a temporary unix socket until
// the test ends and returns its address. It skips the test when rtorrent is
// not installed, except in CI.
func startRTorrent(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("rtorrent")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("rtorrent is required in CI: %v", err)
		}
		t.Skipf("rtorrent not installed: %v", err)
	}
	dir := tempDir(t)
	for _, d := range []string{"dl", "session"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "rpc.sock")
	port := freePort(t)
	rc := filepath.Join(dir, "rc")
	err = os.WriteFile(rc, []byte(fmt.Sprintf(`directory.default.set = %[1]s/dl
session.path.set = %[1]s/session
network.scgi.open_local = %[2]s
network.port_range.set = %[3]d-%[3]d
network.bind_address.set = 127.0.0.1
dht.mode.set = disable
protocol.pex.set = no
system.daemon.set = true
`, dir, sock, port)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "rtorrent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-o", "import="+rc)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdout, cmd.Stderr = logf, logf // files: no copying goroutines
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		kill := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		kill.Stop()
		logf.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logf.Name())
			t.Logf("rtorrent output:\n%s", out)
		}
	})
	return "unix://" + sock
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func methodCall(method string) string {
	return `<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params></params></methodCall>`
}

// TestRTorrent runs the Client against a real rTorrent 0.9.8, and the Server
// in front of it as a pass-through proxy.
func TestRTorrent(t *testing.T) {
	addr := startRTorrent(t)
	// The socket appears within about a second: the connect retries wait.
	c, err := scgi.NewClient(addr, &scgi.ClientOptions{
		Retries: 100, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Headers: []scgi.Header{{"UNTRUSTED_CONNECTION", "0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	do := func(t *testing.T, c *scgi.Client, method string) (*scgi.Response, string) {
		t.Helper()
		resp, err := c.Do(ctx, "text/xml", []byte(methodCall(method)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml" || resp.ContentLength != int64(len(body)) {
			t.Errorf("%s: %s %q, length %d for %d bytes", method, resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength, len(body))
		}
		return resp, string(body)
	}

	t.Run("system.client_version", func(t *testing.T) {
		if _, body := do(t, c, "system.client_version"); !strings.Contains(body, "<string>0.9.8</string>") {
			t.Errorf("body %q lacks 0.9.8", body)
		}
	})
	t.Run("system.listMethods", func(t *testing.T) {
		_, body := do(t, c, "system.listMethods")
		if n := strings.Count(body, "<string>"); n < 500 || !strings.Contains(body, "<string>d.multicall2</string>") {
			t.Errorf("%d methods listed", n)
		}
	})
	t.Run("fault", func(t *testing.T) {
		if _, body := do(t, c, "no.such.command"); !strings.Contains(body, "<fault>") {
			t.Errorf("body %q has no fault", body)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { do(t, c, "system.client_version") })
		}
		wg.Wait()
	})
	t.Run("through the Server", func(t *testing.T) {
		proxy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			resp, err := c.Do(r.Context(), r.Header.Get("Content-Type"), body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		})
		front := startServer(t, &scgi.Server{Handler: proxy}, "unix")
		for _, method := range []string{"system.client_version", "system.listMethods"} {
			_, direct := do(t, c, method)
			// As Flood does: half-close, read to EOF, SCGI headers and all.
			raw := exchange(t, front, request(methodCall(method), "CONTENT_TYPE", "text/xml"), true)
			resp, body := parse(t, raw)
			if body != direct || resp.ContentLength != -1 && resp.ContentLength != int64(len(direct)) {
				t.Errorf("%s through the Server: %s, %d bytes; direct: %d bytes", method, resp.Status, len(body), len(direct))
			}
		}
	})
}
