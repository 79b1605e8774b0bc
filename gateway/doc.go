// Package gateway is rtgate's legacy doors, the ones existing clients use
// unchanged: rTorrent's XML-RPC, and the JSON-RPC dialect of jesec's
// rTorrent (package jsonrpc), served over HTTP (POST /RPC2, what nginx's
// scgi_pass gives ruTorrent) and SCGI (what Flood and rtxmlrpc speak) by
// one http.Handler, behind a method policy (package policy); and the
// Coalescer, the way upstream of every door (the WebSocket door, package
// gateway/ws, takes it as its Caller), with identical reads from many
// clients sharing one call to rTorrent.
//
//	client ──HTTP or SCGI──▶ Handler ──Policy──▶ Coalescer ──▶ rTorrent
//	                         (XML-RPC, JSON-RPC)  (reads shared, writes hooked)
//
// # Wiring
//
//	client, _ := rtorrent.New("unix:///run/rtorrent/rpc.sock", nil)  // Caller and RawCaller
//	dir, err := policy.DirectoryDefault(ctx, client)                 // rTorrent's directory.default
//	pol, err := policy.New(policy.Config{
//		Directories: []string{dir}, // Flood's add and move, below dir only
//	})
//	up := gateway.NewCoalescer(client, &gateway.CoalesceOptions{
//		Raw:     client,              // forward XML-RPC bytes, stream replies back
//		OnWrite: refresh,             // e.g. the poller's targeted refresh
//	})
//	h := gateway.NewHandler(up, &gateway.HandlerOptions{Policy: pol})
//	mux.Handle("POST /RPC2", h)                       // HTTP
//	go (&scgi.Server{Handler: h}).Serve(unixListener) // SCGI, for Flood
//
// # Doors
//
// The Handler reads a request whole (HandlerOptions.MaxBodyBytes, 16 MiB by
// default), decodes it, checks it against the Policy and sends it upstream
// through the Coalescer. Nothing malformed or refused reaches rTorrent; the
// answers are in errors.go's table. A request whose Content-Type contains
// "application/json" is JSON-RPC; anything else is XML-RPC, since rTorrent
// does not look either (curl -d sends a form type).
//
// XML-RPC calls go upstream as the client encoded them when the Coalescer
// has a RawCaller, and rTorrent's reply streams back unread: a 10,000
// download poll arrives byte for byte as rTorrent sent it, faults included.
// Without one, calls are decoded, sent with Caller.Call and the result
// re-encoded in the dialect Flood's parser accepts (no double, no nil).
// rtgate's decoder is strict (no DOCTYPE, nothing after the root, one value
// per param) and reads comments, CDATA and character references inside
// names as rTorrent 0.9.8 does, so the call it checks is the call rTorrent
// runs.
//
// # Policy
//
// Every call is checked by a policy.Policy before anything of it reaches
// rTorrent; a refusal is fault -507 (error -507 in JSON-RPC) naming the
// command and where it was found. docs/policy.md says what the default
// policy allows and why.
//
// # Coalescing
//
// A Coalescer sends identical read-only calls (same method, same params,
// every command they run a read in the default table) that overlap in time
// as one upstream call; CoalesceOptions.Window keeps a result for identical
// reads that arrive just after. The shared call runs on its own context,
// canceled only when every caller has given up. A write makes the reads
// then in flight unjoinable, so a read issued after a write returned never
// shares an answer from before it. A raw reply is read from
// rTorrent as fast as it comes into one buffer that every client streams
// from at its own pace. Writes go straight through, then CoalesceOptions.OnWrite
// hears of them with the info hashes they name; CoalesceOptions.Fresh may
// answer a read from state rtgate already holds. MaxUpstream bounds the
// calls in flight to rTorrent (16). With ten Flood instances polling 5,000
// downloads, rTorrent does one poll's work instead of ten
// (BenchmarkRtorrentCoalescedPolling).
//
// # JSON-RPC
//
// A request whose Content-Type contains "application/json" is JSON-RPC 2.0
// in rTorrent's dialect, parsed and translated by package jsonrpc; a batch
// goes upstream as one system.multicall; notifications (no id) are run and
// not answered (a batch of only notifications gets 204 and no body). The
// answer is a single line, keys sorted, with nothing after it (Flood
// parses what follows the reply's last newline). A policy refusal is
// error -507, the code XML-RPC clients see.
//
// # rTorrent 0.9.8, measured
//
// It closes the connection on a request over 2 MiB (rtgate then answers 502
// and says why; HandlerOptions.MaxBodyBytes = 2 MiB refuses those up front);
// its network.xmlrpc.size_limit limits requests (fault -503 "XML-RPC request
// too large"), not replies; and it hangs for good if d.stop arrives while
// the hash check of a d.start is running.
package gateway
