// Package rtorrenttest runs a real rTorrent (0.9.8, Debian's rtorrent
// package) for one test at a time, and builds the .torrent files to load
// into it.
//
// Start launches rtorrent in daemon mode in a private temporary directory,
// with the SCGI socket, session and download directories inside it, a
// free peer port on 127.0.0.1, DHT, PEX and UDP trackers off, and returns
// once rTorrent answers RPC (about 15 ms). The test's cleanup stops it and
// removes the directory. Without an rtorrent binary on PATH, Start skips
// the test, or fails it when CI=true.
//
//	func TestSomething(t *testing.T) {
//		rt := rtorrenttest.Start(t, nil)
//		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "data", 1<<20, nil)
//		reply, err := rt.RawCall(t.Context(), []byte(`<?xml version="1.0"?><methodCall>`+
//			`<methodName>load.raw_start</methodName><params>`+
//			`<param><value><string></string></value></param>`+
//			`<param><value><base64>`+tr.Base64()+`</base64></value></param>`+
//			`</params></methodCall>`))
//		// ... point the code under test at rt.Addr() and poll for tr.Hash.
//	}
//
// RawCall speaks SCGI itself, so tests of the project's own codec have an
// independent reference. Restart, Kill and Options.SessionDir cover
// reconnects, crashes and session reloads.
//
// # What rTorrent 0.9.8 does with the torrents
//
// MakeTorrent writes content seeded by the torrent's name, so a name and
// size always give the same bytes and info hash. Written into an
// instance's DownloadDir, rTorrent finds the data under
// directory.default/<name>, hash-checks it on load (about 1 GB/s: 100 KB in
// ~5 ms, 256 MiB in ~0.2 s) and reports it complete and seeding.
// MakeTorrentBytes makes the same torrent in memory only, a few
// microseconds each; with no data on disk rTorrent leaves it incomplete.
//
// Loading is asynchronous: load.raw_start answers 0 before the download
// exists (the RPC runs on rTorrent's scgi thread, the load on its main
// loop), so poll d.multicall2 until it appears. It answers 0 for a torrent
// it refuses, too, such as one with no announce URL when DHT is off.
// Torrents therefore get PlaceholderAnnounce ("dht://") by default, which
// rTorrent accepts without contacting anyone.
//
// rTorrent writes a download's session files when it is added, so it
// survives Kill as well as Stop. Stop saves the session again: after
// Restart, downloads come back complete at once, with later changes
// (d.custom, d.stop, ...) kept. After Kill those changes are lost, and a
// download may be hash-checked again because its resume data predates the
// first check.
package rtorrenttest
