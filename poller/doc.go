// Package poller polls one backend (an rTorrent, or anything answering its
// XML-RPC commands) into a state of downloads, transfer figures and health,
// diffs every poll against that state field by field, and publishes the
// differences as topics for the gateway to forward unchanged.
//
// Data flows one way: backend (Caller) → Poller → topics.Hub → gateway.
// The backend is the small Caller interface, defined here where it is
// consumed; *rtorrent.Client implements it.
//
//	c, _ := rtorrent.New("unix:///run/rtorrent/rpc.sock", nil)
//	p := poller.New(c, nil)
//	hub := topics.NewHub(p.Factory(), nil)
//	go p.Run(ctx) // owned by cmd's errgroup; returns nil when ctx ends
//	...
//	// after a call that changed downloads, e.g. d.stop of HASH:
//	p.Refresh(ctx, HASH)
//
// # Polling that does not scale with the library
//
// Measured on rTorrent 0.9.8: the view "started" holds exactly the
// downloads with d.state=1 (paused ones included), "active" those that are
// open and not paused (a subset of started: it does not mean "with
// traffic" in 0.9.8), and "hashing" those being hash-checked, whether
// started or not. A download outside started and hashing changes only
// through a call (d.start, d.custom1.set, …). So the poller does, every
// Options.Interval (1 s), in one system.multicall:
//
//   - system.pid, to notice an rTorrent restarted behind its back (as do
//     global totals that went down, for a restart that kept the pid);
//   - view.size("", "main") — the only form 0.9.8 accepts: view.size("main")
//     is "Unsupported target type" — to notice downloads added or erased;
//   - d.multicall2 over "started" and over "hashing" with only the fields
//     that change on their own (rates, totals, progress, state, peers,
//     tracker scrapes, messages);
//   - the six throttle.global_* figures;
//   - one f/p/t.multicall per active detail topic.
//
// Downloads that appear in those views unknown, or leave them (stopped,
// hashed, erased), are then read in full, one system.multicall of
// per-download calls; a size that still disagrees is settled by listing
// every hash (d.multicall2 main d.hash=). Past Options.RefreshMax
// downloads to read, a full sweep runs instead. Every Options.FullSweep
// (30 s) a full sweep, d.multicall2 over main with every field, catches
// what other clients changed. Refresh reads given downloads at once, for
// calls that went through rtgate.
//
// With 10,000 downloads of which 100 are started, rTorrent spends about
// 3–6 ms per tick and 400–600 ms per sweep: 18–23 ms per tick with the
// sweep spread over 30 ticks, against 430–530 ms for one of Flood's
// 31-field polls measured in the same run (BenchmarkRtorrentTickWork: 23–25×
// less per poll; 11–12× per second, as Flood polls every 2 s). rTorrent
// 0.9.8 finds a download by scanning its list, so reading one download
// costs in proportion to the library either way: ~10 ms with per-download
// calls, ~20 ms with d.multicall.filtered (which evaluates its predicate on
// every download); the poller uses the former. The sweep's
// reply is about 1.1 KB per download: rTorrent's network.xmlrpc.size_limit
// must allow it, or the sweep fails with fault -509 (Health.Error says so).
// Diffing a 10,000-download sweep with 1% changed takes the poller about
// 10 ms (BenchmarkDiff10k: 3% of rTorrent's time to produce it, a quarter
// of the time to decode its XML).
//
// The polling loop runs as long as Run does, whether or not any topic is
// subscribed: Torrents and the other readers, the events topic and Refresh
// all need a fresh state, and a tick costs rTorrent little. Detail topics
// add their calls only while they are active.
//
// # Fields
//
// A download's fields, by JSON name, with the rTorrent command they come
// from (Flood's names where Flood shows the same thing; Torrent has them
// as Go fields). Fields the backend's system.listMethods does not list are
// left out altogether (0.9.8 lacks isSequential and dateActive).
//
//	hash            d.hash (uppercase)      ratio           d.ratio / 1000
//	name            d.name                  bytesDone       d.bytes_done
//	message         d.message               sizeBytes       d.size_bytes
//	state           d.state (bool: started) leftBytes       d.left_bytes
//	isActive        d.is_active             directory       d.directory
//	isOpen          d.is_open               basePath        d.base_path
//	isComplete      d.complete              dateAdded       d.custom=addtime (a number, 0 if unset)
//	hashing         d.hashing (0–3)         dateCreated     d.creation_date
//	isPrivate       d.is_private            dateStarted     d.timestamp.started
//	isMultiFile     d.is_multi_file         dateFinished    d.timestamp.finished
//	isSequential    d.down.sequential       dateActive      d.timestamp.last_active
//	connectionSeed  d.connection_seed       custom1         d.custom1 (Flood's tags, raw)
//	priority        d.priority (0–3)        custom2         d.custom2 (ruTorrent's comment, raw)
//	upRate          d.up.rate               trackerURIs     URLs of the enabled trackers
//	upTotal         d.up.total              seedsTotal      first tracker's scrape_complete
//	downRate        d.down.rate             peersTotal      first tracker's scrape_incomplete
//	downTotal       d.down.total            seedsConnected  d.peers_complete
//	connections     d.peers_connected       peersConnected  d.peers_accounted
//
// Times are Unix seconds (0 when unset); booleans are JSON booleans.
//
// # Topics
//
// Factory makes the producers of these topics; every Data is JSON, encoded
// once for all subscribers. Keyed tables (torrents and details) share one
// change shape, whose members are left out when empty:
//
//	{"added":{KEY:{...every field...}},"changed":{KEY:{...changed fields only...}},"removed":[KEY,...]}
//
// torrents: every download, keyed by hash.
//
//	snapshot {"torrents":{"<HASH>":{"hash":"<HASH>","name":"…",…},…}}
//	change   {"added":{…},"changed":{"<HASH>":{"downRate":1024,"bytesDone":2048}},"removed":["<HASH>"]}
//
// torrent.<HASH> (40 uppercase hex digits): the same, restricted to one
// download, which may not exist (yet, or any more): {"torrents":{}}.
//
// torrent.<HASH>.files, .peers, .trackers: the download's details, polled
// only while the topic is active. Files and trackers are keyed by their
// index ("0", "1", … in rTorrent's order), peers by peer id. The first
// snapshot may be empty until the first poll, which starts at once.
//
//	{"files":{"0":{"path":"…","priority":1,"sizeBytes":…,"sizeChunks":…,"completedChunks":…}}}
//	{"peers":{"<ID>":{"address":"…","port":…,"clientVersion":"…","completedPercent":…,
//	    "downRate":…,"downTotal":…,"upRate":…,"upTotal":…,"isEncrypted":…,"isIncoming":…,"isSnubbed":…}}}
//	{"trackers":{"0":{"url":"…","type":1,"isEnabled":true,"group":0,"scrapeComplete":…,
//	    "scrapeIncomplete":…,"scrapeDownloaded":…,"scrapeTimeLast":…,"successCounter":…,
//	    "failedCounter":…,"normalInterval":…,"minInterval":…}}}
//
// transfer: the global figures (throttle.global_*), bytes and bytes/s; a max
// rate of 0 is unlimited. Changes hold the changed fields only.
//
//	snapshot {"downRate":0,"downTotal":0,"upRate":0,"upTotal":0,"downMaxRate":0,"upMaxRate":0}
//	change   {"downRate":524288}
//
// events: one download event per change, in rtorrent-ws's shape so the
// gateway can push it as it is. The snapshot is always empty: a new
// subscriber gets events from now on, as rtorrent-ws clients do, and a
// resuming one exactly those it missed (from the topic's history).
//
//	snapshot {"events":[]}
//	change   {"event":"event.download.finished","target":"<HASH>","timestamp":1700000000123}
//
// With the event hooks (hooks.go; on wherever rTorrent has the commands
// they need), the lifecycle events are rTorrent's own, in its order, as
// its handlers logged them: inserted, erased, opened, closed, resumed,
// paused, hash_queued, hash_done, hash_removed, hash_failed,
// hash_final_failed, finished — everything between two polls, within
// about Options.EventCheck. Without them, and for what the log missed
// (a resync after a reconnection), events are derived from the diffs (see
// the Event* constants): inserted and erased when a download appears and
// goes, opened/closed (d.is_open), resumed/paused (d.is_active),
// hash_queued/hash_done (d.hashing), finished (d.complete became 1, not
// for a download that appears complete); a state between two polls is
// not seen. Traffic events, active/inactive, always come from the diffs.
// The first sweep after Run starts raises none.
//
// backend: the backend's Health, whole in every message.
//
//	{"state":"connected","version":"0.9.8","pid":1234,"since":1700000000000}
//	{"state":"connected","version":"0.9.8","pid":1234,"since":…,"error":"<why the last poll failed>"}
//	{"state":"reconnecting","version":"0.9.8","pid":1234,"since":…,"error":"…","attempt":2,"retryAt":…}
//
// With Options.Backend and Options.Fallback set (rtgate on its embedded
// engine because rTorrent did not answer at start-up), every message says so:
//
//	{"state":"connected","backend":"embedded","fallback":"rtorrent.address did not answer within 30s at start-up","version":"0.9.8",…}
//
// States go connecting → connected, and on failure disconnected →
// reconnecting (attempt 1, 2, … with jittered, capped exponential backoff)
// → connected. A reconnection sweeps everything and publishes the
// differences from the last state (an erased download as removed, …), in
// the same epoch; only a backend offering other fields makes the torrent
// topics start a new epoch (Topic.Reset) with a fresh snapshot.
//
// # Answers from state
//
// Answer answers legacy reads (lists over any view in rTorrent's order,
// download getters, settings, system.multicalls of them) from the state,
// learning on demand the views, fields and globals clients ask for;
// NoteWrite keeps them read-your-writes. docs/freshness.md is the
// contract they keep.
//
// # Consistency
//
// Every change of the state is one numbered delta. Each topic's producer
// keeps a view of the state (sharing its immutable rows) and moves it from
// delta to delta inside Topic.Update, where its snapshots are also taken,
// so a snapshot followed by the changes after it never overlap or leave a
// gap. A failed poll is dropped whole.
package poller
