package engine_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// These tests move real data over loopback between the engine and a real
// rTorrent. With DHT off they find each other through an HTTP tracker
// served by the test, which hands each announcer the others' addresses.

// tracker is a minimal BitTorrent HTTP tracker: compact peer lists, the
// complete/incomplete counts, and a log of every announce.
type tracker struct {
	srv *httptest.Server

	mu        sync.Mutex
	swarms    map[string]map[string]bool // info hash (hex) → "ip:port" → complete
	announces []announce
}

type announce struct {
	hash  string // uppercase hex
	port  int
	event string
	left  int64
	up    int64
	down  int64
}

func newTracker(t *testing.T) *tracker {
	tk := &tracker{swarms: make(map[string]map[string]bool)}
	tk.srv = httptest.NewServer(tk)
	t.Cleanup(func() {
		tk.srv.Close()
		if t.Failed() {
			t.Logf("tracker's announces: %+v", tk.log())
		}
	})
	return tk
}

func (tk *tracker) url() string { return tk.srv.URL + "/announce" }

func (tk *tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ih := q.Get("info_hash")
	port, _ := strconv.Atoi(q.Get("port"))
	if len(ih) != 20 || port == 0 {
		http.Error(w, "bad announce", http.StatusBadRequest)
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	a := announce{hash: strings.ToUpper(hex.EncodeToString([]byte(ih))), port: port, event: q.Get("event")}
	a.left, _ = strconv.ParseInt(q.Get("left"), 10, 64)
	a.up, _ = strconv.ParseInt(q.Get("uploaded"), 10, 64)
	a.down, _ = strconv.ParseInt(q.Get("downloaded"), 10, 64)
	self := net.JoinHostPort(host, strconv.Itoa(port))

	tk.mu.Lock()
	tk.announces = append(tk.announces, a)
	swarm := tk.swarms[a.hash]
	if swarm == nil {
		swarm = make(map[string]bool)
		tk.swarms[a.hash] = swarm
	}
	if a.event == "stopped" {
		delete(swarm, self)
	} else {
		swarm[self] = a.left == 0
	}
	var compact []byte
	complete, incomplete := 0, 0
	for addr, done := range swarm {
		if done {
			complete++
		} else {
			incomplete++
		}
		if addr == self {
			continue
		}
		ap, err := netipAddrPort(addr)
		if err != nil {
			continue
		}
		compact = append(compact, ap...)
	}
	tk.mu.Unlock()

	b, err := bencode.Marshal(map[string]any{
		"interval":   1800,
		"complete":   complete,
		"incomplete": incomplete,
		"peers":      string(compact),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(b)
}

// netipAddrPort returns an IPv4 "ip:port" in compact form.
func netipAddrPort(addr string) ([]byte, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host).To4()
	p, err := strconv.Atoi(port)
	if ip == nil || err != nil {
		return nil, net.InvalidAddrError(addr)
	}
	return append(ip, byte(p>>8), byte(p)), nil
}

// waitAnnounce waits for an announce of hash from port with event ("" for
// any) and returns it.
func (tk *tracker) waitAnnounce(t *testing.T, hash string, port int, event string) announce {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tk.mu.Lock()
		for _, a := range tk.announces {
			if a.hash == hash && a.port == port && (event == "" || a.event == event) {
				tk.mu.Unlock()
				return a
			}
		}
		tk.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no announce of %s from port %d with event %q; got %v", hash, port, event, tk.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tk *tracker) count(hash string, port int) int {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	n := 0
	for _, a := range tk.announces {
		if a.hash == hash && a.port == port {
			n++
		}
	}
	return n
}

func (tk *tracker) log() []announce {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return append([]announce(nil), tk.announces...)
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func startRtorrent(t *testing.T) (*rtorrenttest.Instance, *rtorrent.Client) {
	t.Helper()
	rti := rtorrenttest.Start(t, nil)
	c, err := rtorrent.New(rti.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rti, c
}

var peerFields = []string{"p.id=", "p.address=", "p.port=", "p.client_version=", "p.completed_percent=",
	"p.down_rate=", "p.down_total=", "p.up_rate=", "p.up_total=", "p.is_encrypted=", "p.is_incoming=", "p.is_snubbed="}

// peerRows returns p.multicall's rows of hash with peerFields.
func peerRows(t *testing.T, c caller, hash string) [][]xmlrpc.Value {
	t.Helper()
	v := call(t, c, "p.multicall", append([]any{hash, ""}, anys(peerFields)...)...)
	var out [][]xmlrpc.Value
	for _, r := range v.Values() {
		out = append(out, r.Values())
	}
	return out
}

// TestDownloadFromRtorrent has the engine download a torrent a real
// rTorrent seeds, under a download rate limit so that the transfer can be
// watched: peers, rates and totals while it runs, equal checksums after.
func TestDownloadFromRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		tk := newTracker(t)
		rti, rt := startRtorrent(t)
		const size = 3 << 20
		tr := rtorrenttest.MakeTorrent(t, rti.DownloadDir, "from-rtorrent.bin", size, &rtorrenttest.TorrentOptions{
			Announce: tk.url(), PieceLength: 64 << 10,
		})
		load(t, rt, "load.raw_start", tr)
		waitRow(t, rt, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")
		tk.waitAnnounce(t, tr.Hash, rti.Port, "started")

		e := newEnv(t)
		call(t, e, "throttle.global_down.max_rate.set", "", "512k")
		start := time.Now()
		load(t, e, "load.raw_start", tr)

		// While it downloads: the engine sees rTorrent as a seed it connected
		// to, and rTorrent sees the engine.
		var seen bool
		deadline := time.Now().Add(30 * time.Second)
		for !seen && time.Now().Before(deadline) {
			ps := peerRows(t, e, tr.Hash)
			r := row(t, e, tr.Hash, "d.down.rate=", "d.peers_complete=", "d.peers_accounted=", "d.peers_connected=", "d.complete=")
			if len(ps) == 1 && r[0].Int() > 0 {
				seen = true
				p := ps[0]
				if p[1].String() != "127.0.0.1" || p[2].Int() != int64(rti.Port) {
					t.Errorf("peer address %v:%v, want rTorrent's 127.0.0.1:%d", p[1], p[2], rti.Port)
				}
				// 0.9.8's libtorrent 0.13.8 says "-lt0D80-"; 0.16.17's
				// libtorrent uses another version scheme in its peer id,
				// which the engine reads as 0.9.8 would.
				if want := map[bool]string{true: "libTorrent 0.13.8", false: "libTorrent "}[rti.Version.Legacy()]; !strings.HasPrefix(p[3].String(), want) {
					t.Errorf("p.client_version = %v, want %s…", p[3], want)
				}
				if p[4].Int() != 100 || p[10].Int() != 0 || len(p[0].String()) != 40 {
					t.Errorf("peer row %v: want a complete, outgoing peer with a 40-digit id", p)
				}
				if r[1].Int() != 1 || r[2].Int() != 0 || r[3].Int() != 1 {
					t.Errorf("peers complete/accounted/connected = %v/%v/%v, want 1/0/1", r[1], r[2], r[3])
				}
				// The peer target resolves.
				if got := call(t, e, "p.address", tr.Hash+":p"+p[0].String()); got.String() != "127.0.0.1" {
					t.Errorf("p.address by target = %v", got)
				}
				// The same peer as rTorrent lists it has the same fields and types.
				rps := peerRows(t, rt, tr.Hash)
				if len(rps) != 1 {
					t.Fatalf("rTorrent lists %d peers, want the engine", len(rps))
				}
				for i := range peerFields {
					if rps[0][i].Kind() != p[i].Kind() {
						t.Errorf("%s: rTorrent answers %v, the engine %v", peerFields[i], rps[0][i].Kind(), p[i].Kind())
					}
				}
				if rps[0][10].Int() != 1 {
					t.Errorf("rTorrent says the engine's connection is not incoming: %v", rps[0])
				}
			}
			if r != nil && r[4].Int() == 1 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !seen {
			t.Error("never saw the transfer running")
		}
		waitRow(t, e, tr.Hash, 60*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")
		took := time.Since(start)
		if took < 4*time.Second {
			t.Errorf("3 MiB at 512 KiB/s took %v: the rate limit did not apply", took)
		}
		if got, want := sha256File(t, filepath.Join(e.dataDir, tr.Name)), sha256File(t, tr.Path); got != want {
			t.Fatalf("downloaded content differs: sha256 %s, want %s", got, want)
		}
		r := row(t, e, tr.Hash, "d.bytes_done=", "d.down.total=", "d.timestamp.finished=", "d.left_bytes=")
		if r[0].Int() != size || r[1].Int() < size || r[2].Int() == 0 || r[3].Int() != 0 {
			t.Errorf("after the download: bytes_done, down.total, finished, left = %v", r)
		}
		if total := call(t, e, "throttle.global_down.total", "").Int(); total < size {
			t.Errorf("throttle.global_down.total = %d, want ≥ %d", total, size)
		}
		// The engine told the tracker it completed.
		tk.waitAnnounce(t, tr.Hash, e.ListenPort(), "completed")
		tps := call(t, e, "t.multicall", tr.Hash, "", "t.url=", "t.success_counter=", "t.scrape_complete=", "t.latest_event=")
		if tps.Len() != 1 || tps.Index(0).Index(1).Int() < 1 || tps.Index(0).Index(2).Int() < 1 {
			t.Errorf("t.multicall after announces: %v", tps)
		}

		// With the only seed gone, a restarted engine still has it all: it
		// resumes from its session without downloading or checking again.
		rti.Stop()
		e = restart(t, e)
		r = row(t, e, tr.Hash, "d.complete=", "d.bytes_done=", "d.down.total=", "d.hashing=", "d.is_active=")
		if r[0].Int() != 1 || r[1].Int() != size || r[2].Int() < size || r[3].Int() != 0 || r[4].Int() != 1 {
			t.Errorf("after restart: complete, bytes_done, down.total, hashing, active = %v", r)
		}
		if got, want := sha256File(t, filepath.Join(e.dataDir, tr.Name)), sha256File(t, tr.Path); got != want {
			t.Fatalf("content changed across the restart")
		}
	})
}

// TestMagnetFromRtorrent loads a magnet URI whose tracker knows a real
// rTorrent seeding the torrent: the engine shows rTorrent's placeholder
// ("<HASH>.meta", one byte) until the metadata comes from rTorrent, then
// the torrent itself, which it downloads and keeps across a restart.
func TestMagnetFromRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		tk := newTracker(t)
		rti, rt := startRtorrent(t)
		tr := rtorrenttest.MakeTorrent(t, rti.DownloadDir, "magnet", 300_000, &rtorrenttest.TorrentOptions{Announce: tk.url(), Files: 2})
		load(t, rt, "load.raw_start", tr)
		waitRow(t, rt, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")
		tk.waitAnnounce(t, tr.Hash, rti.Port, "started")

		e := newEnv(t)
		uri := "magnet:?xt=urn:btih:" + strings.ToLower(tr.Hash) + "&dn=magnet&tr=" + url.QueryEscape(tk.url())
		call(t, e, "load.normal", "", uri, "d.custom.set=addtime,42")
		r := row(t, e, tr.Hash, "d.name=", "d.size_bytes=", "d.is_multi_file=", "d.state=")
		if r[0].String() != tr.Hash+".meta" || r[1].Int() != 1 || r[2].Int() != 0 || r[3].Int() != 0 {
			t.Errorf("magnet before metadata: name, size, multi, state = %v", r)
		}
		call(t, e, "d.start", tr.Hash)
		r = waitRow(t, e, tr.Hash, 60*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 },
			"d.complete=", "d.name=", "d.size_bytes=", "d.is_multi_file=", "d.size_files=", "d.custom=addtime")
		if r[1].String() != "magnet" || r[2].Int() != 300_000 || r[3].Int() != 1 || r[4].Int() != 2 || r[5].String() != "42" {
			t.Errorf("magnet after metadata: name, size, multi, files, addtime = %v", r[1:])
		}
		for _, f := range tr.Files {
			if got, want := sha256File(t, filepath.Join(e.dataDir, "magnet", filepath.FromSlash(f))), sha256File(t, filepath.Join(tr.Path, filepath.FromSlash(f))); got != want {
				t.Errorf("%s: content differs", f)
			}
		}
		rti.Stop()
		e = restart(t, e)
		if r := row(t, e, tr.Hash, "d.name=", "d.complete=", "d.size_bytes="); r[0].String() != "magnet" || r[1].Int() != 1 || r[2].Int() != 300_000 {
			t.Errorf("magnet download after restart: %v", r)
		}
	})
}

// TestSeedToRtorrent has a real rTorrent download a torrent the engine
// seeds, and checks the stopped announce when the engine stops.
func TestSeedToRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		tk := newTracker(t)
		e := newEnv(t)
		const size = 2<<20 + 12345
		tr := rtorrenttest.MakeTorrent(t, e.dataDir, "to-rtorrent.bin", size, &rtorrenttest.TorrentOptions{
			Announce: tk.url(), PieceLength: 32 << 10,
		})
		load(t, e, "load.raw_start", tr)
		waitRow(t, e, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 && r[1].Int() == 1 }, "d.complete=", "d.is_active=")
		tk.waitAnnounce(t, tr.Hash, e.ListenPort(), "started")

		rti, rt := startRtorrent(t)
		load(t, rt, "load.raw_start", tr)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("engine: %v peers %v", row(t, e, tr.Hash, "d.message=", "d.is_active=", "d.peers_connected=", "d.up.total="), peerRows(t, e, tr.Hash))
				t.Logf("rTorrent: %v peers %v", row(t, rt, tr.Hash, "d.message=", "d.is_active=", "d.peers_connected=", "d.down.total=", "d.hashing=", "d.state="), peerRows(t, rt, tr.Hash))
				var b strings.Builder
				e.WriteClientStatus(&b)
				t.Logf("anacrolix status:\n%s", b.String())
			}
		})
		// rTorrent connects to the engine when its announce returns the
		// engine's address; the engine reannounces too, so that it learns
		// rTorrent's and the two also meet if that one attempt failed (once,
		// on a loaded machine, rTorrent never got a byte otherwise).
		tk.waitAnnounce(t, tr.Hash, rti.Port, "started")
		reannounce(t, tk, e, tr.Hash)
		waitRow(t, rt, tr.Hash, 60*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")
		if got, want := sha256File(t, filepath.Join(rti.DownloadDir, tr.Name)), sha256File(t, tr.Path); got != want {
			t.Fatalf("rTorrent's copy differs: sha256 %s, want %s", got, want)
		}
		r := waitRow(t, e, tr.Hash, 10*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() >= size }, "d.up.total=", "d.ratio=")
		if r[1].Int() < 1000 {
			t.Errorf("d.ratio = %v after uploading everything, want ≥ 1000", r[1])
		}

		// d.stop announces "stopped".
		call(t, e, "d.stop", tr.Hash)
		a := tk.waitAnnounce(t, tr.Hash, e.ListenPort(), "stopped")
		if a.up < size {
			t.Errorf("stopped announce reports %d uploaded, want ≥ %d", a.up, size)
		}
		r = row(t, e, tr.Hash, "d.state=", "d.is_active=", "d.up.rate=", "d.peers_connected=")
		if r[0].Int() != 0 || r[1].Int() != 0 || r[2].Int() != 0 || r[3].Int() != 0 {
			t.Errorf("after d.stop: state, active, up.rate, peers = %v", r)
		}
	})
}

// reannounce calls d.tracker_announce and waits for the announce.
func reannounce(t *testing.T, tk *tracker, e *env, hash string) {
	t.Helper()
	n := tk.count(hash, e.ListenPort())
	call(t, e, "d.tracker_announce", hash)
	deadline := time.Now().Add(10 * time.Second)
	for tk.count(hash, e.ListenPort()) == n {
		if time.Now().After(deadline) {
			t.Fatal("d.tracker_announce sent no announce")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDisabledTrackerIsNotAnnounced checks t.disable: a disabled tracker
// gets no announce when the download starts.
func TestDisabledTrackerIsNotAnnounced(t *testing.T) {
	on, off := newTracker(t), newTracker(t)
	e := newEnv(t)
	tr := rtorrenttest.MakeTorrent(t, e.dataDir, "two-trackers.bin", 40_000, &rtorrenttest.TorrentOptions{Announce: off.url()})
	load(t, e, "load.raw", tr)
	call(t, e, "d.tracker.insert", tr.Hash, "1", on.url())
	call(t, e, "t.disable", tr.Hash+":t0")
	call(t, e, "d.start", tr.Hash)
	on.waitAnnounce(t, tr.Hash, e.ListenPort(), "started")
	if n := off.count(tr.Hash, e.ListenPort()); n != 0 {
		t.Errorf("disabled tracker got %d announces", n)
	}
	want := xmlrpc.NewArray(
		xmlrpc.NewArray(xmlrpc.NewString(off.url()), xmlrpc.NewInt(0), xmlrpc.NewInt(0), xmlrpc.NewInt(0)),
		xmlrpc.NewArray(xmlrpc.NewString(on.url()), xmlrpc.NewInt(1), xmlrpc.NewInt(1), xmlrpc.NewInt(1)),
	)
	// The tracker has heard the announce; the engine counts it once the
	// answer is in, a moment later.
	var got xmlrpc.Value
	rtorrenttest.WaitFor(t, "the announce counted", func() bool {
		got = call(t, e, "t.multicall", tr.Hash, "", "t.url=", "t.is_enabled=", "t.group=", "t.success_counter=")
		return got.Equal(want)
	})

	// A hash check of the started download pauses its transfers, not its
	// announces: the tracker hears neither "stopped" nor a new "started".
	call(t, e, "d.check_hash", tr.Hash)
	settled(t, e, tr.Hash)
	reannounce(t, on, e, tr.Hash)
	for _, a := range on.log() {
		if a.event == "stopped" || a.event == "started" && a != on.log()[0] {
			t.Errorf("announces after d.check_hash: %+v", on.log())
			break
		}
	}
	if r := row(t, e, tr.Hash, "d.is_active=", "d.complete="); r[0].Int() != 1 || r[1].Int() != 1 {
		t.Errorf("after d.check_hash: active, complete = %v", r)
	}
}
