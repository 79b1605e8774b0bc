package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/engine"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// caller is the backend interface rtgate consumes: the engine must be a
// drop-in for the rTorrent client.
type caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

var (
	_ caller = (*engine.Engine)(nil)
	_ caller = (*rtorrent.Client)(nil)
)

// floodFields is Flood 4.11's torrent-list poll as it sends it to 0.9.8,
// from the byte-exact capture.
var floodFields = rtorrenttest.FloodFields()

// env is an engine on private directories for one test.
type env struct {
	*engine.Engine
	t       testing.TB
	dataDir string
	session string
}

// newEnv starts an engine for the test on loopback, DHT off, and closes it
// when the test ends.
func newEnv(t testing.TB) *env {
	t.Helper()
	return startEnv(t, t.TempDir(), t.TempDir())
}

// startEnv starts an engine on the given directories.
func startEnv(t testing.TB, dataDir, session string) *env {
	t.Helper()
	e, err := engine.New(engine.Options{
		DataDir:    dataDir,
		SessionDir: session,
		ListenHost: "127.0.0.1",
		DisableDHT: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return &env{Engine: e, t: t, dataDir: dataDir, session: session}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// params converts plain Go values: strings, ints, []byte as base64.
func params(t testing.TB, args ...any) []xmlrpc.Value {
	t.Helper()
	vs, err := xmlrpc.Values(args...)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// call calls method on c and fails the test on any error.
func call(t testing.TB, c caller, method string, args ...any) xmlrpc.Value {
	t.Helper()
	v, err := c.Call(ctxT(t), method, params(t, args...)...)
	if err != nil {
		t.Fatalf("%s%v: %v", method, args, err)
	}
	return v
}

// callFault calls method on c, which must fail with a fault.
func callFault(t testing.TB, c caller, method string, args ...any) *xmlrpc.Fault {
	t.Helper()
	_, err := c.Call(ctxT(t), method, params(t, args...)...)
	var f *xmlrpc.Fault
	if !errors.As(err, &f) {
		t.Fatalf("%s%v: error %v, want a fault", method, args, err)
	}
	return f
}

// rows runs d.multicall2 over view with fields.
func rows(t testing.TB, c caller, view string, fields ...string) [][]xmlrpc.Value {
	t.Helper()
	args := []any{"", view}
	for _, f := range fields {
		args = append(args, f)
	}
	v := call(t, c, "d.multicall2", args...)
	var out [][]xmlrpc.Value
	for _, r := range v.Values() {
		out = append(out, r.Values())
	}
	return out
}

// row returns the fields of hash's row in main, or nil.
func row(t testing.TB, c caller, hash string, fields ...string) []xmlrpc.Value {
	t.Helper()
	for _, r := range rows(t, c, "main", append([]string{"d.hash="}, fields...)...) {
		if r[0].String() == hash {
			return r[1:]
		}
	}
	return nil
}

// waitRow polls until hash's row satisfies ok.
func waitRow(t testing.TB, c caller, hash string, timeout time.Duration, ok func([]xmlrpc.Value) bool, fields ...string) []xmlrpc.Value {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := row(t, c, hash, fields...)
		if r != nil && ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("row of %s never got there; last %v (fields %v)", hash, r, fields)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// load loads tr into c (engine or rTorrent) and waits until it is listed.
func load(t testing.TB, c caller, method string, tr rtorrenttest.Torrent, cmds ...string) {
	t.Helper()
	args := []any{"", tr.Bytes}
	for _, cmd := range cmds {
		args = append(args, cmd)
	}
	call(t, c, method, args...)
	waitRow(t, c, tr.Hash, 10*time.Second, func([]xmlrpc.Value) bool { return true })
}

// settled waits until hash is neither hashing nor waiting for its first
// check.
func settled(t testing.TB, c caller, hash string) {
	t.Helper()
	waitRow(t, c, hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 0 }, "d.hashing=")
}

func TestCloseIsIdempotentAndEndsCalls(t *testing.T) {
	e, err := engine.New(engine.Options{DataDir: t.TempDir(), SessionDir: t.TempDir(), ListenHost: "127.0.0.1", DisableDHT: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = e.Call(context.Background(), "system.pid")
	if !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("Call after Close: %v, want ErrClosed", err)
	}
	_, err = e.Call(context.Background(), "system.multicall", xmlrpc.NewArray(xmlrpc.NewStruct(
		xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString("system.pid")},
		xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray()},
	)))
	if !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("system.multicall after Close: %v, want ErrClosed", err)
	}
}

func TestCanceledContext(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Call(ctx, "system.pid"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSessionDirectoryIsExclusive(t *testing.T) {
	e := newEnv(t)
	_, err := engine.New(engine.Options{DataDir: t.TempDir(), SessionDir: e.session, ListenHost: "127.0.0.1", DisableDHT: true})
	if !errors.Is(err, engine.ErrSessionLocked) {
		t.Fatalf("second engine on one session: %v, want ErrSessionLocked", err)
	}
}

func TestZeroOptions(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	e, err := engine.New(engine.Options{DisableDHT: true, ListenHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := call(t, e, "directory.default", "").String(); got != wd {
		t.Errorf("directory.default = %q, want the working directory %q", got, wd)
	}
	if got := call(t, e, "session.path", "").String(); got != "" {
		t.Errorf("session.path = %q, want empty without a session", got)
	}
	if p := e.ListenPort(); p == 0 || call(t, e, "network.listen.port", "").Int() != int64(p) {
		t.Errorf("listen port %d, network.listen.port %v", p, call(t, e, "network.listen.port", ""))
	}
	entries, _ := os.ReadDir(wd)
	if len(entries) != 0 {
		t.Errorf("engine wrote into the data directory without a download: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(wd, ".torrent.bolt.db")); err == nil {
		t.Error("piece completion store in the data directory")
	}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentCalls polls, changes and erases downloads from several
// goroutines while hash checks and the sampler run, for the race
// detector's sake.
func TestConcurrentCalls(t *testing.T) {
	e := newEnv(t)
	var trs []rtorrenttest.Torrent
	for i := range 20 {
		tr := rtorrenttest.MakeTorrent(t, e.dataDir, "conc-"+strconv.Itoa(i)+".bin", 50_000, nil)
		trs = append(trs, tr)
		load(t, e, "load.raw_start", tr)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				tr := trs[(g*7+i)%len(trs)]
				ctx := context.Background()
				ps := append([]xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewString("main")}, params(t, anys(floodFields)...)...)
				if _, err := e.Call(ctx, "d.multicall2", ps...); err != nil {
					t.Error(err)
					return
				}
				for _, m := range []string{"d.stop", "d.start", "d.pause", "d.resume", "d.check_hash"} {
					if _, err := e.Call(ctx, m, xmlrpc.NewString(tr.Hash)); err != nil {
						t.Error(err)
						return
					}
				}
				e.Call(ctx, "f.multicall", params(t, tr.Hash, "", "f.completed_chunks=")...)
				e.Call(ctx, "p.multicall", params(t, tr.Hash, "", "p.id=")...)
				e.Call(ctx, "d.custom.set", params(t, tr.Hash, "k", strconv.Itoa(i))...)
			}
		}()
	}
	wg.Wait()
	for _, tr := range trs[:5] {
		call(t, e, "d.erase", tr.Hash)
	}
	if n := len(rows(t, e, "main", "d.hash=")); n != 15 {
		t.Errorf("%d downloads left, want 15", n)
	}
}
