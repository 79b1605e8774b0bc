// Package floodtest runs a real Flood (the rTorrent web UI, npm package
// flood, pinned to 4.11.0 in testdata/flood) for one test and drives it
// over its HTTP API, to show that Flood works unchanged in front of
// rtgate's SCGI door just as it does in front of rTorrent.
//
// Start launches Flood with --auth none on a free port of 127.0.0.1, in a
// private temporary directory, pointed at an SCGI endpoint (a Unix socket,
// or a TCP host and port), waits until it answers HTTP (~0.7 s on an idle
// machine), logs in, and returns a *Flood whose methods wrap the API
// Flood's browser client uses. The test's cleanup stops Flood and removes
// its files. Flood comes from `npm ci` in testdata/flood: without it
// Start skips the test, or fails it when CI=true.
//
//	func TestFlood(t *testing.T) {
//		rt := rtorrenttest.Start(t, nil)
//		f := floodtest.Start(t, floodtest.Options{RTSocket: rt.Socket, AllowedPath: rt.DownloadDir})
//		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "data", 1<<20, nil)
//		if err := f.AddFiles(t.Context(), [][]byte{tr.Bytes}, rt.DownloadDir, true); err != nil {
//			t.Fatal(err)
//		}
//		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
//		defer cancel()
//		p, err := f.WaitTorrent(ctx, tr.Hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("seeding") })
//		// ... compare p, or the whole list, with what Flood shows in front of rtgate.
//	}
//
// # XML-RPC or JSON-RPC
//
// Flood 4.11.0 has no flag for the protocol; it probes. Whenever it
// (re)connects (twice at startup, and on every GET
// /api/client/connection-test and every retry after a failed call) it sets
// JSON mode and sends system.listMethods as JSON-RPC 2.0 (CONTENT_TYPE
// application/json). If the reply parses as JSON with a non-null result it
// stays in JSON mode; on an RPC error, or a reply that is not JSON, it
// switches to XML-RPC until the next probe. rTorrent 0.9.8 answers the
// probe with an XML-RPC fault, so Flood speaks XML to it. A test gets JSON
// mode only by pointing Flood at an endpoint that answers the JSON probe
// (rtgate's door, if it offers JSON, jesec/rtorrent, or rTorrent ≥ 0.15);
// Options.Tap and Calls show which protocol Flood used for each call.
//
// The mode is one flag shared by all of Flood's calls, read when a call
// leaves Flood's one-at-a-time queue. A call queued while a probe is out
// goes as JSON-RPC too, and against an XML-only endpoint it fails: at
// startup this is often Flood's first d.multicall2, and a request a test
// makes while a connection test runs can fail the same way (against
// rTorrent 0.9.8, 14 of 50 settings reads overlapping a connection test
// got 500 "Unexpected end of JSON input"). Tests should not overlap
// ConnectionTest with other requests.
//
// The two modes also differ in what Flood sends: adding files is
// load.raw_start/load.raw with a base64 value per file in XML mode (and
// add-files answers 202 with no hashes), one batch of
// load.start_throw/load.throw with a data: URI per file in JSON mode (200,
// with the hashes); system.multicall becomes a JSON-RPC batch.
//
// # Comparing two Floods
//
// Torrents decodes every field Flood sends into TorrentProps and fails on
// any other, so that two lists compare completely. TorrentProps.Stable
// clears the fields that move with time (rates, ETA, dateActive, the
// active/inactive status); DiffTorrents compares two lists after Stable and
// names each differing field.
//
// # Notes on Flood 4.11.0 with rTorrent 0.9.8
//
//   - GET /api/torrents makes Flood fetch the list afresh (one d.multicall2
//     with 31 fields over "main"); without a browser on the event stream
//     Flood polls the list only every 15 minutes, but the transfer summary
//     (four throttle.* calls in a system.multicall) every 2 s.
//   - 4.11.0 does not keep d.custom=flood.selected_size; newer Floods do.
//   - rTorrent 0.9.8 lacks d.down.sequential and d.timestamp.last_active;
//     Flood asks for false= instead, so isSequential is false and
//     dateActive 0.
//   - trackerURIs holds registrable domains only: a tracker on an IP
//     address is missing from it (Trackers still lists it).
//   - A hash check that finds bad chunks in a complete download makes
//     rTorrent close it and set d.message; d.complete stays 0 after a
//     later good check, so Flood then shows "stopped", "error".
//   - Flood reads FLOOD_OPTION_* environment variables as flags; Start
//     removes them from Flood's environment.
package floodtest
