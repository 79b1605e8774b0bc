package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

func runMain(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := NewMain(&out, &out).Run(ctx, args)
	return out.String(), err
}

func TestInfoAndCallAgainstRTorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)

		out, err := runMain(t, "-rtorrent", rt.Addr(), "info")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, "rtorrent "+ver(t)+" at "+rt.Addr()+", ") || !strings.Contains(out, " methods") {
			t.Errorf("info printed %q", out)
		}

		// load.raw with @file sends the file as base64; the empty target is an
		// explicit '' argument, as in rtxmlrpc.
		tr := rtorrenttest.MakeTorrentBytes(t, "from-cli.bin", 5000)
		file := filepath.Join(t.TempDir(), "x.torrent")
		if err := os.WriteFile(file, tr.Bytes, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := runMain(t, "-rtorrent", rt.Addr(), "call", "load.raw", "", "@"+file, "d.custom1.set=cli"); err != nil || out != "0\n" {
			t.Fatalf("load.raw: %q, %v", out, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err = runMain(t, "-rtorrent", rt.Addr(), "call", "d.multicall2", "", "main", "d.hash=", "d.size_bytes=", "d.custom1=")
			if err != nil {
				t.Fatal(err)
			}
			if want := `[["` + tr.Hash + `", 5000, "cli"]]` + "\n"; out == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("d.multicall2 printed %q", out)
			}
			time.Sleep(20 * time.Millisecond)
		}

		// A fault is an error naming the method and rTorrent's message.
		_, err = runMain(t, "-rtorrent", rt.Addr(), "call", "no.such.method")
		if err == nil || !strings.Contains(err.Error(), "no.such.method") || !strings.Contains(err.Error(), "-506") {
			t.Errorf("unknown method: %v", err)
		}
	})
}

func TestRunStopsWithItsContext(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		var out syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- NewMain(&out, &out).Run(ctx, []string{"-rtorrent", rt.Addr(), "-http", "127.0.0.1:0", "run"})
		}()

		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "rtgate running") {
			if time.Now().After(deadline) {
				t.Fatalf("run never reported the connection; log:\n%s", out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(out.String(), "version="+ver(t)+"") {
			t.Errorf("log does not name the version:\n%s", out.String())
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("run did not return after its context ended")
		}
	})
}

// startRun runs `rtgate run` with args until the test ends and returns its
// log once it says it is running.
func startRun(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	return startMain(t, nil, args...).log
}

func TestServeLegacyDoors(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		sock := filepath.Join(t.TempDir(), "rtgate.sock")
		// The socket's group: one this process may give it and that differs
		// from its own when it can (root may name any: Debian's nogroup).
		g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
		if os.Getuid() == 0 {
			g, err = user.LookupGroup("nogroup")
		}
		if err != nil {
			t.Fatal(err)
		}
		log := startRun(t, "-rtorrent", rt.Addr(), "-scgi", sock, "-http", "127.0.0.1:0",
			"-config", writeConfig(t, "listen:\n  scgi_mode: \"0640\"\n  scgi_group: "+g.Name+"\n"))

		fi, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("socket mode %v, want 0640", fi.Mode().Perm())
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || strconv.Itoa(int(st.Gid)) != g.Gid {
			t.Errorf("socket group %v, want %s", fi.Sys(), g.Name)
		}

		// SCGI, as Flood and rtxmlrpc speak it.
		c, err := rtorrent.New("unix://"+sock, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		v, err := c.Call(ctx, "system.client_version")
		if err != nil || v.String() != ver(t) {
			t.Fatalf("version through rtgate: %v, %v", v, err)
		}
		_, err = c.Call(ctx, "execute.throw", xmlrpc.NewString(""), xmlrpc.NewString("touch"), xmlrpc.NewString("/tmp/pwned"))
		var fault *xmlrpc.Fault
		if !errors.As(err, &fault) || fault.Code != xmlrpc.FaultRefused || !strings.Contains(fault.Message, "execute.throw") {
			t.Errorf("execute.throw through rtgate: %v, want fault -507 naming it", err)
		}

		// Downloads may be placed below rTorrent's directory.default, and
		// nowhere else.
		tr := rtorrenttest.MakeTorrentBytes(t, "placed.bin", 1000)
		load := func(dir string) error {
			_, err := c.Call(ctx, "load.raw", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes), xmlrpc.NewString(`d.directory.set="`+dir+`"`))
			return err
		}
		if err := load("/tmp/elsewhere"); !errors.As(err, &fault) || fault.Code != xmlrpc.FaultRefused || !strings.Contains(fault.Message, "outside the allowed directories") {
			t.Errorf("load into /tmp/elsewhere: %v, want -507 outside the allowed directories", err)
		}
		if err := load(filepath.Join(rt.DownloadDir, "sub")); err != nil {
			t.Errorf("load below directory.default: %v", err)
		}
		if !strings.Contains(log.String(), "clients may place downloads below") {
			t.Errorf("the log does not say where downloads may go:\n%s", log.String())
		}

		// HTTP /RPC2, as nginx's scgi_pass and xmlrpc.client speak it.
		m := regexp.MustCompile(`msg="http listening" addr=(\S+)`).FindStringSubmatch(log.String())
		if m == nil {
			t.Fatalf("no http address in the log:\n%s", log.String())
		}
		body := `<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>`
		resp, err := http.Post("http://"+m[1]+"/RPC2", "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(got), "<string>"+ver(t)+"</string>") {
			t.Errorf("/RPC2: %s %s", resp.Status, got)
		}
	})
}

func TestServeRefusesUnsafeListeners(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		tests := []struct {
			name    string
			args    []string
			wantErr string
		}{
			{name: "http off loopback without a token", args: []string{"-http", "0.0.0.0:0"}, wantErr: "set auth.token_file"},
			{name: "scgi over tcp off loopback", args: []string{"-http", "", "-scgi", "tcp://0.0.0.0:0"}, wantErr: "SCGI cannot authenticate"},
		}
		rt := rtorrenttest.Start(t, nil)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := runMain(t, append([]string{"-rtorrent", rt.Addr()}, append(tt.args, "run")...)...)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			})
		}
	})
}

// ver is the version of the rTorrent the test runs against, as
// system.client_version answers it.
func ver(t testing.TB) string { return rtorrenttest.VersionOf(t).Name }

// TestStopDuringHashCheck: Flood's stop (d.stop and d.close in one
// system.multicall) of a download under its hash check, sent through
// rtgate, stops it and leaves rTorrent answering, on both versions. rTorrent
// 0.9.8 has been seen to hang for good on such a stop (see
// rtorrent.HoldDuringCheck), so on 0.9.8 rtgate holds the call until
// rTorrent says the check is over (d.hashing 0); 0.16.17 aborts the check
// itself and gets the stop at once.
func TestStopDuringHashCheck(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		sock := filepath.Join(shortDir(t), "rtgate.sock")
		// The guard's questions to rTorrent, and their answers.
		var mu sync.Mutex
		var hashing []int64
		watch := func(c gateway.Caller) gateway.Caller {
			return callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
				v, err := c.Call(ctx, method, params...)
				if method == "d.hashing" && err == nil {
					mu.Lock()
					hashing = append(hashing, v.Int())
					mu.Unlock()
				}
				return v, err
			})
		}
		startMain(t, func(m *Main) { m.wrapBackend = watch }, "-rtorrent", rt.Addr(), "-http", "", "-scgi", sock)
		c, err := rtorrent.New("unix://"+sock, &rtorrent.Options{Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		tr := rtorrenttest.MakeSparseTorrent(t, rt.DownloadDir, "check.bin", 2<<30)
		h := xmlrpc.NewString(tr.Hash)
		if _, err := c.Call(ctx, "load.raw_start", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
			t.Fatal(err)
		}
		rtorrenttest.WaitLoaded(t, c, tr.Hash)
		chunks, err := c.Call(ctx, "d.size_chunks", h)
		if err != nil {
			t.Fatal(err)
		}
		rtorrenttest.WaitFor(t, "the check under way", func() bool {
			v, err := c.Call(ctx, "d.chunks_hashed", h)
			return err == nil && v.Int() > 0 && v.Int() < chunks.Int()/2
		})
		mu.Lock()
		hashing = nil
		mu.Unlock()
		res, err := c.SystemMulticall(ctx, []rtorrent.MethodCall{{Method: "d.stop", Params: []xmlrpc.Value{h}}, {Method: "d.close", Params: []xmlrpc.Value{h}}})
		if err != nil || res[0].Fault != nil || res[1].Fault != nil {
			t.Fatalf("Flood's stop through rtgate: %+v, %v", res, err)
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = rt.Client(t).Call(pctx, "system.pid")
		cancel()
		if err != nil {
			t.Fatalf("rTorrent does not answer after the stop: %v", err)
		}
		if v, err := c.Call(ctx, "d.state", h); err != nil || v.Int() != 0 {
			t.Errorf("d.state = %v, %v after the stop", v, err)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case rt.Version.Legacy() && (len(hashing) < 2 || hashing[0] == 0 || hashing[len(hashing)-1] != 0):
			t.Errorf("0.9.8: the guard saw d.hashing %v before the stop; want the check running, then over", hashing)
		case !rt.Version.Legacy() && len(hashing) != 0:
			t.Errorf("0.16.17: the guard asked d.hashing %v; want the stop sent at once", hashing)
		}
	})
}
