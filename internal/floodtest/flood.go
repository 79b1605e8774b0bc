package floodtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// defaultStartTimeout is Options.StartTimeout's zero value. Flood 4.11.0
	// answers HTTP ~0.75 s after exec on an idle machine; -race test runs
	// beside it and a busy CI machine can make that several seconds.
	defaultStartTimeout = 30 * time.Second
	// portAttempts is how many free ports Start tries when the one it
	// picked was taken before Flood could bind it.
	portAttempts = 3
	// readyPoll is how often Start retries while Flood is not listening.
	readyPoll = 25 * time.Millisecond
	// logTail is how much of Flood's log a failed test prints.
	logTail = 16 << 10
)

// Options configures Start. Exactly one of RTSocket and RTHost must be set.
type Options struct {
	// RTSocket is the Unix socket path of an rTorrent-compatible SCGI
	// endpoint: rTorrent's own, or rtgate's (--rtsocket).
	RTSocket string
	// RTHost and RTPort name a TCP SCGI endpoint instead (--rthost,
	// --rtport), used when RTSocket is empty.
	RTHost string
	RTPort int
	// AllowedPath is the directory Flood may touch on disk (--allowedpath):
	// add destinations must lie inside it (Flood creates them itself), and
	// DeleteTorrents with deleteData removes files only inside it. Pass the
	// rTorrent instance's download directory. Empty means Flood's default,
	// which allows every path.
	AllowedPath string
	// Tap puts a recording SCGI relay between Flood and the endpoint, so
	// that Calls reports every request Flood sends, including whether it
	// speaks XML-RPC or JSON-RPC. The relay adds well under a millisecond
	// per call.
	Tap bool
	// ExtraArgs are appended to Flood's command line after the harness's
	// own flags, e.g. []string{"--clientpoll", "500"} for Flood's hidden
	// poll-interval flag (milliseconds, default 2000).
	ExtraArgs []string
	// StartTimeout bounds how long Start waits for Flood to answer HTTP.
	// Zero means 30 s.
	StartTimeout time.Duration
}

// Flood is one Flood server process started by Start, living for one test,
// already authenticated: its HTTP client carries the jwt cookie.
//
// Its methods are safe for concurrent use, but Flood itself sends rTorrent
// one call at a time, so concurrent requests queue inside Flood.
type Flood struct {
	dir     string // private temporary directory: rundir, log, tap socket
	logPath string
	baseURL string
	version string
	client  *http.Client
	tr      *http.Transport
	proc    *process
	tap     *tap

	closeOnce sync.Once
	mu        sync.Mutex
	finalLog  string // the log, kept once Close has removed dir
	closed    bool
}

// Start runs a Flood server for the duration of the test, pointed at the
// SCGI endpoint opts names, with --auth none, and returns once Flood
// answers HTTP and has issued the harness its session cookie. Flood is
// stopped and its files removed when the test ends; if the test failed,
// the end of Flood's log is logged first.
//
// Start uses the Flood that npm ci installs in <repo>/testdata/flood,
// found by walking up from the working directory to go.mod. If it is
// missing Start skips the test, unless the environment variable CI is
// "true", where it fails instead. It fails if the installed version is
// not the one testdata/flood/package.json pins.
func Start(t testing.TB, opts Options) *Flood {
	t.Helper()
	in, err := findInstall()
	if errors.Is(err, errNotInstalled) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("floodtest: %v; CI=true, so this fails instead of skipping", err)
		}
		t.Skip(installHint)
	}
	if err != nil {
		t.Fatalf("floodtest: %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("floodtest: Flood needs node on PATH: %v", err)
		}
		t.Skip("node not installed")
	}
	if in.version != in.pinned {
		t.Fatalf("floodtest: node_modules holds flood %s but testdata/flood/package.json pins %q: run npm ci in testdata/flood", in.version, in.pinned)
	}
	var endpoint []string
	switch {
	case opts.RTSocket != "" && opts.RTHost != "":
		t.Fatalf("floodtest: Options.RTSocket and RTHost conflict")
	case opts.RTSocket != "":
		endpoint = []string{"unix", opts.RTSocket}
	case opts.RTHost != "" && opts.RTPort > 0:
		endpoint = []string{"tcp", net.JoinHostPort(opts.RTHost, strconv.Itoa(opts.RTPort))}
	default:
		t.Fatalf("floodtest: Options needs RTSocket, or RTHost and RTPort")
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = defaultStartTimeout
	}

	// A short directory of our own rather than t.TempDir: the tap's socket
	// path must fit in sun_path, and subtest names make t.TempDir long.
	dir, err := os.MkdirTemp("", "floodtest-")
	if err != nil {
		t.Fatalf("floodtest: %v", err)
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	tr := &http.Transport{}
	f := &Flood{
		dir:     dir,
		logPath: filepath.Join(dir, "flood.log"),
		version: in.version,
		tr:      tr,
		client:  &http.Client{Jar: jar, Transport: tr},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("floodtest: end of Flood's log:\n%s", tail(f.Log(), logTail))
		}
		f.Close()
	})

	args := []string{"--auth", "none", "--host", "127.0.0.1", "--rundir", filepath.Join(dir, "run")}
	if opts.AllowedPath != "" {
		args = append(args, "--allowedpath", opts.AllowedPath)
	}
	if opts.Tap {
		f.tap, err = startTap(filepath.Join(dir, "scgi.sock"), endpoint[0], endpoint[1])
		if err != nil {
			t.Fatalf("floodtest: %v", err)
		}
		args = append(args, "--rtsocket", f.tap.path)
	} else if endpoint[0] == "unix" {
		args = append(args, "--rtsocket", opts.RTSocket)
	} else {
		args = append(args, "--rthost", opts.RTHost, "--rtport", strconv.Itoa(opts.RTPort))
	}

	for attempt := 1; ; attempt++ {
		err := f.start(in.bin, args, opts.ExtraArgs, timeout)
		if err == nil {
			break
		}
		if errors.Is(err, errPortTaken) && attempt < portAttempts {
			continue
		}
		t.Fatalf("floodtest: start: %v", err) // the cleanup logs Flood's log
	}
	return f
}

// errPortTaken means Flood exited because its port was taken meanwhile.
var errPortTaken = errors.New("port taken")

// start runs Flood once on a free port and waits until it has
// authenticated. On failure the process is gone when start returns.
func (f *Flood) start(bin string, args, extra []string, timeout time.Duration) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	args = slices.Concat(args, []string{"--port", strconv.Itoa(port)}, extra)
	logStart := len(f.Log())
	logFile, err := os.OpenFile(f.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logFile, "--- floodtest: start %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = f.dir
	cmd.Env = floodEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	proc, err := startProcess(cmd)
	logFile.Close() // the child holds its own copy
	if err != nil {
		return err
	}
	baseURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	began := time.Now()
	if err := f.awaitReady(proc, baseURL, timeout); err != nil {
		proc.stop()
		if log := f.Log(); len(log) >= logStart && strings.Contains(log[logStart:], "EADDRINUSE") {
			return fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return err
	}
	f.mu.Lock()
	f.proc = proc
	f.baseURL = baseURL
	f.mu.Unlock()
	f.note("ready and logged in after %v", time.Since(began).Round(time.Millisecond))
	return nil
}

// awaitReady authenticates until Flood answers. Flood only listens once it
// has set up its services, and with --auth none POST /api/auth/authenticate
// with any body sets the jwt cookie for the configured user, so the first
// success means Flood is both up and logged in. Refused connections do not
// count against Flood's rate limit of 200 logins per 5 minutes.
func (f *Flood) awaitReady(proc *process, baseURL string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := f.authenticate(ctx, baseURL)
		if err == nil {
			return nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return err // Flood is up but refused: retrying will not help
		}
		select {
		case <-proc.done:
			return fmt.Errorf("flood exited before it was ready (%v)", proc.err)
		case <-ctx.Done():
			return fmt.Errorf("flood not ready after %v: %w", timeout, err)
		case <-time.After(readyPoll):
		}
	}
}

func (f *Flood) authenticate(ctx context.Context, baseURL string) error {
	var reply struct {
		Success bool `json:"success"`
	}
	if err := f.do(ctx, baseURL, http.MethodPost, "/api/auth/authenticate", struct{}{}, &reply); err != nil {
		return err
	}
	if !reply.Success {
		return errors.New("authenticate: success is false")
	}
	return nil
}

// note appends a line from the harness to Flood's log. Flood writes with
// O_APPEND too, so lines do not overwrite each other.
func (f *Flood) note(format string, args ...any) {
	file, err := os.OpenFile(f.logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer file.Close()
	fmt.Fprintf(file, "--- floodtest: "+format+"\n", args...)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// BaseURL returns Flood's root URL, "http://127.0.0.1:PORT", without a
// trailing slash; the API lives under BaseURL()+"/api".
func (f *Flood) BaseURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.baseURL
}

// Version returns the version of the Flood that runs, e.g. "4.11.0".
func (f *Flood) Version() string { return f.version }

// HTTPClient returns the authenticated client the helpers use, for
// endpoints they do not cover, such as the Server-Sent Events stream at
// /api/activity-stream. Requests must be bounded by a context: the client
// has no timeout of its own.
func (f *Flood) HTTPClient() *http.Client { return f.client }

// Log returns everything Flood wrote to stdout and stderr (with a line
// from the harness before each start): startup messages, one line per
// HTTP request, and any stack traces. It stays available after Close.
func (f *Flood) Log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.finalLog
	}
	data, _ := os.ReadFile(f.logPath)
	return string(data)
}

// Close stops Flood (SIGTERM, then SIGKILL to its process group after 5 s),
// waits for it, stops the tap and removes Flood's files. The test's cleanup
// calls it; calling it earlier, or twice, is safe. After Close the helpers
// fail and Log returns the log as it was.
func (f *Flood) Close() {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		proc := f.proc
		f.mu.Unlock()
		if proc != nil {
			proc.stop()
			f.note("stopped (%v)", proc.err)
		}
		if f.tap != nil {
			f.tap.close()
		}
		f.tr.CloseIdleConnections()
		data, _ := os.ReadFile(f.logPath)
		f.mu.Lock()
		f.finalLog = string(data)
		f.closed = true
		f.mu.Unlock()
		_ = os.RemoveAll(f.dir)
	})
}

// tail returns the last n bytes of s, from a line start where possible.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "...\n" + s
}
