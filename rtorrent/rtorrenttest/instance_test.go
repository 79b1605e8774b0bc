package rtorrenttest_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

func TestStartAnswers(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)

		raw, err := rt.RawCall(t.Context(), methodCall("system.client_version"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(raw, []byte("Status: 200 OK\r\n")) || !bytes.Contains(raw, []byte(rt.Version.Name)) {
			t.Fatalf("system.client_version: got %q, want a 200 reply with %s", raw, rt.Version.Name)
		}
		if got, want := rt.Addr(), "unix://"+rt.Socket; got != want {
			t.Errorf("Addr() = %q, want %q", got, want)
		}
		if got := call(t, rt, "system.pid"); got != int64(rt.PID()) {
			t.Errorf("system.pid = %v, PID() = %d", got, rt.PID())
		}
		if got := call(t, rt, "network.listen.port"); got != int64(rt.Port) {
			t.Errorf("network.listen.port = %v, Port = %d", got, rt.Port)
		}
		if got := call(t, rt, "network.xmlrpc.size_limit"); got != int64(16<<20) {
			t.Errorf("network.xmlrpc.size_limit = %v, want 16 MiB", got)
		}
		if got := call(t, rt, "directory.default"); got != rt.DownloadDir {
			t.Errorf("directory.default = %v, want %q", got, rt.DownloadDir)
		}
		if got := call(t, rt, "session.path"); strings.TrimSuffix(got.(string), "/") != rt.SessionDir {
			t.Errorf("session.path = %v, want %q", got, rt.SessionDir)
		}
		if !strings.HasPrefix(rt.Log(), "rtorrenttest: run 1:") {
			t.Errorf("Log() = %q, want the harness's run line first", rt.Log())
		}
	})
}

func TestStartOptions(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		dl := filepath.Join(t.TempDir(), "dir with spaces, and a comma")
		rt := rtorrenttest.Start(t, &rtorrenttest.Options{
			SizeLimit:   1 << 20,
			DownloadDir: dl,
			ExtraRC:     []string{"throttle.global_up.max_rate.set_kb = 123", `method.insert = rtgate.answer, value, 42`},
		})
		for _, tc := range []struct {
			name   string
			method string
			want   any
		}{
			{name: "size limit", method: "network.xmlrpc.size_limit", want: int64(1 << 20)},
			{name: "download dir", method: "directory.default", want: dl},
			{name: "extra rc", method: "throttle.global_up.max_rate", want: int64(123 << 10)},
			{name: "extra rc method", method: "rtgate.answer", want: int64(42)},
		} {
			if got := call(t, rt, tc.method); got != tc.want {
				t.Errorf("%s: %s = %v, want %v", tc.name, tc.method, got, tc.want)
			}
		}
	})
}

func TestStartRejectsUnquotablePath(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		f := expectExit(t, func(tb testing.TB) {
			rtorrenttest.Start(tb, &rtorrenttest.Options{DownloadDir: filepath.Join(t.TempDir(), `say "hi"`)})
		})
		if !strings.Contains(f.fatal, "quote") {
			t.Errorf("fatal %q, want a complaint about the quote", f.fatal)
		}
	})
}

func TestStartFailsWithRTorrentsMessage(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		f := expectExit(t, func(tb testing.TB) {
			rtorrenttest.Start(tb, &rtorrenttest.Options{ExtraRC: []string{"no.such.command = 1"}})
		})
		if want := `Command "no.such.command" does not exist.`; !strings.Contains(f.fatal, want) {
			t.Fatalf("Start with a bad rc line failed with %q, want it to quote rTorrent: %s", f.fatal, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Start took %v to notice rTorrent exited", d)
		}
	})
}

func TestStartWithoutRTorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		t.Setenv("RTGATE_SID_ROOT", t.TempDir())
		for _, tc := range []struct {
			name      string
			ci        string
			wantSkip  string
			wantFatal string
		}{
			{name: "local", ci: "", wantSkip: "rtorrent not installed"},
			{name: "ci", ci: "true", wantFatal: rtorrenttest.VersionOf(t).InstallHint()},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Setenv("CI", tc.ci)
				f := expectExit(t, func(tb testing.TB) { rtorrenttest.Start(tb, nil) })
				if !strings.Contains(f.skip, tc.wantSkip) || !strings.Contains(f.fatal, tc.wantFatal) ||
					(tc.wantSkip == "") != (f.skip == "") || (tc.wantFatal == "") != (f.fatal == "") {
					t.Errorf("skip %q, fatal %q; want skip %q, fatal %q", f.skip, f.fatal, tc.wantSkip, tc.wantFatal)
				}
			})
		}
	})
}

// TestHashCheck proves that rTorrent accepts the data MakeTorrent writes:
// loaded from the instance's download directory, each torrent passes its
// hash check and becomes complete.
func TestHashCheck(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		for _, tc := range []struct {
			name string
			size int64
			opts *rtorrenttest.TorrentOptions
		}{
			{name: "single", size: 100_000},
			{name: "one-byte", size: 1},
			{name: "multi", size: 100_000, opts: &rtorrenttest.TorrentOptions{Files: 3}},
			{name: "private", size: 50_000, opts: &rtorrenttest.TorrentOptions{Private: true}},
			{name: "big-pieces", size: 3 << 20, opts: &rtorrenttest.TorrentOptions{PieceLength: 1 << 20}},
			{name: "udp-tracker", size: 10_000, opts: &rtorrenttest.TorrentOptions{Announce: "udp://127.0.0.1:1/announce"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, tc.name, tc.size, tc.opts)
				if got := call(t, rt, "load.raw_start", "", tr.Bytes); got != int64(0) {
					t.Fatalf("load.raw_start = %v", got)
				}
				took := waitComplete(t, rt, tr.Hash)
				t.Logf("%d bytes complete %v after load", tc.size, took)

				if got := call(t, rt, "d.size_bytes", tr.Hash); got != tr.Size {
					t.Errorf("d.size_bytes = %v, want %d", got, tr.Size)
				}
				if got := call(t, rt, "d.name", tr.Hash); got != tr.Name {
					t.Errorf("d.name = %v, want %q", got, tr.Name)
				}
				var paths []string
				for _, row := range call(t, rt, "f.multicall", tr.Hash, "", "f.path=").([]any) {
					paths = append(paths, row.([]any)[0].(string))
				}
				if strings.Join(paths, "|") != strings.Join(tr.Files, "|") {
					t.Errorf("f.path = %q, want Files %q", paths, tr.Files)
				}
			})
		}
	})
}

// TestLoadRefusals pins down what rTorrent does with the torrents that do
// not become complete.
func TestLoadRefusals(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		events := filepath.Join(t.TempDir(), "events.log")
		rt := rtorrenttest.Start(t, &rtorrenttest.Options{ExtraRC: []string{
			"log.open_file = events, " + events,
			// The "error" output stays empty; "warn" gets load errors (level E).
			"log.add_output = warn, events",
		}})

		noTracker := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "trackerless", 1000, &rtorrenttest.TorrentOptions{NoAnnounce: true})
		// Only the _verbose loads log why they refuse a torrent.
		if got := call(t, rt, "load.raw_start_verbose", "", noTracker.Bytes); got != int64(0) {
			t.Fatalf("load.raw_start_verbose(trackerless) = %v, want 0 even though it is refused", got)
		}
		if rt.Version.Legacy() {
			waitFor(t, "the refusal in rTorrent's log", func() bool {
				b, _ := os.ReadFile(events)
				return bytes.Contains(b, []byte("Could not create download: Could not find any trackers"))
			})
			if _, ok := downloads(t, rt)[noTracker.Hash]; ok {
				t.Errorf("trackerless torrent listed after rTorrent logged its refusal")
			}
		} else {
			// 0.16.17 takes a torrent without trackers although DHT is off.
			waitFor(t, "0.16.17 to list the trackerless torrent", func() bool {
				_, ok := downloads(t, rt)[noTracker.Hash]
				return ok
			})
		}

		noData := rtorrenttest.MakeTorrentBytes(t, "nowhere", 40_000)
		call(t, rt, "load.raw_start", "", noData.Bytes)
		var d download
		waitFor(t, "the torrent without data to be listed", func() bool {
			var ok bool
			d, ok = downloads(t, rt)[noData.Hash]
			return ok
		})
		if d.Complete {
			t.Errorf("torrent without data is complete")
		}
		if got := call(t, rt, "t.multicall", noData.Hash, "", "t.url="); len(got.([]any)) != 0 {
			t.Errorf("placeholder announce: t.multicall = %v, want no trackers", got)
		}
		if got := call(t, rt, "d.message", noData.Hash); got != "" {
			t.Errorf("placeholder announce: d.message = %q, want none", got)
		}
	})
}

// TestLoadMany loads torrents the way bulk tests will: MakeTorrentBytes
// and one system.multicall of load.raw.
func TestLoadMany(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		const n = 500
		var body bytes.Buffer
		body.WriteString(`<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>`)
		for k := range n {
			tr := rtorrenttest.MakeTorrentBytes(t, "bulk-"+strconv.Itoa(k), 1000)
			body.WriteString(`<value><struct><member><name>methodName</name><value><string>load.raw</string></value></member>` +
				`<member><name>params</name><value><array><data><value><string></string></value><value><base64>` +
				tr.Base64() + `</base64></value></data></array></value></member></struct></value>`)
		}
		body.WriteString(`</data></array></value></param></params></methodCall>`)
		start := time.Now()
		raw, err := rt.RawCall(t.Context(), body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeReply(raw); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "all downloads to be listed", func() bool { return len(downloads(t, rt)) == n })
		t.Logf("%d torrents loaded and listed in %v", n, time.Since(start))
	})
}

func TestRestartKeepsSession(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "kept", 20_000, nil)
		call(t, rt, "load.raw_start", "", tr.Bytes)
		waitComplete(t, rt, tr.Hash)
		// 0.16.17 writes a new download's session in the background; a
		// stop while that write is pending comes back without the
		// download's later changes, and checks it again.
		rt.WaitSaved(t, tr.Hash)
		call(t, rt, "d.custom1.set", tr.Hash, "saved on stop")
		oldPID, oldSocket := rt.PID(), rt.Socket

		rt.Restart(t)

		if rt.PID() == oldPID || rt.PID() == 0 || rt.Socket != oldSocket {
			t.Errorf("after Restart: pid %d (was %d), socket %q (was %q)", rt.PID(), oldPID, rt.Socket, oldSocket)
		}
		d, ok := downloads(t, rt)[tr.Hash]
		if !ok || !d.Complete {
			t.Fatalf("after Restart: download %+v, listed %v; want it complete without a new hash check", d, ok)
		}
		if got := call(t, rt, "d.custom1", tr.Hash); got != "saved on stop" {
			t.Errorf("after Restart: d.custom1 = %q, want the value set before the stop", got)
		}
		if runs := strings.Count(rt.Log(), "rtorrenttest: run "); runs != 2 {
			t.Errorf("Log() shows %d runs, want 2:\n%s", runs, rt.Log())
		}
	})
}

func TestKillThenStart(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "survivor", 20_000, nil)
		call(t, rt, "load.raw_start", "", tr.Bytes)
		waitComplete(t, rt, tr.Hash)
		rt.WaitSaved(t, tr.Hash) // 0.16.17 writes the session in the background
		pid := rt.PID()

		rt.Kill()

		if rt.PID() != 0 {
			t.Errorf("PID() = %d after Kill", rt.PID())
		}
		if _, err := tryCall(rt, "system.pid"); err == nil {
			t.Fatal("RawCall succeeded after Kill")
		}
		// The process is gone: signal 0 reaches only live (or unreaped) processes.
		if p, _ := os.FindProcess(pid); p.Signal(syscall.Signal(0)) == nil {
			t.Errorf("pid %d still exists after Kill", pid)
		}
		if _, err := os.Stat(filepath.Join(rt.SessionDir, "rtorrent.lock")); err != nil {
			t.Errorf("no stale session lock after Kill: %v", err)
		}

		// A new instance on the crashed one's session takes over the stale lock
		// and finds the download. Its resume data may predate the hash check
		// (it is written when the download is added), so rTorrent may check the
		// data again before it is complete.
		again := rtorrenttest.Start(t, &rtorrenttest.Options{SessionDir: rt.SessionDir, DownloadDir: rt.DownloadDir})
		if _, ok := downloads(t, again)[tr.Hash]; !ok {
			t.Fatalf("after Kill and Start: download missing")
		}
		waitComplete(t, again, tr.Hash)
		again.Stop()

		// So does a restart of the killed instance itself.
		rt.Restart(t)
		if _, ok := downloads(t, rt)[tr.Hash]; !ok {
			t.Fatal("after Kill and Restart: download missing")
		}
	})
}

func TestNoSession(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, &rtorrenttest.Options{NoSession: true})
		if got := call(t, rt, "session.path"); got != "" || rt.SessionDir != "" {
			t.Errorf("session.path = %q, SessionDir = %q; want both empty", got, rt.SessionDir)
		}
		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "fleeting", 1000, nil)
		call(t, rt, "load.raw_start", "", tr.Bytes)
		waitComplete(t, rt, tr.Hash)
		rt.Restart(t)
		if got := call(t, rt, "view.size", "", "main"); got != int64(0) {
			t.Errorf("%v downloads after Restart without a session, want 0", got)
		}

		f := expectExit(t, func(tb testing.TB) {
			rtorrenttest.Start(tb, &rtorrenttest.Options{NoSession: true, SessionDir: t.TempDir()})
		})
		if !strings.Contains(f.fatal, "conflict") {
			t.Errorf("NoSession with SessionDir: fatal %q, want a conflict", f.fatal)
		}
	})
}

// TestRestartMovesOffTakenPort covers the retry when the peer port was
// taken while rTorrent was down: rTorrent exits with "Could not open/bind
// port", and the harness tries another one.
func TestRestartMovesOffTakenPort(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		old := rt.Port
		rt.Stop()
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(old))
		if err != nil {
			t.Skipf("cannot take port %d for the test: %v", old, err)
		}
		defer l.Close()

		rt.Restart(t)

		if rt.Port == old {
			t.Fatalf("Port still %d, which the test holds", old)
		}
		if got := call(t, rt, "network.listen.port"); got != int64(rt.Port) {
			t.Errorf("network.listen.port = %v, Port = %d", got, rt.Port)
		}
		if !strings.Contains(rt.Log(), "Could not open/bind port") {
			t.Errorf("Log() lacks rTorrent's bind failure:\n%s", rt.Log())
		}
	})
}

func TestStartTimeout(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		// rTorrent reads the rc line, then sleeps before it can answer.
		start := time.Now()
		f := expectExit(t, func(tb testing.TB) {
			rtorrenttest.Start(tb, &rtorrenttest.Options{
				StartTimeout: 300 * time.Millisecond,
				ExtraRC:      []string{"execute.nothrow = sleep, 2"},
			})
		})
		if !strings.Contains(f.fatal, "not ready after 300ms") {
			t.Errorf("fatal %q, want a readiness timeout", f.fatal)
		}
		// Well under the 10 s default, with room for a busy machine.
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Start gave up after %v; the timeout was 300ms", d)
		}
	})
}

// TestNormalShutdownByRPC is the recipe Stop's documentation gives for
// rTorrent's normal shutdown.
func TestNormalShutdownByRPC(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "normal", 1000, nil)
		call(t, rt, "load.raw_start", "", tr.Bytes)
		waitComplete(t, rt, tr.Hash)
		rt.WaitSaved(t, tr.Hash) // see TestRestartKeepsSession
		call(t, rt, "d.custom1.set", tr.Hash, "kept")

		start := time.Now()
		if rt.Version.Legacy() {
			call(t, rt, "system.shutdown.normal")
		} else {
			// 0.16.17 answers or not: it exits at once, often before the
			// reply is written.
			tryCall(rt, "system.shutdown.normal")
		}
		waitFor(t, "rTorrent to exit", func() bool { return rt.PID() == 0 })
		t.Logf("normal shutdown took %v", time.Since(start))

		rt.Restart(t)
		if got := call(t, rt, "d.custom1", tr.Hash); got != "kept" {
			t.Errorf("after a normal shutdown: d.custom1 = %q, want %q", got, "kept")
		}
	})
}

func TestStopIsIdempotent(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		rt.Stop()
		rt.Stop()
		rt.Kill()
		if rt.PID() != 0 {
			t.Errorf("PID() = %d after Stop", rt.PID())
		}
		if _, err := tryCall(rt, "system.pid"); err == nil {
			t.Error("RawCall succeeded after Stop")
		}
		rt.Restart(t)
		if _, err := tryCall(rt, "system.pid"); err != nil {
			t.Errorf("after Stop and Restart: %v", err)
		}
	})
}

// TestParallelInstances runs instances side by side: each must get its own
// port, socket and directories, even when they load identical torrents.
func TestParallelInstances(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		const n = 4
		ports := make(chan int, n)
		sockets := make(chan string, n)
		t.Run("group", func(t *testing.T) {
			for k := range n {
				t.Run(strconv.Itoa(k), func(t *testing.T) {
					t.Parallel()
					rt := rtorrenttest.Start(t, nil)
					ports <- rt.Port
					sockets <- rt.Socket
					tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "same-everywhere", 30_000, nil)
					call(t, rt, "load.raw_start", "", tr.Bytes)
					waitComplete(t, rt, tr.Hash)
					if got := len(downloads(t, rt)); got != 1 {
						t.Errorf("%d downloads, want only this instance's one", got)
					}
				})
			}
		})
		close(ports)
		close(sockets)
		seenPort, seenSocket := map[int]bool{}, map[string]bool{}
		for p := range ports {
			if seenPort[p] {
				t.Errorf("port %d used twice", p)
			}
			seenPort[p] = true
		}
		for s := range sockets {
			if seenSocket[s] {
				t.Errorf("socket %s used twice", s)
			}
			seenSocket[s] = true
		}
	})
}

func TestLongTestNameGetsShortSocket(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		t.Run(strings.Repeat("a_very_long_subtest_name_", 6), func(t *testing.T) {
			rt := rtorrenttest.Start(t, nil)
			if len(rt.Socket) > 100 {
				t.Errorf("socket path is %d bytes: %s", len(rt.Socket), rt.Socket)
			}
			if _, err := tryCall(rt, "system.pid"); err != nil {
				t.Error(err)
			}
		})
	})
}

// TestRawCallHonoursContext uses a socket that accepts and never answers,
// which a real rTorrent will not do on demand.
func TestRawCallHonoursContext(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(shortDir(t), "mute.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	defer func() {
		if c, ok := <-accepted; ok {
			c.Close()
		}
	}()

	rt := &rtorrenttest.Instance{Socket: sock}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = rt.RawCall(ctx, methodCall("system.pid"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RawCall against a mute server: %v, want context.DeadlineExceeded", err)
	}
	// Loose: the machine may be busy; the point is that it does not hang.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("RawCall returned after %v", d)
	}
}

// shortDir returns a temporary directory short enough for socket paths.
func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "rtt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// BenchmarkStartStop reports the time until rTorrent answers RPC and the
// time Stop takes, separately.
func BenchmarkStartStop(b *testing.B) {
	rtorrenttest.EachB(b, func(b *testing.B) {
		var starting, stopping time.Duration
		for b.Loop() {
			t0 := time.Now()
			rt := rtorrenttest.Start(b, nil)
			t1 := time.Now()
			rt.Stop()
			starting += t1.Sub(t0)
			stopping += time.Since(t1)
		}
		b.ReportMetric(starting.Seconds()*1e3/float64(b.N), "start-ms/op")
		b.ReportMetric(stopping.Seconds()*1e3/float64(b.N), "stop-ms/op")
	})
}
