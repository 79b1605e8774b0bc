package ws_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
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
	dir, err := os.MkdirTemp("", "ws")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// backend is a real rTorrent and its client.
type backend struct {
	rt     *rtorrenttest.Instance
	client *rtorrent.Client
}

func startBackend(t testing.TB, opts *rtorrenttest.Options) *backend {
	t.Helper()
	rt := rtorrenttest.Start(t, opts)
	return &backend{rt: rt, client: rt.Client(t)}
}

// waitFor polls cond until it holds (rtorrenttest.WaitFor).
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	rtorrenttest.WaitFor(t, "condition", cond)
}

func str(s string) xmlrpc.Value { return xmlrpc.NewString(s) }

// callerFunc is a Caller made of a function.
type callerFunc func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)

func (f callerFunc) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	return f(ctx, method, params...)
}

// ver is the version of the rTorrent the test runs against, as
// system.client_version answers it.
func ver(t testing.TB) string { return rtorrenttest.VersionOf(t).Name }

// unknownHashData is the data of the error for a download the test's
// rTorrent does not have: its fault.
func unknownHashData(t testing.TB) string {
	f := rtorrenttest.VersionOf(t).UnknownHash()
	return `{"faultCode":` + strconv.FormatInt(f.Code, 10) + `,"faultString":"` + f.Message + `"}`
}

// unknownHashError is the whole answer to request id for a download the
// test's rTorrent does not have.
func unknownHashError(t testing.TB, id int) string {
	return `{"error":{"code":-32602,"data":` + unknownHashData(t) + `,"message":"` + rtorrenttest.VersionOf(t).UnknownHash().Message + `"},"id":` + strconv.Itoa(id) + `,"jsonrpc":"2.0"}`
}
