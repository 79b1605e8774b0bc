// Package gateway is rtgate's legacy front door: rTorrent's XML-RPC, and the
// JSON-RPC dialect of jesec's rTorrent, served over HTTP (POST /RPC2, what
// nginx's scgi_pass gives ruTorrent) and SCGI (what Flood and rtxmlrpc
// speak) by one http.Handler, behind a method policy, with identical reads
// from many clients sharing one call to rTorrent.
//
//	client ──HTTP or SCGI──▶ Handler ──Policy──▶ Coalescer ──▶ rTorrent
//	                         (XML-RPC, JSON-RPC)  (reads shared, writes hooked)
//
// # Wiring
//
//	client, _ := rtorrent.New("unix:///run/rtorrent/rpc.sock", nil)  // Caller
//	raw, _ := scgi.NewClient("unix:///run/rtorrent/rpc.sock", nil)    // RawCaller
//	dir, err := gateway.DirectoryDefault(ctx, client)                // rTorrent's directory.default
//	policy, err := gateway.NewPolicy(gateway.PolicyConfig{
//		Directories: []string{dir}, // Flood's add and move, below dir only
//	})
//	up := gateway.NewCoalescer(client, &gateway.CoalesceOptions{
//		Raw:     raw,                 // forward XML-RPC bytes, stream replies back
//		OnWrite: refresh,             // e.g. the poller's targeted refresh
//	})
//	h := gateway.NewHandler(up, &gateway.HandlerOptions{Policy: policy})
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
// The default policy allows reads and torrent control, and settings that
// only change rTorrent's behaviour in memory; it denies anything that runs
// programs or commands, defines commands, writes or reads files of the
// caller's choosing, opens sockets to addresses of the caller's choosing,
// or changes how rTorrent serves RPC. testdata/policy-0.9.8.golden lists
// where each of rTorrent 0.9.8's 735 methods lands (381 read, 173 write,
// 181 denied). In short:
//
// Allowed, read (and coalesced): every d.*, f.*, t.*, p.*, fi.* getter;
// d.multicall2, d.multicall.filtered, t/p/f.multicall, system.multicall
// (their fields and entries checked); system.* getters (client_version,
// listMethods, methodHelp, methodSignature, pid, time...); throttle.*,
// network.*, pieces.*, protocol.*, trackers.*, dht.*, session.*, ratio.*,
// group.*, choke_group.*, scheduler.* getters; view.list, view.size;
// strings.*; the expressions used in fields and filters: cat, false, value,
// if, branch, and, or, not, try, catch, equal, less, greater, compare,
// match, elapsed.*, math.*, convert.*, to_*.
//
// Allowed, write: d.start, d.stop, d.open, d.close, d.close.directly,
// d.erase, d.pause, d.resume, d.try_*, d.check_hash, d.update_priorities,
// d.save_full_session, d.save_resume, d.tracker_announce(.force),
// d.tracker.insert, d.tracker.send_scrape, d.disconnect.seeders,
// d.accepting_seeders.*, d.views.push_back*/remove, every other d.*.set
// (priority, custom, custom1-5, tied_to_file, connection_current,
// peers/uploads/downloads min/max, throttle_name, message, ...); f.priority.set,
// f.prioritize_*, f.(un)set_*_queued; t.enable, t.disable, t.is_enabled.set;
// p.banned.set, p.snubbed.set, p.disconnect*; load.* (extra commands
// checked); throttle.*.set, throttle.up/down/ip; network.*.set except those
// below (port_open, port_range, port_random, local_address, max_open_files,
// max_open_sockets, http.max_open, http.dns_cache_timeout, send/receive
// buffers, tos); pieces.*.set; protocol.*.set; trackers.numwant.set,
// trackers.use_udp.set, trackers.enable/disable; dht.mode.set, dht.port.set,
// dht.throttle.name.set; ratio.*, group.* and choke_group.* settings;
// scheduler.max_active.set, scheduler.simple.*; view.add, view.persistent,
// view.set_visible/not_visible, view.sort; session.save,
// session.on_completion.set; system.file.allocate.set,
// system.file.max_size.set, system.file_status_cache.prune; encoding.add;
// ip_tables and ipv4_filter add_address/insert_table.
//
// Denied:
//   - runs programs or commands: execute*, method.*, schedule, schedule2,
//     schedule_remove*, event.*, group.seeding.ratio.command, on_ratio,
//     view.filter*, view.sort_current, view.sort_new, view.event_*, view.set,
//     p.call_target, import, try_import
//   - stops or changes the process: system.shutdown*, system.cwd.set,
//     system.umask.set, system.daemon.set, system.env (reveals secrets)
//   - files: log.* (log.open*, log.execute, log.xmlrpc), file.append,
//     session.path.set, session.name.set, session.use_lock.set,
//     directory.default.set, directory.watch.added, d.directory.set and
//     d.directory_base.set (but see Directories below), d.delete_tied,
//     d.create_link, d.delete_link,
//     system.file.split_*.set, ipv4_filter.load, ipv4_filter.dump, print
//   - sockets, routing, TLS: network.scgi.open_*, network.scgi.dont_route.set,
//     network.xmlrpc.size_limit.set and dialect.set (they would break every
//     client, rtgate's poller included), network.bind_address.set,
//     network.proxy_address.set, network.http.proxy_address.set,
//     network.http.cacert.set, network.http.capath.set,
//     network.http.ssl_verify_*.set, network.listen.backlog.set,
//     dht.add_node, add_peer
//   - the curses interface (ui.*, keys.layout.set) and the pre-0.9 aliases
//     that set what they name (bind, directory, session, scgi_port, ip,
//     max_*, min_*, ...)
//   - every name rTorrent does not define: a method an rtorrent.rc adds
//     (method.insert = d.move_to_complete, simple, "...execute=mv...") can do
//     anything, whatever its name looks like.
//
// PolicyConfig layers glob patterns ('*' matches any run of characters) on
// the defaults: a Deny pattern wins over an Allow pattern, and both win
// over the defaults. Allow your rtorrent.rc's own methods by name, and Deny
// ["*.set", "load.*", "d.erase"] for a read-only door.
//
// Flood sets a new torrent's directory with d.directory.set
// (or d.directory_base.set) in load.*'s extra commands, and moves torrents
// with them; unbounded, they would let any client have rTorrent write
// anywhere its user may (a crafted torrent into ~/.ssh).
// PolicyConfig.Directories allows them below a few roots only: with a
// plain literal absolute path, as a call (d.directory.set(HASH, "/dl/x")),
// a system.multicall entry, or the whole of a load.* extra command or
// multicall field (d.directory.set="/dl/My Movies", read with rTorrent
// 0.9.8's quoting and escapes). A path outside the roots, relative, with a
// ".." element, with '$' or '{', computed ($cat=..., (cat,...)), a list, or
// sharing its string with another command is refused:
//
//	rtgate: method "d.directory.set" refused by policy: "/etc" is outside the allowed directories (inside load.raw_start command 2)
//
// The rtgate binary defaults the roots to rTorrent's own directory.default,
// which it asks rTorrent for at start (DirectoryDefault), so a Flood behind
// it adds and moves torrents below rTorrent's download directory with no
// configuration. Roots are compared lexically: rtgate cannot resolve
// symlinks on rTorrent's filesystem, so a link inside a root that points
// out of it leads out of it. An Allow pattern does not widen the roots;
// only with no roots does Allow ["d.directory.set", "d.directory_base.set"]
// open the two commands to any path (Flood's --allowedpath is then the only
// bound). directory.default.set stays denied either way.
//
// A call is refused if any command it would run is: its method; each
// system.multicall entry, recursively; every field of d.multicall2,
// d.multicall.filtered (and its filter), t/p/f.multicall; the extra
// commands of load.* (everything after the torrent); every string argument
// of the commands that evaluate arguments (branch, if, and, or, not, try,
// catch, equal, less, greater, compare, match) and of configured commands
// the table does not know. Within those strings a conservative scanner of
// rTorrent's command syntax finds each name followed by '=', or preceded by
// a '$' or '(' that starts a value, at any depth of quoting and escaping
// (cat="$t.multicall=d.hash=,cat={|||}", \$, ((name,args)), {a=,b=}, a=;b=):
// when in doubt a token is a command, so a URL's "?a=b" inside a load
// command is refused as the unknown command "a". A command that evaluates
// its arguments may not be handed a computed value after it
// (branch=d.is_open=,$d.custom=x would run whatever d.custom holds). Other
// commands' arguments are data: rTorrent does not evaluate them
// (d.custom.set's value, d.tracker.insert's URL, cat's arguments). A
// refusal is fault -507 (error -507 in JSON-RPC) naming the command and
// where it was found:
//
//	rtgate: method "execute.throw" refused by policy (inside d.multicall2 field 3)
//
// system.multicall is refused whole if one entry is, so nothing of it runs.
// The same Policy serves the WebSocket door.
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
// JSON-RPC 2.0 as jesec's rTorrent speaks it: positional params, params[0]
// the target; a batch (a JSON array) goes upstream as one system.multicall;
// notifications (no id) are run and not answered (a batch of only
// notifications gets 204 and no body). The answer is a single line, keys
// sorted, with nothing after it (Flood parses what follows the reply's last
// newline).
//
// Params, JSON to XML-RPC:
//
//	integer                    int (i4/i8)
//	true, false                1, 0 (rTorrent has no booleans)
//	string                     string
//	array                      array
//	object                     struct, members sorted by key
//	1.5, 1e3, null             error -32602 (rTorrent has no float, no nil)
//	"data:...;base64,..."      base64, as load.*'s torrent (see below)
//
// Results, XML-RPC to JSON:
//
//	i4, i8                     number
//	string, dateTime.iso8601   string
//	array                      array
//	struct                     object, members in order
//	boolean                    1 or 0
//	base64                     standard base64 string
//	double                     number (0 if not finite)
//	nil, void answers          0, never null (Flood takes null for an error)
//
// Strings that are not UTF-8 become U+FFFD. Flood's JSON mode adds torrents
// with load.start_throw / load.throw and a data URI; 0.9.8 has neither
// command, so a data URI turns the call into load.raw_start / load.raw with
// the decoded bytes, and the answer is the torrent's info hash (what
// Flood collects); a data URI that is not a torrent is error -32602.
// load.throw and load.start_throw with a URL or path become load.normal and
// load.start.
//
// Errors: -32700 parse, -32600 invalid request, -32601 rTorrent's -506 (no
// such method), -32602 params the dialect cannot carry and rTorrent's -501
// and -503 (bad target, type, view or command), -32000 other faults with
// rTorrent's message, and -507 for a policy refusal: the code XML-RPC
// clients see, outside JSON-RPC's reserved range, so every door reports a
// refusal alike. Flood treats any error as an error.
//
// # rTorrent 0.9.8, measured
//
// It closes the connection on a request over 2 MiB (rtgate then answers 502
// and says why; HandlerOptions.MaxBodyBytes = 2 MiB refuses those up front);
// its network.xmlrpc.size_limit limits requests (fault -503 "XML-RPC request
// too large"), not replies; and it hangs for good if d.stop arrives while
// the hash check of a d.start is running.
package gateway
