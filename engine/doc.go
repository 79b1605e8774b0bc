// Package engine is rtgate's embedded BitTorrent engine: an in-process
// client, built on github.com/anacrolix/torrent v1.59.1, that answers
// rTorrent's XML-RPC methods with rTorrent 0.9.8's semantics. When no
// rTorrent is reachable, rtgate talks to an Engine instead, through the
// same one-method interface; the poller, the WebSocket calls and the
// legacy doors (Flood) cannot tell the difference.
//
//	e, err := engine.New(engine.Options{DataDir: "/srv/dl", SessionDir: "/srv/session"})
//	if err != nil { ... }
//	defer e.Close()
//	e.Call(ctx, "load.raw_start", xmlrpc.NewString(""), xmlrpc.NewBase64(torrentFile),
//		xmlrpc.NewString("d.custom.set=addtime,1700000000"))
//	rows, err := e.Call(ctx, "d.multicall2", xmlrpc.NewString(""), xmlrpc.NewString("main"),
//		xmlrpc.NewString("d.hash="), xmlrpc.NewString("d.complete="))
//
// Call has the signature of (*rtorrent.Client).Call: faults come back as
// *xmlrpc.Fault with rTorrent's codes and messages, matched against a real
// rTorrent 0.9.8 by this package's differential tests.
//
// # What it answers
//
// system.listMethods lists exactly the methods there are (about 250 of
// 0.9.8's 735: everything Flood 4.11 and rtgate's poller call, and the
// rest of the d.*, f.*, p.*, t.* getters and setters a client uses):
//
//   - Downloads: d.* getters (hash, name, state, is_open, is_active,
//     complete, hashing, sizes, chunks, rates, totals, ratio, peers
//     counts, directory, base_path, custom, custom1…5, priority, dates…),
//     setters (d.custom.set, d.custom1.set…, d.priority.set,
//     d.directory.set, d.directory_base.set, …) and actions (d.start,
//     d.stop, d.open, d.close, d.pause, d.resume, d.erase, d.check_hash,
//     d.update_priorities, d.tracker_announce, d.tracker.insert).
//   - Files, trackers, peers: f.*, t.*, p.* on "HASH:f<i>", "HASH:t<i>",
//     "HASH:p<peer id>" targets, and f/t/p.multicall.
//   - d.multicall2 and d.multicall.filtered over the stock views main,
//     default, name, started, stopped, complete, incomplete, hashing,
//     seeding, leeching and active; view.list, view.size, download_list.
//   - Command strings as multicall fields and load commands, parsed as
//     rTorrent parses them: "d.custom=addtime", "false=", quoting, escapes,
//     {lists}, "$" substitution (`cat="$t.multicall=d.hash=,t.url=,cat={|||}"`),
//     and the commands built from them: cat, false, value, not, and, or,
//     equal, less, greater, match.
//   - load.normal, load.start, load.raw, load.raw_start, each also as
//     _verbose and (from later rTorrents) _throw, from a .torrent in
//     base64, a file path, a magnet URI or a data URI, with extra command
//     strings run on the new download before it starts.
//   - system.multicall (a fault stays in its entry's place),
//     system.listMethods, system.methodExist, system.client_version,
//     system.pid and friends; throttle.global_{up,down}.{rate,total,
//     max_rate,max_rate.set,max_rate.set_kb} and every setting Flood's
//     settings page reads and writes; session.path.
//
// # Decisions
//
// system.client_version answers "0.9.8" (ClientVersion): the dialect the
// engine speaks, and what clients that parse the version (ruTorrent wants
// 0.9.x) must see. The engine-only method engine.version tells it apart.
//
// "Stopped" is built, since anacrolix has no pause: a download is in the
// anacrolix client only while it transfers (open, started and not paused)
// or is being hash-checked; otherwise it is dropped, its totals and
// completed pieces kept by the engine. rTorrent's three flags behave as
// measured on 0.9.8: d.start of a started download does nothing, d.stop
// keeps it open, d.close keeps its state, d.resume opens a closed one.
//
// The view "active" holds the downloads whose d.is_active is 1 — what
// 0.9.8's stock view holds (measured: a started download with no traffic
// is in it, a paused one is not), not "downloads with recent traffic".
//
// Hash checks happen where rTorrent's would: when a download is first
// started, on d.check_hash (which opens a closed download, as rTorrent's
// does), when a magnet's metadata arrives, and for every download after an
// unclean shutdown. They run one at a time from a queue, with d.hashing 1
// (first check) or 3 (d.check_hash); the download transfers once its
// check is done. Otherwise the piece completion store is trusted, as
// rTorrent trusts its resume data.
//
// Announces are the engine's own (anacrolix's per-tracker state is
// private and its announcers cannot be restarted): per tier, the first
// tracker that answers; "started", "completed" and "stopped" events;
// t.* counters, scrape numbers and d.message ("Tracker: [Couldn't connect
// to server]") from the answers. "dht://" is the DHT pseudo-tracker, as in
// rTorrent. Without DHT, a torrent with no tracker is refused, as rTorrent
// refuses it.
//
// # anacrolix v1.59.1
//
// Its defaults do not work: uploads deadlock unless
// MaxAllocPeerRequestDataPerConn is raised (17 MiB here); uTP is slow or
// broken on loopback (disabled). Its DHT (anacrolix/dht v2.23.0, the only
// version served) leaks a goroutine at every bootstrap that finds no
// starting node, which is every bootstrap on a machine without DNS: the
// engine resolves the bootstrap hosts itself (dht.go) and never leaves
// the DHT without a node to start from. Piece.VerifyDataContext on a torrent
// dropped meanwhile returns with the client lock held, which stops the
// whole client: the engine cancels and waits for a running hash check
// before it drops a torrent or closes the client. Part files are off and content goes to
// rTorrent's paths (<directory>/<name>, or <directory>/<name>/<path> for a
// multi-file torrent), so the engine and rTorrent can share data. The
// piece completion store is a bolt database in the session directory
// (none in the data directory). The global up and down limits are the
// client's rate limiters.
//
// # Concurrency
//
// Calls are answered one at a time, as rTorrent answers them; a
// system.multicall lets other callers in between its entries. anacrolix
// guards every torrent with one client-wide lock, so a call reads each
// download's live numbers once (a snapshot of two lock round trips per row
// of Flood's 31 fields) rather than once per field: a poll of 1,000
// downloads takes a few milliseconds against rTorrent's tens. The engine
// owns its goroutines — the hash queue's worker, the sampler that turns
// totals into rates every second, an announcer per transferring download
// that has trackers, a metadata waiter per magnet — and Close stops them
// all, after saving the session and sending "stopped" announces (bounded
// to a few seconds).
//
// # Persistence
//
// With a SessionDir, each download is kept as "<HASH>.torrent" (the
// metainfo as loaded; Flood's tracker editor rewrites it in place) and
// "<HASH>.torrent.rtgate" (JSON: state flags, custom fields, directory,
// priorities, trackers, dates, totals, completed pieces), written after
// every call that changes something and every few minutes while
// transferring. Close then New on the same directories restores every
// download in its order and state, without downloading or hashing again.
// The format is the engine's own: rTorrent's session files
// (.rtorrent, .libtorrent_resume) are neither read nor written.
//
// # Known differences from rTorrent 0.9.8
//
//   - Methods it does not have fault -506, among them every way to run
//     code (execute.*, method.*, import, schedule) and system.shutdown.*.
//     It has a few 0.9.8 lacks: the load _throw forms,
//     d.timestamp.last_active, d.connection_seed.set, d.is_meta,
//     engine.version.
//   - Settings are stored and answered, but only the throttles,
//     directory.default and trackers.numwant take effect; the listen
//     port, PEX and DHT are fixed when New starts the client, and the
//     connection limit (throttle.max_peers.normal) applies to downloads
//     started afterwards.
//   - Rates average over the last 4 s (rTorrent's windows are longer);
//     d.bytes_done counts verified pieces and the chunks of partly
//     downloaded ones, where rTorrent counts whole chunks; during
//     d.check_hash d.complete and d.bytes_done keep their values where
//     rTorrent counts bytes_done up from 0.
//   - t.scrape_complete/incomplete come from announce answers (the engine
//     sends no scrape requests); t.scrape_downloaded and p.is_snubbed are
//     always 0; p.client_version decodes Azureus-style peer ids and falls
//     back to the peer's own name; p.is_encrypted reflects anacrolix's
//     negotiation (it prefers, but does not require, encryption).
//   - load.* does not fetch http(s) URLs (rTorrent does, with curl): a
//     client loads the .torrent's bytes instead, as Flood does.
//   - A magnet download becomes the torrent in place when its metadata
//     arrives; rTorrent erases the ".meta" download and inserts a new one.
//   - match takes Go (RE2) regular expressions, anchored at both ends.
//   - rTorrent 0.9.8 crashes on some malformed calls (f.path with a
//     download target); the engine answers a fault.
package engine
