package engine_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// restart closes e and starts a new engine on the same directories.
func restart(t *testing.T, e *env) *env {
	t.Helper()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return startEnv(t, e.dataDir, e.session)
}

// TestStateSurvivesRestart changes downloads every way a client can, then
// closes the engine and starts a new one on the same directories: every
// field a poller reads comes back the same, in the same order, and a
// complete download is complete at once, without a new hash check.
func TestStateSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	other := t.TempDir()
	seeded := rtorrenttest.MakeTorrent(t, e.dataDir, "p-seeded.bin", 200_000, nil)
	stopped := rtorrenttest.MakeTorrentBytes(t, "p-stopped.bin", 50_000)
	paused := rtorrenttest.MakeTorrent(t, e.dataDir, "p-paused.bin", 60_000, nil)
	closed := rtorrenttest.MakeTorrent(t, e.dataDir, "p-closed.bin", 70_000, nil)
	multi := rtorrenttest.MakeTorrent(t, e.dataDir, "p-multi", 90_000, &rtorrenttest.TorrentOptions{Files: 3, Announce: "http://127.0.0.1:1/announce"})
	magnet := "magnet:?xt=urn:btih:" + rtorrenttest.MakeTorrentBytes(t, "p-magnet.bin", 1000).Hash + "&dn=m&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa"

	load(t, e, "load.raw_start", seeded, "d.custom.set=addtime,1700000000", `d.custom1.set="tag%20a,b"`, "d.custom.set=flood.selected_size,200000")
	load(t, e, "load.raw", stopped, "d.priority.set=3", `d.directory.set="`+other+`"`, "d.custom2.set=VRS24mrkerhi", "d.custom5.set=five")
	load(t, e, "load.raw_start", paused)
	load(t, e, "load.raw_start", closed)
	load(t, e, "load.raw_start", multi)
	call(t, e, "load.normal", "", magnet)
	for _, h := range []string{seeded.Hash, paused.Hash, closed.Hash, multi.Hash} {
		waitRow(t, e, h, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 && r[1].Int() == 0 }, "d.complete=", "d.hashing=")
	}
	call(t, e, "d.pause", paused.Hash)
	call(t, e, "d.close", closed.Hash)
	call(t, e, "f.priority.set", multi.Hash+":f1", 0)
	call(t, e, "f.priority.set", multi.Hash+":f2", 2)
	call(t, e, "t.disable", multi.Hash+":t0")
	call(t, e, "d.tracker.insert", multi.Hash, "1", "http://127.0.0.1:1/extra")
	call(t, e, "d.directory_base.set", closed.Hash, other)
	call(t, e, "throttle.global_up.max_rate.set", "", "100k")

	fields := append(append([]string{}, floodFields...), "d.directory_base=", "d.base_path=", "d.custom5=",
		"d.tied_to_file=", "d.load_date=", "d.timestamp.started=", "d.is_hash_checked=", "d.completed_chunks=",
		"d.is_multi_file=", "d.size_chunks=")
	volatile := map[string]bool{"d.message=": true} // the multi-file download's failed announce
	before := rows(t, e, "main", fields...)
	details := func(e *env) xmlrpc.Value {
		return xmlrpc.NewArray(
			call(t, e, "f.multicall", multi.Hash, "", "f.path=", "f.priority=", "f.completed_chunks="),
			call(t, e, "t.multicall", multi.Hash, "", "t.url=", "t.is_enabled=", "t.group="),
		)
	}
	beforeDetails := details(e)

	e = restart(t, e)
	after := rows(t, e, "main", fields...)
	compareRows(t, "restart (want before, got after)", fields, before, after, volatile)
	if got := details(e); !got.Equal(beforeDetails) {
		t.Errorf("files and trackers after restart:\n got %v\nwant %v", got, beforeDetails)
	}
	r := row(t, e, seeded.Hash, "d.complete=", "d.hashing=", "d.is_active=", "d.bytes_done=")
	if r[0].Int() != 1 || r[1].Int() != 0 || r[2].Int() != 1 || r[3].Int() != 200_000 {
		t.Errorf("seeded download after restart: complete, hashing, active, bytes_done = %v; want it complete and seeding without a check", r)
	}
	if got := call(t, e, "throttle.global_up.max_rate", ""); got.Int() != 0 {
		// Settings are rTorrent's rc business, not the session's: a new
		// engine starts with the defaults, as rTorrent starts with its rc.
		t.Errorf("throttle.global_up.max_rate after restart = %v, want 0 (the default)", got)
	}

	// Erased downloads stay erased.
	call(t, e, "d.erase", stopped.Hash)
	e = restart(t, e)
	if row(t, e, stopped.Hash) != nil {
		t.Error("erased download came back")
	}
	if _, err := os.Stat(filepath.Join(e.session, stopped.Hash+".torrent")); !os.IsNotExist(err) {
		t.Errorf("erased download's metainfo is still in the session: %v", err)
	}
	if n := len(rows(t, e, "main", "d.hash=")); n != 5 {
		t.Errorf("%d downloads after erase and restart, want 5", n)
	}
}

// corrupt overwrites a few bytes in the middle of path.
func corrupt(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("corrupted!"), 70_000); err != nil {
		t.Fatal(err)
	}
}

// TestHashCheckWhereRtorrentWould: after a clean restart the engine trusts
// its piece completion, as rTorrent trusts its resume data; after an
// unclean one, and on d.check_hash, it hashes the data again and finds
// what was damaged.
func TestHashCheckWhereRtorrentWould(t *testing.T) {
	e := newEnv(t)
	tr := rtorrenttest.MakeTorrent(t, e.dataDir, "check.bin", 200_000, nil)
	load(t, e, "load.raw_start", tr)
	waitRow(t, e, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")

	// Clean restart with damaged data: still complete, nothing hashed.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	corrupt(t, tr.Path)
	e = startEnv(t, e.dataDir, e.session)
	if r := row(t, e, tr.Hash, "d.complete=", "d.hashing="); r[0].Int() != 1 || r[1].Int() != 0 {
		t.Errorf("after a clean restart: complete, hashing = %v, want 1, 0", r)
	}

	// d.check_hash finds the damage.
	call(t, e, "d.check_hash", tr.Hash)
	r := waitRow(t, e, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[1].Int() == 0 }, "d.complete=", "d.hashing=", "d.bytes_done=")
	if r[0].Int() != 0 || r[2].Int() >= 200_000 {
		t.Errorf("after d.check_hash of damaged data: complete, hashing, bytes_done = %v, want it incomplete", r)
	}

	// Repair, then an unclean restart (no clean marker, as after a crash):
	// the data is hashed again and found complete.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := rtorrenttest.MakeTorrent(t, t.TempDir(), "check.bin", 200_000, nil)
	writeFile(t, tr.Path, mustRead(t, fresh.Path))
	if err := os.Remove(filepath.Join(e.session, "rtgate.clean")); err != nil {
		t.Fatal(err)
	}
	e = startEnv(t, e.dataDir, e.session)
	r = waitRow(t, e, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[1].Int() == 0 && r[2].Int() == 1 }, "d.complete=", "d.hashing=", "d.is_hash_checked=")
	if r[0].Int() != 1 {
		t.Errorf("after an unclean restart with repaired data: complete = %v, want 1", r[0])
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDataDirectory: content goes under directory.default, or where
// d.directory.set put it before the download was opened.
func TestDataDirectory(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		tk := newTracker(t)
		rti, rt := startRtorrent(t)
		tr := rtorrenttest.MakeTorrent(t, rti.DownloadDir, "placed", 100_000, &rtorrenttest.TorrentOptions{Files: 2, Announce: tk.url()})
		load(t, rt, "load.raw_start", tr)
		waitRow(t, rt, tr.Hash, 20*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")
		tk.waitAnnounce(t, tr.Hash, rti.Port, "started")

		e := newEnv(t)
		elsewhere := t.TempDir()
		load(t, e, "load.raw_start", tr, `d.directory.set="`+elsewhere+`"`)
		r := waitRow(t, e, tr.Hash, 30*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=", "d.directory=", "d.base_path=")
		want := filepath.Join(elsewhere, "placed")
		if r[1].String() != want || r[2].String() != want {
			t.Errorf("d.directory, d.base_path = %v, %v; want %s", r[1], r[2], want)
		}
		for _, f := range tr.Files {
			if got, want := sha256File(t, filepath.Join(want, filepath.FromSlash(f))), sha256File(t, filepath.Join(tr.Path, filepath.FromSlash(f))); got != want {
				t.Errorf("%s: content differs", f)
			}
		}
		if entries, _ := os.ReadDir(e.dataDir); len(entries) != 0 {
			t.Errorf("directory.default got content: %v", entries)
		}
	})
}

// TestInterruptedHashCheck closes, erases and shuts down downloads in the
// middle of a hash check: the engine keeps answering and Close returns.
// (anacrolix v1.59.1 leaves its client locked if a torrent is dropped
// under a running check; the engine must not let that happen.)
func TestInterruptedHashCheck(t *testing.T) {
	e := newEnv(t)
	var trs []rtorrenttest.Torrent
	for i := range 3 {
		trs = append(trs, rtorrenttest.MakeTorrent(t, e.dataDir, "big-"+string(rune('a'+i))+".bin", 48<<20, &rtorrenttest.TorrentOptions{PieceLength: 256 << 10}))
	}
	hashing := func(tr rtorrenttest.Torrent) {
		t.Helper()
		waitRow(t, e, tr.Hash, 10*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() != 0 }, "d.hashing=")
	}
	for _, tr := range trs {
		load(t, e, "load.raw", tr)
		call(t, e, "d.check_hash", tr.Hash)
	}
	hashing(trs[0])
	call(t, e, "d.close", trs[0].Hash)
	hashing(trs[1])
	call(t, e, "d.erase", trs[1].Hash)
	hashing(trs[2])
	if r := row(t, e, trs[0].Hash, "d.is_open=", "d.hashing="); r[0].Int() != 0 || r[1].Int() != 0 {
		t.Errorf("closed during its check: is_open, hashing = %v", r)
	}
	start := time.Now()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Close during a hash check took %v", d)
	}
	e = startEnv(t, e.dataDir, e.session)
	// The check cut short by Close left the download unchecked.
	if r := row(t, e, trs[2].Hash, "d.hashing=", "d.is_hash_checked=", "d.is_open="); r[0].Int() != 0 || r[1].Int() != 0 || r[2].Int() != 1 {
		t.Errorf("after a check cut short by Close: hashing, checked, open = %v", r)
	}
}
