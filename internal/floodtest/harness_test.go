package floodtest_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rtgate/rtgate/internal/floodtest"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

func TestCloseStopsFlood(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		f := floodtest.Start(t, floodtest.Options{RTSocket: rt.Socket})
		pid := f.PID()
		if pid == 0 {
			t.Fatal("no pid after Start")
		}
		f.Close()
		proc, err := os.FindProcess(pid)
		if err == nil {
			err = proc.Signal(syscall.Signal(0))
		}
		if !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("Flood (pid %d) still there after Close: signal 0 = %v", pid, err)
		}
		if log := f.Log(); !strings.Contains(log, "Flood server 4.11.0 starting") {
			t.Errorf("Log after Close lost Flood's output:\n%s", log)
		}
		if _, err := f.Torrents(t.Context()); err == nil {
			t.Error("Torrents after Close succeeded")
		}
		f.Close() // idempotent
	})
}

// TestTCPEndpoint points Flood at rTorrent through a TCP relay, with
// --rthost/--rtport directly and through the tap.
func TestTCPEndpoint(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		addr := relayTCP(t, rt.Socket)
		for _, tap := range []bool{false, true} {
			t.Run(fmt.Sprintf("tap=%v", tap), func(t *testing.T) {
				f := floodtest.Start(t, floodtest.Options{RTHost: addr.IP.String(), RTPort: addr.Port, Tap: tap})
				if ok, err := f.ConnectionTest(t.Context()); err != nil || !ok {
					t.Fatalf("ConnectionTest = %v, %v; want true", ok, err)
				}
				if tap && len(f.Calls()) == 0 {
					t.Error("tap saw no calls")
				}
				if !rt.Version.Legacy() {
					settingsFailOn016(t, f)
				} else if _, err := f.Settings(t.Context()); err != nil {
					t.Error(err)
				}
			})
		}
	})
}

// TestEndpointDown shows what Flood does when nothing answers: it starts
// all the same, reports no connection, and fails requests with 500.
func TestEndpointDown(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "nobody.sock")
	f := floodtest.Start(t, floodtest.Options{RTSocket: sock, Tap: true})
	if ok, err := f.ConnectionTest(t.Context()); err != nil || ok {
		t.Errorf("ConnectionTest = %v, %v; want false, nil", ok, err)
	}
	_, err := f.Torrents(t.Context())
	var apiErr *floodtest.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusInternalServerError {
		t.Errorf("Torrents = %v, want a 500 *APIError", err)
	}
	calls := f.Calls()
	if len(calls) == 0 || calls[0].Err == nil {
		t.Errorf("tap calls = %+v, want failed relays", calls)
	}
}

func TestStartOptions(t *testing.T) {
	tests := []struct {
		name string
		opts floodtest.Options
		want string
	}{
		{"none", floodtest.Options{}, "needs RTSocket"},
		{"both", floodtest.Options{RTSocket: "/x", RTHost: "127.0.0.1", RTPort: 1}, "conflict"},
		{"host without port", floodtest.Options{RTHost: "127.0.0.1"}, "needs RTSocket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := expectExit(t, func(tb testing.TB) { floodtest.Start(tb, tt.opts) })
			if rec.skip != "" {
				t.Skip(rec.skip)
			}
			if !strings.Contains(rec.fatal, tt.want) {
				t.Errorf("Start failed with %q, want %q", rec.fatal, tt.want)
			}
		})
	}
}

func TestRepoRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := floodtest.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Dir(filepath.Dir(wd)); root != want {
		t.Errorf("RepoRoot(%s) = %s, want %s", wd, root, want)
	}
	if _, err := floodtest.RepoRoot(string(filepath.Separator)); err == nil {
		t.Error("RepoRoot(/) found a go.mod")
	}
}

// relayTCP serves SCGI on a TCP port of 127.0.0.1 by relaying each
// connection to a Unix socket, until the test ends.
func relayTCP(t *testing.T, socket string) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer up.Close()
				wg.Add(1)
				go func() {
					defer wg.Done()
					io.Copy(up, c)
					up.(*net.UnixConn).CloseWrite()
				}()
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}

// fatalTB stands in for a test whose failure or skip is the expected
// outcome: it records the message and ends the goroutine, as testing does.
type fatalTB struct {
	testing.TB
	fatal, skip string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Skip(args ...any) {
	f.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

// expectExit runs fn with a fatalTB on its own goroutine and returns the
// recorder once fn has returned or called Fatalf or Skip.
func expectExit(t *testing.T, fn func(tb testing.TB)) *fatalTB {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// settingsFailOn016 checks Flood 4.11's failure on rTorrent 0.16.17's
// settings, measured: 0.16 lacks network.http.max_open, so Flood puts its
// placeholder "false=" in the settings system.multicall, as a method name,
// which rTorrent faults (-506), and Flood fails the whole page.
func settingsFailOn016(t *testing.T, f *floodtest.Flood) {
	t.Helper()
	_, err := f.Settings(t.Context())
	var apiErr *floodtest.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusInternalServerError || !strings.Contains(apiErr.Body, "Method 'false=' not defined") {
		t.Errorf("Flood's settings on 0.16.17: %v; want HTTP 500 Method 'false=' not defined", err)
	}
}
