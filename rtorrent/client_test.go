package rtorrent_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

func newClient(t *testing.T, rt *rtorrenttest.Instance) *rtorrent.Client {
	t.Helper()
	c, err := rtorrent.New(rt.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func str(s string) xmlrpc.Value { return xmlrpc.NewString(s) }

func TestInfo(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		ctx := ctxT(t)

		in, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := rt.Version.Name; in.Version != want {
			t.Errorf("version = %q, want %s", in.Version, want)
		}
		// 0.9.8 lists 735 methods; a different build may differ a little, but
		// the ones rtgate relies on must be there and the 0.9.8 gaps must not.
		if len(in.Methods) < 500 {
			t.Errorf("only %d methods listed", len(in.Methods))
		}
		for _, m := range []string{"d.multicall2", "system.multicall", "load.raw_start", "d.custom", "t.multicall", "cat"} {
			if !in.Has(m) {
				t.Errorf("method %s not listed", m)
			}
		}
		for _, m := range []string{"d.timestamp.last_active", "d.down.sequential"} {
			if in.Has(m) {
				t.Errorf("0.9.8 should not list %s", m)
			}
		}

		again, err := c.Info(ctx)
		if err != nil || again != in {
			t.Errorf("second Info = %p, %v; want the cached %p", again, err, in)
		}
	})
}

func TestUnknownCommandIsAFault(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)

		_, err := c.Call(ctxT(t), "no.such.command")
		var fault *xmlrpc.Fault
		if !errors.As(err, &fault) {
			t.Fatalf("err = %v (%T), want an *xmlrpc.Fault", err, err)
		}
		if fault.Code != xmlrpc.FaultNoMethod || !strings.Contains(fault.Message, "no.such.command") {
			t.Errorf("fault = %+v, want code -506 naming the method", fault)
		}
		if !strings.Contains(err.Error(), "rtorrent: no.such.command:") {
			t.Errorf("error %q does not name the method", err)
		}

		// An unknown command inside a multicall field is rTorrent's -503, once
		// there is a row to evaluate it on (an empty view answers []).
		tr := rtorrenttest.MakeTorrentBytes(t, "fault.bin", 1000)
		if _, err := c.Call(ctxT(t), "load.raw", str(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
			t.Fatal(err)
		}
		waitRow(t, c, tr.Hash, func([]xmlrpc.Value) bool { return true })
		_, err = c.DMulticall(ctxT(t), "main", "d.hash=", "d.nope=")
		if !errors.As(err, &fault) || fault.Code != xmlrpc.FaultParse {
			t.Errorf("multicall with unknown field: err = %v, want fault -503", err)
		}
	})
}

func TestSystemMulticallKeepsFaultsInPlace(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)

		res, err := c.SystemMulticall(ctxT(t), []rtorrent.MethodCall{
			{Method: "system.client_version"},
			{Method: "nope.nope"},
			{Method: "throttle.global_down.rate", Params: []xmlrpc.Value{str("")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 3 {
			t.Fatalf("%d results", len(res))
		}
		if res[0].Fault != nil || res[0].Value.String() != rt.Version.Name {
			t.Errorf("entry 0 = %+v", res[0])
		}
		if res[1].Fault == nil || res[1].Fault.Code != xmlrpc.FaultNoMethod {
			t.Errorf("entry 1 = %+v, want fault -506", res[1])
		}
		if res[2].Fault != nil || res[2].Value.Kind() != xmlrpc.Int {
			t.Errorf("entry 2 = %+v, want an int", res[2])
		}
	})
}

// floodFields is Flood 4.11's torrent-list poll as it sends it to 0.9.8,
// from the byte-exact capture.
var floodFields = rtorrenttest.FloodFields()

// row returns the d.multicall2 row of hash over view, or nil.
func row(t *testing.T, c *rtorrent.Client, view, hash string, fields ...string) []xmlrpc.Value {
	t.Helper()
	rows, err := c.DMulticall(ctxT(t), view, append([]string{"d.hash="}, fields...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r[0].String() == hash {
			return r[1:]
		}
	}
	return nil
}

// waitRow polls until the row of hash satisfies ok.
func waitRow(t *testing.T, c *rtorrent.Client, hash string, ok func([]xmlrpc.Value) bool, fields ...string) []xmlrpc.Value {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := row(t, c, "main", hash, fields...)
		if r != nil && ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("row of %s never got there; last %v (fields %v)", hash, r, fields)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTorrentLifecycle(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		ctx := ctxT(t)
		// A multi-file torrent with a tracker, whose data is not where rTorrent looks.
		const announce = "http://127.0.0.1:1/announce"
		tr := rtorrenttest.MakeTorrent(t, t.TempDir(), "lifecycle", 100_000,
			&rtorrenttest.TorrentOptions{Announce: announce, Files: 3})

		// load.raw with the .torrent as base64 and an extra command, as Flood does.
		if _, err := c.Call(ctx, "load.raw", str(""), xmlrpc.NewBase64(tr.Bytes), str("d.custom1.set=tagged")); err != nil {
			t.Fatal(err)
		}
		r := waitRow(t, c, tr.Hash, func([]xmlrpc.Value) bool { return true }, "d.name=", "d.state=", "d.size_bytes=", "d.custom1=")
		if r[0].String() != "lifecycle" || r[1].Int() != 0 || r[2].Int() != 100_000 || r[3].String() != "tagged" {
			t.Errorf("loaded row = %v", r)
		}

		// Flood's whole poll decodes with the row width it asked for.
		rows, err := c.DMulticall(ctx, "main", floodFields...)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || len(rows[0]) != len(floodFields) || rows[0][0].String() != tr.Hash {
			t.Fatalf("flood poll = %v", rows)
		}

		// Start, then stop, then erase, each seen in the views.
		if _, err := c.Call(ctx, "d.start", str(tr.Hash)); err != nil {
			t.Fatal(err)
		}
		waitRow(t, c, tr.Hash, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.state=")
		if row(t, c, "started", tr.Hash) == nil {
			t.Error("started download not in the started view")
		}
		if _, err := c.Call(ctx, "d.stop", str(tr.Hash)); err != nil {
			t.Fatal(err)
		}
		waitRow(t, c, tr.Hash, func(r []xmlrpc.Value) bool { return r[0].Int() == 0 }, "d.state=")
		if row(t, c, "stopped", tr.Hash) == nil {
			t.Error("stopped download not in the stopped view")
		}

		// Files and trackers of the download; no peers on an isolated rTorrent.
		files, err := c.FMulticall(ctx, tr.Hash, "", "f.path=", "f.size_bytes=", "f.priority=")
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for i, f := range files {
			if i >= len(tr.Files) || f[0].String() != tr.Files[i] {
				t.Errorf("file %d = %v, want path %q", i, f, tr.Files)
			}
			total += f[1].Int()
		}
		if len(files) != 3 || total != tr.Size {
			t.Errorf("files = %v, want 3 adding up to %d bytes", files, tr.Size)
		}
		trackers, err := c.TMulticall(ctx, tr.Hash, "t.url=", "t.is_enabled=")
		if err != nil {
			t.Fatal(err)
		}
		if len(trackers) != 1 || trackers[0][0].String() != announce || trackers[0][1].Int() != 1 {
			t.Errorf("trackers = %v, want one enabled %s", trackers, announce)
		}
		peers, err := c.PMulticall(ctx, tr.Hash, "p.address=", "p.down_rate=")
		if err != nil || len(peers) != 0 {
			t.Errorf("peers = %v, %v; want none", peers, err)
		}

		if _, err := c.Call(ctx, "d.erase", str(tr.Hash)); err != nil {
			t.Fatal(err)
		}
		if r := row(t, c, "main", tr.Hash); r != nil {
			t.Error("erased download still listed")
		}
		_, err = c.Call(ctx, "d.name", str(tr.Hash))
		var fault *xmlrpc.Fault
		if !errors.As(err, &fault) {
			t.Errorf("d.name of an erased download: %v, want a fault", err)
		}
	})
}

func TestSeedingTorrentPassesHashCheck(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		ctx := ctxT(t)
		// Data that exists where rTorrent will look for it.
		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "seed.bin", 1<<20, nil)

		if _, err := c.Call(ctx, "load.raw_start", str(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
			t.Fatal(err)
		}
		r := waitRow(t, c, tr.Hash, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 && r[1].Int() == 0 },
			"d.complete=", "d.hashing=", "d.bytes_done=", "d.state=")
		if r[2].Int() != 1<<20 || r[3].Int() != 1 {
			t.Errorf("after hash check: bytes_done %d, state %d", r[2].Int(), r[3].Int())
		}

		// And an explicit re-check comes back complete too.
		if _, err := c.Call(ctx, "d.check_hash", str(tr.Hash)); err != nil {
			t.Fatal(err)
		}
		waitRow(t, c, tr.Hash, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 && r[1].Int() == 0 }, "d.complete=", "d.hashing=")
	})
}

func TestInfoIsAskedAgainAfterRestart(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c, err := rtorrent.New(rt.Addr(), &rtorrent.Options{SCGI: &scgi.ClientOptions{Retries: -1}})
		if err != nil {
			t.Fatal(err)
		}
		first, err := c.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}

		rt.Stop()
		_, err = c.Call(ctxT(t), "system.client_version")
		if err == nil {
			t.Fatal("call to a stopped rTorrent succeeded")
		}
		if !strings.Contains(err.Error(), rt.Socket) {
			t.Errorf("connect error %q does not name the socket", err)
		}

		rt.Restart(t)
		second, err := c.Info(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if second == first {
			t.Error("Info was not asked again after a failed connection")
		}
	})
}

func TestContextCancelStopsACall(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Call(ctx, "system.client_version"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

func TestValuesOutliveTheNextCall(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		// Decoders are pooled; what one call returned must not change when the
		// same decoder serves the next call.
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		ctx := ctxT(t)
		for i := range 3 {
			tr := rtorrenttest.MakeTorrentBytes(t, "keep"+string(rune('a'+i)), 1000)
			if _, err := c.Call(ctx, "load.raw", str(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := c.DMulticall(ctx, "main", "d.hash=", "d.name=", "d.size_bytes=")
		if err != nil {
			t.Fatal(err)
		}
		before := xmlrpc.NewArray()
		for _, r := range rows {
			before = xmlrpc.NewArray(append(before.Values(), xmlrpc.NewArray(r...))...)
		}
		snapshot := before.String()
		for range 20 {
			if _, err := c.DMulticall(ctx, "main", "d.name=", "d.hash=", "d.directory="); err != nil {
				t.Fatal(err)
			}
		}
		if got := before.String(); got != snapshot {
			t.Fatalf("earlier result changed:\nbefore %s\nafter  %s", snapshot, got)
		}
	})
}

// TestIsUnknownHash: the fault for a hash rTorrent does not have, in each
// version's form, is recognised; other faults are not.
func TestIsUnknownHash(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		_, err := c.Call(ctxT(t), "d.name", str("0123456789ABCDEF0123456789ABCDEF01234567"))
		if !rtorrent.IsUnknownHash(err) {
			t.Errorf("d.name of an unknown hash: %v is not recognised", err)
		}
		_, err = c.Call(ctxT(t), "d.name", str("xyz"))
		if err == nil || rtorrent.IsUnknownHash(err) {
			t.Errorf("d.name of a malformed target: %v, recognised as an unknown hash", err)
		}
	})
}
