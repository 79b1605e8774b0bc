package rtorrenttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// defaultStartTimeout is Options.StartTimeout's zero value.
	defaultStartTimeout = 10 * time.Second
	// stopTimeout bounds how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
	// nudgeInterval is how often Stop repeats SIGTERM; see process.stop.
	nudgeInterval = 10 * time.Millisecond
	// portAttempts is how many free ports Start tries when the one it picked
	// was taken before rTorrent could bind it.
	portAttempts = 5
	// maxSocketPath keeps the socket path inside sockaddr_un's sun_path
	// (108 bytes on Linux, 104 on the BSDs, with the terminating NUL).
	maxSocketPath = 100
	// defaultSizeLimit is network.xmlrpc.size_limit when Options leaves it zero.
	defaultSizeLimit = 16 << 20
)

// Options configures Start. A nil *Options means all defaults.
type Options struct {
	// SizeLimit is network.xmlrpc.size_limit, the largest XML-RPC response
	// rTorrent will send, in bytes. Zero means 16 MiB.
	SizeLimit int64
	// ExtraRC holds rc lines appended after the harness's own settings (so
	// they can override them) and before the SCGI socket opens (so a bad
	// line makes Start fail with rTorrent's message).
	ExtraRC []string
	// SessionDir is session.path. Empty means a fresh directory inside the
	// instance's Dir; pass an earlier Instance's SessionDir to start on its
	// session. Two running instances must not share one: rTorrent locks it.
	SessionDir string
	// DownloadDir is directory.default. Empty means a fresh directory inside
	// the instance's Dir.
	DownloadDir string
	// NoSession runs rTorrent without a session (session.path ""), for
	// tests that load many torrents and never restart: rTorrent then loads
	// a torrent in ~0.4 ms instead of ~5 ms or more (most of it spent on
	// session files), and stops and starts in milliseconds whatever it
	// holds. Restart and Kill then lose every download. It conflicts with
	// SessionDir.
	NoSession bool
	// StartTimeout bounds how long Start and Restart wait for rTorrent to
	// answer RPC. rTorrent reads its whole session first: an empty one
	// answers in ~15 ms, but thousands of downloads can take many seconds.
	// Zero means 10 s.
	StartTimeout time.Duration
	// Version is the rTorrent to run. Zero means the version the test's
	// name holds (Each's subtests), else 0.9.8.
	Version Version
}

// Instance is one rTorrent process started by Start, living for one test.
//
// Its methods are safe for concurrent use; Stop, Kill and Restart are
// serialized. The exported fields are fixed once Start returns, except that
// Restart changes Port if another process took it meanwhile.
type Instance struct {
	// Socket is the path of rTorrent's SCGI Unix socket.
	Socket string
	// Dir is the instance's private directory, holding the rc file, the
	// socket and the log (and, by default, the session and download
	// directories). It is removed when the test ends.
	Dir string
	// DownloadDir is directory.default, where rTorrent looks for and puts
	// content.
	DownloadDir string
	// SessionDir is session.path, where rTorrent keeps its downloads across
	// restarts; empty with Options.NoSession.
	SessionDir string
	// Port is the TCP port rTorrent listens on for peers, on 127.0.0.1.
	Port int
	// Version is the rTorrent running.
	Version Version

	rcPath       string
	logPath      string
	sizeLimit    int64
	extraRC      []string
	startTimeout time.Duration

	mu    sync.Mutex
	proc  *process // nil when not running
	runs  int
	ready bool // some run got ready; start failures carry the log already
}

// Start runs a fresh rTorrent for the duration of the test and returns once
// it answers RPC on Instance.Socket. It stops rTorrent (and removes its
// files) when the test ends. It skips the test if that version is not
// installed here, unless the environment variable CI is "true", where it
// fails instead, saying how to install it.
func Start(t testing.TB, opts *Options) *Instance {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	v := opts.Version
	if v.Name == "" {
		v = VersionOf(t)
	}
	if _, err := v.command("/tmp/probe.rc", "/tmp/probe"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("rtorrenttest: %v (required on CI)", err)
		}
		t.Skipf("rtorrenttest: %v", err)
	}
	dir := shortTempDir(t)
	i := &Instance{
		Socket:       filepath.Join(dir, "rpc.sock"),
		Dir:          dir,
		DownloadDir:  opts.DownloadDir,
		SessionDir:   opts.SessionDir,
		Version:      v,
		rcPath:       filepath.Join(dir, "rtorrent.rc"),
		logPath:      filepath.Join(dir, "rtorrent.log"),
		sizeLimit:    opts.SizeLimit,
		extraRC:      opts.ExtraRC,
		startTimeout: opts.StartTimeout,
	}
	if i.DownloadDir == "" {
		i.DownloadDir = filepath.Join(dir, "download")
	}
	for _, p := range []string{i.DownloadDir, i.SessionDir} {
		if strings.ContainsAny(p, "\"\\\n") {
			t.Fatalf("rtorrenttest: start: path %q has a quote, backslash or newline, which an rc file cannot hold", p)
		}
	}
	switch {
	case opts.NoSession && opts.SessionDir != "":
		t.Fatalf("rtorrenttest: start: Options.NoSession and SessionDir conflict")
	case opts.NoSession:
		// session.path.set = "" turns the session off.
	case i.SessionDir == "":
		i.SessionDir = filepath.Join(dir, "session")
	}
	if i.sizeLimit == 0 {
		i.sizeLimit = defaultSizeLimit
	}
	if i.startTimeout == 0 {
		i.startTimeout = defaultStartTimeout
	}
	for _, d := range []string{i.DownloadDir, i.SessionDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("rtorrenttest: start: %v", err)
		}
	}
	t.Cleanup(func() {
		i.Stop()
		i.mu.Lock()
		ready := i.ready
		i.mu.Unlock()
		if t.Failed() && ready {
			t.Logf("rtorrenttest: rtorrent output (%s):\n%s", i.logPath, i.Log())
		}
	})
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.launch(); err != nil {
		t.Fatalf("rtorrenttest: start: %v", err)
	}
	return i
}

// Addr returns the socket as a "unix://" address, the form the project's
// clients take.
func (i *Instance) Addr() string {
	return "unix://" + i.Socket
}

// PID returns rTorrent's process id, or 0 when it is not running, whether
// it was stopped or exited by itself (system.shutdown.*, a crash).
func (i *Instance) PID() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc == nil || i.proc.exited() {
		return 0
	}
	return i.proc.cmd.Process.Pid
}

// Log returns everything rTorrent wrote to stdout and stderr, across
// restarts, with a line from the harness before each run.
func (i *Instance) Log() string {
	b, err := os.ReadFile(i.logPath)
	if err != nil {
		return fmt.Sprintf("(rtorrenttest: read log: %v)", err)
	}
	return string(b)
}

// Stop shuts rTorrent down with SIGTERM, its quick shutdown (the session is
// saved; no "stopped" announce is sent to trackers), and waits for it to
// exit, killing its process group if it takes longer than 5 s. Stop is
// idempotent. A test that wants rTorrent's normal shutdown sends
// system.shutdown.normal with RawCall and waits for PID to return 0 before
// it calls Stop or Restart.
func (i *Instance) Stop() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc != nil {
		i.proc.stop()
		i.proc = nil
	}
}

// Kill ends rTorrent's process group with SIGKILL, as a crash would, and
// waits for it. The session keeps what rTorrent had written so far (each
// download as it was added, so it may be hash-checked again on the next
// start) and the lock file stays behind; rTorrent takes over a lock whose
// process is gone. Kill does nothing if rTorrent is not running.
func (i *Instance) Kill() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc != nil {
		i.proc.kill()
		i.proc = nil
	}
}

// Restart stops rTorrent if it is running (cleanly, as Stop does) and
// starts it again on the same session directory, download directory and
// socket path, returning once it answers RPC. It fails the test if
// rTorrent does not come back.
func (i *Instance) Restart(t testing.TB) {
	t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc != nil {
		i.proc.stop()
		i.proc = nil
	}
	if err := i.launch(); err != nil {
		t.Fatalf("rtorrenttest: restart: %v", err)
	}
}

// launch starts rTorrent and waits until it is ready. It retries with
// another port when the chosen one was taken in the meantime. i.mu is held.
func (i *Instance) launch() error {
	for attempt := 1; ; attempt++ {
		if i.Port == 0 || attempt > 1 {
			port, err := freePort()
			if err != nil {
				return err
			}
			i.Port = port
		}
		if err := writeRC(i.rcPath, i.rc()); err != nil {
			return err
		}
		i.runs++
		p, logStart, err := i.spawn()
		if err != nil {
			return err
		}
		err = p.awaitReady(i.Socket, i.startTimeout)
		if err == nil {
			i.proc = p
			i.ready = true
			i.awaitSession()
			return nil
		}
		p.kill()
		out := i.Log()
		if logStart <= len(out) {
			out = out[logStart:]
		}
		if strings.Contains(out, "Could not open/bind port") && attempt < portAttempts {
			continue
		}
		return fmt.Errorf("%w; rtorrent output:\n%s", err, out)
	}
}

// spawn starts the process and returns it with the log offset where this
// run's output begins.
func (i *Instance) spawn() (*process, int, error) {
	logf, err := os.OpenFile(i.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close() // the child has its own copy
	cmd, err := i.Version.command(i.rcPath, i.Dir)
	if err != nil {
		return nil, 0, err
	}
	fmt.Fprintf(logf, "rtorrenttest: run %d: rtorrent %s: %s (peer port %d)\n", i.runs, i.Version.Name, strings.Join(cmd.Args, " "), i.Port)
	fi, err := logf.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("open log: %w", err)
	}
	cmd.Stdout = logf // an *os.File: no copying goroutines
	cmd.Stderr = logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("run rtorrent: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), nudge: i.Version.Legacy()}
	go p.wait()
	return p, int(fi.Size()), nil
}

// shortTempDir returns t.TempDir(), or a shorter directory under
// os.TempDir() when the socket path inside t.TempDir() would be too long
// for a Unix socket (long test names make long temp dirs).
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if len(filepath.Join(dir, "rpc.sock")) <= maxSocketPath {
		return dir
	}
	dir, err := os.MkdirTemp("", "rtt")
	if err != nil {
		t.Fatalf("rtorrenttest: temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if len(filepath.Join(dir, "rpc.sock")) > maxSocketPath {
		t.Fatalf("rtorrenttest: temp dir %q too long for a Unix socket path; set TMPDIR shorter", dir)
	}
	return dir
}

// awaitSession waits, for up to the start timeout, until rTorrent lists as
// many downloads as its session directory holds: 0.16.17 answers RPC
// before it has loaded its session (a few milliseconds), 0.9.8 after. A
// session file rTorrent does not load only makes the wait end at the
// bound.
func (i *Instance) awaitSession() {
	if i.SessionDir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(i.SessionDir, "*.torrent"))
	if len(files) == 0 {
		return
	}
	body := []byte(`<?xml version="1.0"?><methodCall><methodName>view.size</methodName><params><param><value><string></string></value></param><param><value><string>main</string></value></param></params></methodCall>`)
	want := len(files)
	deadline := time.Now().Add(i.startTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		reply, err := rawCall(ctx, i.Socket, body)
		cancel()
		if err == nil && listedAtLeast(reply, want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listedAtLeast reads view.size's <i8> answer and compares it with n.
func listedAtLeast(reply []byte, n int) bool {
	s := string(reply)
	start := strings.Index(s, "<i8>")
	end := strings.Index(s, "</i8>")
	if start < 0 || end < start {
		return false
	}
	got, err := strconv.Atoi(s[start+4 : end])
	return err == nil && got >= n
}
