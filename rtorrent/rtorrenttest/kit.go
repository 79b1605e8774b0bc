package rtorrenttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// This file is the kit that tests against a real rTorrent share: calls
// that wait until rTorrent has really done what it answered (loads are
// asynchronous, hash checks are queued), a generic wait, and Flood's field
// list from the one byte-exact capture. Unlike RawCall it uses the
// project's client: it is for tests of what sits above it.

// Caller is what the kit calls rTorrent through: *rtorrent.Client, or any
// door of rtgate in front of it.
type Caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

var _ Caller = (*rtorrent.Client)(nil)

// DefaultWait bounds WaitFor and the kit's other waits.
const DefaultWait = 20 * time.Second

// Client returns a client of the instance (rtorrent.New with default
// options, on Addr).
func (i *Instance) Client(t testing.TB) *rtorrent.Client {
	t.Helper()
	c, err := rtorrent.New(i.Addr(), nil)
	if err != nil {
		t.Fatalf("rtorrenttest: client: %v", err)
	}
	return c
}

// WaitFor calls cond every 10 ms until it reports true, and fails the test
// naming what it waited for if that takes longer than DefaultWait. cond
// runs on the test's goroutine; it may call t.Fatal.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForWithin(t, DefaultWait, what, cond)
}

// WaitForWithin is WaitFor with its own bound.
func WaitForWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("rtorrenttest: %s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// LoadOptions tunes Load. A nil *LoadOptions loads the torrent stopped,
// with no extra command.
type LoadOptions struct {
	// Start loads with load.raw_start instead of load.raw, and waits until
	// the download's first hash check has finished (WaitHashed).
	Start bool
	// Commands are load.raw's extra commands, run on the new download
	// before it starts: "d.custom1.set=tag", `d.directory.set="/dl"`.
	Commands []string
}

// Load adds tr through c and returns once rTorrent lists it. rTorrent
// answers load.raw* before the download exists (the load runs on its main
// loop), and answers 0 for a torrent it refuses too; Load waits until
// d.hash answers for the torrent's hash and fails the test if it never
// does. With opts.Start it also waits for the first hash check to end.
func Load(t testing.TB, c Caller, tr Torrent, opts *LoadOptions) {
	t.Helper()
	if opts == nil {
		opts = &LoadOptions{}
	}
	method := "load.raw"
	if opts.Start {
		method = "load.raw_start"
	}
	params := []xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)}
	for _, cmd := range opts.Commands {
		params = append(params, xmlrpc.NewString(cmd))
	}
	if _, err := c.Call(context.Background(), method, params...); err != nil {
		t.Fatalf("rtorrenttest: %s %s: %v", method, tr.Name, err)
	}
	WaitLoaded(t, c, tr.Hash)
	if opts.Start {
		WaitHashed(t, c, tr.Hash)
	}
}

// WaitLoaded waits until rTorrent lists the download with this hash.
func WaitLoaded(t testing.TB, c Caller, hash string) {
	t.Helper()
	WaitFor(t, "download "+hash+" listed", func() bool {
		_, err := c.Call(context.Background(), "d.hash", xmlrpc.NewString(hash))
		return err == nil
	})
}

// WaitHashed waits until the download's hash check has finished: rTorrent
// has checked it (d.is_hash_checked 1) and is not checking it
// (d.is_hash_checking 0, d.hashing 0). Before that a started download's
// check may still be queued, with d.is_hash_checking 0, and rTorrent
// 0.9.8 hangs for good if d.stop arrives while the check runs.
func WaitHashed(t testing.TB, c Caller, hash string) {
	t.Helper()
	target := xmlrpc.NewString(hash)
	WaitFor(t, "hash check of "+hash+" finished", func() bool {
		for _, f := range []struct {
			method string
			want   int64
		}{{"d.is_hash_checked", 1}, {"d.is_hash_checking", 0}, {"d.hashing", 0}} {
			v, err := c.Call(context.Background(), f.method, target)
			if err != nil || v.Int() != f.want {
				return false
			}
		}
		return true
	})
}

// FloodFields returns the d.multicall2 fields of Flood 4.11's torrent-list
// poll as it sends them to rTorrent 0.9.8 (its two placeholders for
// commands 0.9.8 lacks are "false="), read from the byte-exact capture
// testdata/rtorrent-0.9.8/flood-multicall.call.xml: the call is
// d.multicall2("", "main", FloodFields()...).
func FloodFields() []string {
	f := floodFields()
	return append([]string(nil), f...)
}

var floodFields = sync.OnceValue(func() []string {
	path := filepath.Join(repoRoot(), "testdata", "rtorrent-0.9.8", "flood-multicall.call.xml")
	b, err := os.ReadFile(path)
	if err != nil {
		panic(fmt.Sprintf("rtorrenttest: Flood's capture: %v", err))
	}
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(b))
	if err != nil || method != "d.multicall2" || len(params) < 3 {
		panic(fmt.Sprintf("rtorrenttest: %s is not Flood's d.multicall2 (%s, %d params): %v", path, method, len(params), err))
	}
	fields := make([]string, 0, len(params)-2)
	for _, p := range params[2:] {
		fields = append(fields, p.String())
	}
	return fields
})

// repoRoot is the module's root directory, found from this file's path:
// tests always build from source.
func repoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("rtorrenttest: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// LoadMany adds n small stopped downloads named prefix-NNNNNN.bin (1000
// bytes each, no data on disk) through c, in system.multicall batches of
// 500 load.raw, and returns once rTorrent lists them all. They go in
// descending name order: rTorrent 0.9.8 inserts each into its name-sorted
// views by scanning from the front, so ascending names take 32 s for
// 10,000 and descending ones 7 s. Use Options.NoSession for thousands.
func LoadMany(t testing.TB, c Caller, prefix string, n int) []Torrent {
	t.Helper()
	ctx := context.Background()
	size := func() int64 {
		v, err := c.Call(ctx, "view.size", xmlrpc.NewString(""), xmlrpc.NewString("main"))
		if err != nil {
			t.Fatalf("rtorrenttest: view.size: %v", err)
		}
		return v.Int()
	}
	before := size()
	trs := make([]Torrent, n)
	for i := range trs {
		trs[i] = MakeTorrentBytes(t, fmt.Sprintf("%s-%06d.bin", prefix, i), 1000)
	}
	const batch = 500
	for i := 0; i < n; i += batch {
		calls := make([]rtorrent.MethodCall, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			tr := trs[n-1-j]
			calls = append(calls, rtorrent.MethodCall{Method: "load.raw", Params: []xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)}})
		}
		res, err := rtorrent.Multicall(ctx, c, calls)
		if err != nil {
			t.Fatalf("rtorrenttest: load batch at %d: %v", i, err)
		}
		for k, r := range res {
			if r.Fault != nil {
				t.Fatalf("rtorrenttest: load %d: %v", i+k, r.Fault)
			}
		}
	}
	WaitForWithin(t, 5*time.Minute, fmt.Sprintf("%d downloads listed", n), func() bool { return size() >= before+int64(n) })
	return trs
}

// WaitSaved waits until the download's session files are on disk under
// their final names: rTorrent 0.9.8 writes them while it adds the
// download, 0.16.17 in the background (as HASH.torrent.new, renamed a
// moment later), so a Kill right after a load loses the download on
// 0.16.17 unless the test waits for this first.
func (i *Instance) WaitSaved(t testing.TB, hash string) {
	t.Helper()
	if i.SessionDir == "" {
		t.Fatalf("rtorrenttest: WaitSaved without a session (Options.NoSession)")
	}
	WaitFor(t, "session files of "+hash, func() bool {
		for _, ext := range []string{".torrent", ".torrent.rtorrent", ".torrent.libtorrent_resume"} {
			if _, err := os.Stat(filepath.Join(i.SessionDir, strings.ToUpper(hash)+ext)); err != nil {
				return false
			}
		}
		return true
	})
}

// Call is one recorded XML-RPC call: its decoded method and params, and
// the request body as the client sent it.
type Call struct {
	Method string
	Params []xmlrpc.Value
	Body   []byte
}

// RuTorrentPoll returns the three calls ruTorrent (Novik/ruTorrent
// ee8e46f6, default plugins) makes every 2.5 s to refresh its list, as
// captured byte for byte from its traffic to this rTorrent version
// (testdata/rutorrent/poll-<version>/): the list (d.multicall2 of 46
// fields; d.multicall on 0.16), the global totals and max rates, and the
// open HTTP connections and sockets.
func RuTorrentPoll(v Version) []Call {
	var out []Call
	for _, name := range []string{"list", "totals", "sockets"} {
		path := filepath.Join(repoRoot(), "testdata", "rutorrent", "poll-"+v.Name, name+".xml")
		b, err := os.ReadFile(path)
		if err != nil {
			panic(fmt.Sprintf("rtorrenttest: ruTorrent's capture: %v", err))
		}
		method, params, err := xmlrpc.DecodeCall(bytes.NewReader(b))
		if err != nil {
			panic(fmt.Sprintf("rtorrenttest: %s: %v", path, err))
		}
		out = append(out, Call{Method: method, Params: params, Body: b})
	}
	return out
}

// Mix holds the hashes of the downloads LoadMix loads.
type Mix struct {
	Stopped  string // stopped, no data, d.custom1 "tag one", d.custom addtime 1700000000
	Seeding  string // started with its data, a tracker at http://127.0.0.1:1/announce
	Paused   string // started with its data, then paused
	Leeching string // started without its data
	Multi    string // three files, stopped, in the custom view MixView
}

// MixView is the custom view LoadMix adds and puts Mix.Multi in.
const MixView = "rtgatetest"

// LoadMix loads into i, through c, one download in each state a list
// shows, and a custom view: what tests of list reads compare.
func LoadMix(t testing.TB, i *Instance, c Caller) Mix {
	t.Helper()
	dir := i.DownloadDir
	mk := func(name string, opts *TorrentOptions) Torrent { return MakeTorrent(t, dir, name, 64<<10, opts) }
	var m Mix
	stopped := mk("a-stopped", nil)
	Load(t, c, stopped, &LoadOptions{Commands: []string{`d.custom1.set="tag one"`, "d.custom.set=addtime,1700000000"}})
	seeding := mk("b-seeding", &TorrentOptions{Announce: "http://127.0.0.1:1/announce"})
	Load(t, c, seeding, &LoadOptions{Start: true})
	paused := mk("c-paused", nil)
	Load(t, c, paused, &LoadOptions{Start: true})
	leeching := MakeTorrentBytes(t, "d-leeching", 64<<10)
	Load(t, c, leeching, &LoadOptions{Start: true})
	multi := mk("e-multi", &TorrentOptions{Files: 3})
	Load(t, c, multi, nil)
	ctx := context.Background()
	for _, call := range []struct {
		method string
		params []string
	}{
		{"d.pause", []string{paused.Hash}},
		{"view.add", []string{"", MixView}},
		{"view.set_visible", []string{multi.Hash, MixView}},
	} {
		ps := make([]xmlrpc.Value, len(call.params))
		for k, p := range call.params {
			ps[k] = xmlrpc.NewString(p)
		}
		if _, err := c.Call(ctx, call.method, ps...); err != nil {
			t.Fatalf("rtorrenttest: %s: %v", call.method, err)
		}
	}
	m.Stopped, m.Seeding, m.Paused, m.Leeching, m.Multi = stopped.Hash, seeding.Hash, paused.Hash, leeching.Hash, multi.Hash
	return m
}
