package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestMain fails the run if a goroutine is still alive once every test and
// benchmark has finished.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quiet is a logger for doors under test.
var quiet = slog.New(slog.DiscardHandler)

// tempDir returns a directory with a path short enough for a unix socket.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// backend is a real rTorrent with the two ways to call it.
type backend struct {
	rt     *rtorrenttest.Instance
	client *rtorrent.Client // Caller
	raw    *scgi.Client     // RawCaller
}

func startBackend(t testing.TB, opts *rtorrenttest.Options) *backend {
	t.Helper()
	rt := rtorrenttest.Start(t, opts)
	c, err := rtorrent.New(rt.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := scgi.NewClient(rt.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &backend{rt: rt, client: c, raw: raw}
}

// door serves one Handler over HTTP (POST /RPC2) and SCGI (a unix socket).
type door struct {
	handler *gateway.Handler
	url     string // http://127.0.0.1:port/RPC2
	socket  string
	scgi    *scgi.Client // a client of the SCGI door
}

func startDoor(t testing.TB, caller gateway.Caller, co *gateway.CoalesceOptions, ho *gateway.HandlerOptions) *door {
	t.Helper()
	if ho == nil {
		ho = &gateway.HandlerOptions{}
	}
	if ho.ErrorLog == nil {
		ho.ErrorLog = quiet
	}
	h := gateway.NewHandler(gateway.NewCoalescer(caller, co), ho)
	mux := http.NewServeMux()
	mux.Handle("/RPC2", h)
	hs := httptest.NewUnstartedServer(mux)
	hs.Config.ErrorLog = nil
	hs.Start()
	t.Cleanup(hs.Close)

	sock := filepath.Join(tempDir(t), "gate.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &scgi.Server{Handler: h, ErrorLog: quiet}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, scgi.ErrServerClosed) {
			t.Errorf("scgi Serve: %v", err)
		}
	})
	sc, err := scgi.NewClient(sock, &scgi.ClientOptions{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &door{handler: h, url: hs.URL + "/RPC2", socket: sock, scgi: sc}
}

// client returns an rTorrent client of the door's SCGI socket: the kit's
// Caller through the door.
func (d *door) client(t testing.TB) *rtorrent.Client {
	t.Helper()
	c, err := rtorrent.New("unix://"+d.socket, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reply is an answer from a door, over either transport.
type reply struct {
	status int
	ctype  string
	body   []byte
}

// postHTTP sends body to the HTTP door.
func (d *door) postHTTP(t testing.TB, contentType string, body []byte) reply {
	t.Helper()
	resp, err := http.Post(d.url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// doSCGI sends body to the SCGI door.
func (d *door) doSCGI(t testing.TB, contentType string, body []byte) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := d.scgi.Do(ctx, contentType, body)
	if err != nil {
		t.Fatalf("SCGI: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// transports lists the two ways into a door, for table tests.
var transports = []struct {
	name string
	send func(d *door, t testing.TB, contentType string, body []byte) reply
}{
	{"http", (*door).postHTTP},
	{"scgi", (*door).doSCGI},
}

// encodeCall encodes a methodCall.
func encodeCall(t testing.TB, method string, params ...xmlrpc.Value) []byte {
	t.Helper()
	b, err := xmlrpc.Encoder{}.AppendCall(nil, method, params)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeReply decodes an XML-RPC reply body, failing the test unless it is
// a methodResponse.
func decodeReply(t testing.TB, r reply) (xmlrpc.Value, *xmlrpc.Fault) {
	t.Helper()
	v, err := xmlrpc.DecodeResponse(bytes.NewReader(r.body))
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		return v, fault
	}
	if err != nil {
		t.Fatalf("status %d, reply %.300q: %v", r.status, r.body, err)
	}
	return v, nil
}

// loadTorrent adds tr to rTorrent, started, and waits until it is listed
// and its first hash check is over.
func loadTorrent(t testing.TB, c gateway.Caller, tr rtorrenttest.Torrent) {
	t.Helper()
	rtorrenttest.Load(t, c, tr, &rtorrenttest.LoadOptions{Start: true})
}

// waitFor polls cond until it holds (rtorrenttest.WaitFor).
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	rtorrenttest.WaitFor(t, "condition", cond)
}

// callerFunc is a Caller made of a function.
type callerFunc func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)

func (f callerFunc) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	return f(ctx, method, params...)
}

// rawFunc is a RawCaller made of a function.
type rawFunc func(ctx context.Context, contentType string, body []byte) (*scgi.Response, error)

func (f rawFunc) Do(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
	return f(ctx, contentType, body)
}

// counter counts the calls through a Caller and a RawCaller.
type counter struct {
	calls atomic.Int64
}

func (n *counter) caller(c gateway.Caller) gateway.Caller {
	return callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		n.calls.Add(1)
		return c.Call(ctx, method, params...)
	})
}

func (n *counter) raw(c gateway.RawCaller) gateway.RawCaller {
	return rawFunc(func(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
		n.calls.Add(1)
		return c.Do(ctx, contentType, body)
	})
}

// hash is an info hash rTorrent does not have.
const hash = "E22C1332FC89387446EBE97C6DA286C98D42EDEE"

func str(s string) xmlrpc.Value { return xmlrpc.NewString(s) }

func strs(ss ...string) []xmlrpc.Value {
	out := make([]xmlrpc.Value, len(ss))
	for i, s := range ss {
		out[i] = xmlrpc.NewString(s)
	}
	return out
}

// entry is one system.multicall entry.
func entry(method string, params ...xmlrpc.Value) xmlrpc.Value {
	return xmlrpc.NewStruct(
		xmlrpc.Member{Name: "methodName", Value: str(method)},
		xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)},
	)
}

// floodFields is Flood 4.11's torrent-list poll as it sends it to 0.9.8,
// from the byte-exact capture.
var floodFields = rtorrenttest.FloodFields()

func floodPollParams() []xmlrpc.Value {
	return append(strs("", "main"), strs(floodFields...)...)
}

// ver is the version of the rTorrent the test runs against, as
// system.client_version answers it.
func ver(t testing.TB) string { return rtorrenttest.VersionOf(t).Name }
