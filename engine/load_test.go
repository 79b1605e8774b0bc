package engine_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/engine"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// syncBuffer is a bytes.Buffer safe for the engine's goroutines to log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLoadForms covers the load.* forms and sources the differential tests
// cannot (rTorrent 0.9.8 has no _throw forms and no data URIs): what is
// added, what is refused, and how each form reports a refusal.
func TestLoadForms(t *testing.T) {
	var logs syncBuffer
	e, err := engine.New(engine.Options{
		DataDir: t.TempDir(), SessionDir: t.TempDir(), ListenHost: "127.0.0.1", DisableDHT: true,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })

	data := rtorrenttest.MakeTorrentBytes(t, "data-uri.bin", 10_000)
	uri := "data:applications/x-bittorrent;base64," + base64.StdEncoding.EncodeToString(data.Bytes)
	if v := call(t, e, "load.start_throw", "", uri, "d.custom1.set=from-data-uri"); v.Int() != 0 {
		t.Errorf("load.start_throw = %v, want 0", v)
	}
	r := row(t, e, data.Hash, "d.state=", "d.custom1=", "d.tied_to_file=")
	if r == nil || r[0].Int() != 1 || r[1].String() != "from-data-uri" || r[2].String() != "" {
		t.Errorf("data URI download: state, custom1, tied_to_file = %v", r)
	}

	noTracker := rtorrenttest.MakeTorrent(t, t.TempDir(), "trackerless.bin", 10_000, &rtorrenttest.TorrentOptions{NoAnnounce: true})
	for _, c := range []struct {
		name, method string
		src          any
		fault        string
	}{
		{"not a torrent", "load.raw_throw", []byte("not a torrent"), "Could not create download: invalid torrent"},
		{"duplicate", "load.throw", uri, "Could not create download: Info hash already used by another torrent."},
		{"no trackers without DHT", "load.raw_throw", noTracker.Bytes, "Could not create download: Could not find any trackers"},
		{"URL", "load.throw", "http://example.com/x.torrent", "Could not create download: fetching http://example.com/x.torrent is not supported"},
		{"missing file", "load.start_throw", "/nonexistent.torrent", "Could not create download: open /nonexistent.torrent"},
		{"bad magnet", "load.throw", "magnet:?xt=urn:nope", "Could not create download: invalid magnet URI"},
		{"bad data URI", "load.throw", "data:nocomma", "Could not create download: invalid data URI"},
	} {
		f := callFault(t, e, c.method, "", c.src)
		if f.Code != xmlrpc.FaultParse || !strings.HasPrefix(f.Message, c.fault) {
			t.Errorf("%s: fault %d %q, want -503 %q…", c.name, f.Code, f.Message, c.fault)
		}
		// The other forms answer 0 for the same refusal, and the
		// _verbose ones log it.
		for _, m := range quietForms[c.method] {
			if v := call(t, e, m, "", c.src); v.Int() != 0 {
				t.Errorf("%s: %s = %v, want 0", c.name, m, v)
			}
		}
	}
	if n := len(rows(t, e, "main", "d.hash=")); n != 1 {
		t.Errorf("%d downloads, want only the data URI's", n)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "Could not find any trackers") {
		t.Errorf("the _verbose forms logged nothing useful:\n%s", logs.String())
	}

	// A load command that erases the new download leaves nothing behind.
	gone := rtorrenttest.MakeTorrentBytes(t, "gone.bin", 10_000)
	call(t, e, "load.raw_start", "", gone.Bytes, "d.erase=")
	if row(t, e, gone.Hash) != nil {
		t.Error("download erased by its load command is listed")
	}
	// Targets and faults of load itself.
	if f := callFault(t, e, "load.raw"); f.Message != "Too few arguments." {
		t.Errorf("load.raw without params: %v", f)
	}
	waitRow(t, e, data.Hash, 10*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 0 }, "d.hashing=")
}

// quietForms are the forms that answer 0 where a _throw form faults.
var quietForms = map[string][]string{
	"load.throw":           {"load.normal", "load.verbose"},
	"load.start_throw":     {"load.start", "load.start_verbose"},
	"load.raw_throw":       {"load.raw", "load.raw_verbose"},
	"load.raw_start_throw": {"load.raw_start", "load.raw_start_verbose"},
}

// TestPeerTargetUnknown: a peer target naming no connected peer faults.
func TestPeerTargetUnknown(t *testing.T) {
	e := newEnv(t)
	tr := rtorrenttest.MakeTorrentBytes(t, "nopeers.bin", 10_000)
	load(t, e, "load.raw", tr)
	f := callFault(t, e, "p.address", tr.Hash+":p"+strings.Repeat("AB", 20))
	if f.Code != xmlrpc.FaultType {
		t.Errorf("unknown peer: %v", f)
	}
	if v := call(t, e, "p.multicall", tr.Hash, "", "p.id="); v.Len() != 0 {
		t.Errorf("p.multicall of a stopped download = %v", v)
	}
}
