package policy

import (
	_ "embed"
	"strings"
	"sync"
)

// class is what the default policy makes of a command.
type class uint8

const (
	classUnknown class = iota // not in the table: denied unless configured
	classRead                 // only reads state: allowed, and coalesced
	classWrite                // torrent control or an in-memory setting: allowed
	classDenied               // denied unless configured
)

func (c class) String() string {
	switch c {
	case classRead:
		return "read"
	case classWrite:
		return "write"
	case classDenied:
		return "denied"
	}
	return "unknown"
}

// rtorrent098Methods and rtorrent016Methods are what rTorrent 0.9.8 and
// 0.16.17 answer to system.listMethods, one name a line.
//
//go:embed rtorrent-0.9.8-methods.txt
var rtorrent098Methods string

//go:embed rtorrent-0.16.17-methods.txt
var rtorrent016Methods string

// newerMethods are names rTorrent 0.9.8 lacks that clients send anyway:
// Flood's fields and load commands (d.down.sequential, d.timestamp.last_active,
// d.connection_seed.set), jesec's load.throw and load.start_throw (which the
// JSON door translates), and the pre-0.9 d.multicall.
var newerMethods = []string{
	"d.down.sequential", "d.down.sequential.set", "d.timestamp.last_active", "d.connection_seed.set",
	"load.throw", "load.start_throw", "d.multicall",
}

// knownMethods is the set of names the default rules vouch for. A name
// outside it is unknown, and denied unless configured, even if a rule's
// pattern matches it: an rtorrent.rc can define commands (method.insert =
// d.move_to_complete, simple, "...execute=mv,...") whose names look like
// harmless reads.
var knownMethods = sync.OnceValue(func() map[string]bool {
	known := make(map[string]bool, 800)
	for _, name := range strings.Fields(rtorrent098Methods + "\n" + rtorrent016Methods) {
		known[name] = true
	}
	for _, name := range newerMethods {
		known[name] = true
	}
	return known
})

// rule classifies the commands whose names match pattern ('*' matches any
// run of characters). The first matching rule wins.
type rule struct {
	pattern string
	class   class
	// eval marks commands that evaluate some of their arguments as
	// commands (branch, d.multicall2, load.*): their string arguments are
	// inspected, and they must not be handed a computed command.
	eval bool
	// why is the reason a denied command is denied, for the documentation.
	why string
}

// defaultRules is the default policy for the known methods. It was
// written against the 735 methods rTorrent 0.9.8 lists
// (testdata/policy-0.9.8.golden shows where each one lands), plus
// newerMethods. The principle: reads and torrent control
// are allowed, and so are settings that only change rTorrent's behaviour in
// memory; anything that runs programs or commands, defines commands, writes
// or reads files of its choosing, opens sockets to addresses of its
// choosing, or changes how rTorrent talks RPC is denied.
var defaultRules = []rule{
	// rTorrent 0.16.17's own (measured there): what would crash it, and
	// what it added that runs commands, writes files, opens sockets or
	// changes RPC. They come first: broader rules below would take them
	// for settings or reads.
	{pattern: "choke_group.all.*.update_balance", class: classDenied, why: "crashes rTorrent 0.16.17 (bad_function_call)"},
	{pattern: "system.sockets.generic.*_alloc*", class: classDenied, why: "crashes rTorrent 0.16.17 (internal_error: invalid category)"},
	{pattern: "directory.watch.ready", class: classDenied, why: "runs a command when a file appears"},
	{pattern: "schedule.remove", class: classDenied, why: "changes what runs later"},
	{pattern: "close_low_diskspace.normal", class: classDenied, why: "closes downloads; meant for schedules"},
	{pattern: "magnet.path.set", class: classDenied, why: "where rTorrent writes files"},
	{pattern: "system.files.session.fdatasync.set", class: classWrite},
	{pattern: "system.files.*.set", class: classWrite},
	{pattern: "system.files.*", class: classRead},
	{pattern: "system.sockets.adjust_alloc", class: classWrite},
	{pattern: "system.sockets.*.set", class: classWrite},
	{pattern: "system.sockets.*", class: classRead},
	{pattern: "network.bind_address.ipv*.set", class: classDenied, why: "binds to addresses of the caller's choosing"},
	{pattern: "network.proxy.*.set", class: classDenied, why: "routes traffic through a proxy of the caller's choosing"},
	{pattern: "network.rpc.*.set", class: classDenied, why: "turns RPC protocols off, the gateway's poller included"},
	{pattern: "network.scgi.*.set", class: classDenied, why: "changes how rTorrent answers RPC"},
	{pattern: "magnet.path", class: classRead},

	// Denied: they run programs or commands, now or later.
	{pattern: "execute*", class: classDenied, why: "runs programs"},
	{pattern: "method.*", class: classDenied, why: "defines, changes or reveals commands"},
	{pattern: "schedule", class: classDenied, why: "runs commands later"},
	{pattern: "schedule2", class: classDenied, why: "runs commands later"},
	{pattern: "schedule_remove*", class: classDenied, why: "changes what runs later"},
	{pattern: "event.*", class: classDenied, why: "runs event handlers"},
	{pattern: "group.seeding.ratio.command", class: classDenied, why: "runs a command when a ratio is reached"},
	{pattern: "on_ratio", class: classDenied, why: "runs commands when a ratio is reached"},
	{pattern: "view.filter*", class: classDenied, why: "stores commands that run later"},
	{pattern: "view.sort_current", class: classDenied, why: "stores commands that run later"},
	{pattern: "view.sort_new", class: classDenied, why: "stores commands that run later"},
	{pattern: "view.event_*", class: classDenied, why: "stores commands that run later"},
	{pattern: "view.set", class: classDenied, why: "changes a view's definition"},
	{pattern: "p.call_target", class: classDenied, why: "calls a command named by its argument"},
	{pattern: "import", class: classDenied, why: "reads and runs a config file"},
	{pattern: "try_import", class: classDenied, why: "reads and runs a config file"},
	// Denied: they stop rTorrent or change the process.
	{pattern: "system.shutdown*", class: classDenied, why: "stops rTorrent"},
	{pattern: "system.cwd.set", class: classDenied, why: "changes the working directory"},
	{pattern: "system.umask.set", class: classDenied, why: "changes the permissions of files rTorrent creates"},
	{pattern: "system.daemon.set", class: classDenied, why: "changes the process mode"},
	{pattern: "system.env", class: classDenied, why: "reveals the environment (secrets)"},
	// Denied: they write, read, move or delete files of the caller's choosing.
	{pattern: "log.*", class: classDenied, why: "opens and writes files"},
	{pattern: "file.append", class: classDenied, why: "writes to a file"},
	{pattern: "session.path.set", class: classDenied, why: "moves where rTorrent writes its session"},
	{pattern: "session.name.set", class: classDenied, why: "changes the session's identity"},
	{pattern: "session.use_lock.set", class: classDenied, why: "disables the session lock"},
	{pattern: "directory.*.set", class: classDenied, why: "writes downloads anywhere"},
	{pattern: "directory.watch.added", class: classDenied, why: "loads torrents from a directory"},
	{pattern: "d.directory.set", class: classDenied, why: "writes a download anywhere (Flood's add and move)"},
	{pattern: "d.directory_base.set", class: classDenied, why: "writes a download anywhere (Flood's add and move)"},
	{pattern: "d.delete_tied", class: classDenied, why: "deletes a file"},
	{pattern: "d.create_link", class: classDenied, why: "creates a symlink"},
	{pattern: "d.delete_link", class: classDenied, why: "deletes a symlink"},
	{pattern: "system.file.split_*.set", class: classDenied, why: "changes the names of files on disk"},
	{pattern: "ipv4_filter.load", class: classDenied, why: "reads a file"},
	{pattern: "ipv4_filter.dump", class: classDenied, why: "writes to the log"},
	{pattern: "print", class: classDenied, why: "writes to the log"},
	// Denied: they open sockets, change where traffic goes, or weaken TLS.
	{pattern: "network.scgi.open*", class: classDenied, why: "opens an RPC socket"},
	{pattern: "network.scgi.dont_route.set", class: classDenied, why: "changes the RPC socket"},
	{pattern: "network.xmlrpc.*.set", class: classDenied, why: "changes the RPC dialect or limits for every client, the gateway's poller included"},
	{pattern: "network.bind_address.set", class: classDenied, why: "moves rTorrent's sockets to another interface"},
	{pattern: "network.proxy_address.set", class: classDenied, why: "sends traffic through a proxy"},
	{pattern: "network.http.proxy_address.set", class: classDenied, why: "sends tracker traffic through a proxy"},
	{pattern: "network.http.cacert.set", class: classDenied, why: "changes the trusted certificates"},
	{pattern: "network.http.capath.set", class: classDenied, why: "changes the trusted certificates"},
	{pattern: "network.http.ssl_verify_*.set", class: classDenied, why: "disables TLS verification"},
	{pattern: "network.listen.backlog.set", class: classDenied, why: "changes the listening socket"},
	{pattern: "dht.add_node", class: classDenied, why: "makes rTorrent contact an address"},
	{pattern: "add_peer", class: classDenied, why: "makes rTorrent contact an address"},
	// Denied: the user interface, and the pre-0.9 aliases that set what
	// they name (bind, directory, session, scgi_port, ...).
	{pattern: "ui.*", class: classDenied, why: "drives the curses interface"},
	{pattern: "keys.layout.set", class: classDenied, why: "drives the curses interface"},
	{pattern: "key_layout", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "torrent_list_layout", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "bind", class: classDenied, why: "pre-0.9 alias of network.bind_address.set"},
	{pattern: "check_hash", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "close_low_diskspace", class: classDenied, why: "pre-0.9 alias, meant for schedules"},
	{pattern: "close_untied", class: classDenied, why: "pre-0.9 alias, meant for schedules"},
	{pattern: "remove_untied", class: classDenied, why: "pre-0.9 alias, meant for schedules"},
	{pattern: "start_tied", class: classDenied, why: "pre-0.9 alias, meant for schedules"},
	{pattern: "stop_untied", class: classDenied, why: "pre-0.9 alias, meant for schedules"},
	{pattern: "connection_leech", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "connection_seed", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "dht", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "dht_port", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "directory", class: classDenied, why: "pre-0.9 alias of directory.default.set"},
	{pattern: "download_rate", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "upload_rate", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "encoding_list", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "encryption", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "ip", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "max_*", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "min_*", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "port_random", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "port_range", class: classDenied, why: "pre-0.9 alias"},
	{pattern: "proxy_address", class: classDenied, why: "pre-0.9 alias of network.proxy_address.set"},
	{pattern: "scgi_local", class: classDenied, why: "pre-0.9 alias: opens an RPC socket"},
	{pattern: "scgi_port", class: classDenied, why: "pre-0.9 alias: opens an RPC socket"},
	{pattern: "session", class: classDenied, why: "pre-0.9 alias of session.path.set"},

	// Calls of calls: the entries, fields and extra commands are inspected.
	{pattern: "system.multicall", class: classRead, eval: true},
	{pattern: "d.multicall2", class: classRead, eval: true},
	{pattern: "d.multicall.filtered", class: classRead, eval: true},
	{pattern: "d.multicall", class: classRead, eval: true}, // pre-0.9 clients
	{pattern: "t.multicall", class: classRead, eval: true},
	{pattern: "p.multicall", class: classRead, eval: true},
	{pattern: "f.multicall", class: classRead, eval: true},
	{pattern: "load.*", class: classWrite, eval: true},
	// Expressions used in fields and filters; those that evaluate their
	// arguments as commands are marked eval.
	{pattern: "branch", class: classRead, eval: true},
	{pattern: "if", class: classRead, eval: true},
	{pattern: "and", class: classRead, eval: true},
	{pattern: "or", class: classRead, eval: true},
	{pattern: "not", class: classRead, eval: true},
	{pattern: "try", class: classRead, eval: true},
	{pattern: "catch", class: classRead, eval: true},
	{pattern: "equal", class: classRead, eval: true},
	{pattern: "less", class: classRead, eval: true},
	{pattern: "greater", class: classRead, eval: true},
	{pattern: "compare", class: classRead, eval: true},
	{pattern: "match", class: classRead, eval: true},
	{pattern: "elapsed.*", class: classRead},
	{pattern: "cat", class: classRead},
	{pattern: "false", class: classRead},
	{pattern: "value", class: classRead},
	{pattern: "math.*", class: classRead},
	{pattern: "convert.*", class: classRead},
	{pattern: "to_*", class: classRead},

	// Downloads: control, then every remaining d.* reads.
	{pattern: "d.start", class: classWrite},
	{pattern: "d.stop", class: classWrite},
	{pattern: "d.open", class: classWrite},
	{pattern: "d.close", class: classWrite},
	{pattern: "d.close.directly", class: classWrite},
	{pattern: "d.erase", class: classWrite},
	{pattern: "d.pause", class: classWrite},
	{pattern: "d.resume", class: classWrite},
	{pattern: "d.try_*", class: classWrite},
	{pattern: "d.check_hash", class: classWrite},
	{pattern: "d.update_priorities", class: classWrite},
	{pattern: "d.save_*", class: classWrite},
	{pattern: "d.tracker_announce*", class: classWrite},
	{pattern: "d.tracker.insert", class: classWrite},
	{pattern: "d.tracker.send_scrape", class: classWrite},
	{pattern: "d.disconnect.seeders", class: classWrite},
	{pattern: "d.accepting_seeders.*able", class: classWrite},
	{pattern: "d.views.push_back*", class: classWrite},
	{pattern: "d.views.remove", class: classWrite},
	{pattern: "d.*.set", class: classWrite}, // priority, custom*, tied_to_file, connection_seed, ...
	{pattern: "d.*", class: classRead},

	// Files, trackers, peers.
	{pattern: "f.*.set", class: classWrite},
	{pattern: "f.prioritize_*.*able", class: classWrite},
	{pattern: "f.set_*", class: classWrite},
	{pattern: "f.unset_*", class: classWrite},
	{pattern: "f.*", class: classRead},
	{pattern: "fi.*", class: classRead},
	{pattern: "t.enable", class: classWrite},
	{pattern: "t.disable", class: classWrite},
	{pattern: "t.*.set", class: classWrite},
	{pattern: "t.*", class: classRead},
	{pattern: "p.disconnect*", class: classWrite},
	{pattern: "p.*.set", class: classWrite},
	{pattern: "p.*", class: classRead},

	// Settings that only change rTorrent's behaviour in memory (throttles,
	// limits, protocol options, BitTorrent's own ports): what Flood's and
	// ruTorrent's settings pages write.
	{pattern: "throttle.up", class: classWrite},
	{pattern: "throttle.down", class: classWrite},
	{pattern: "throttle.ip", class: classWrite},
	{pattern: "throttle.*.set*", class: classWrite},
	{pattern: "throttle.*", class: classRead},
	{pattern: "network.*.set", class: classWrite}, // port_open, port_range, max_open_files, http.max_open, local_address, ...
	{pattern: "network.*", class: classRead},
	{pattern: "pieces.*.set", class: classWrite},
	{pattern: "pieces.*", class: classRead},
	{pattern: "protocol.*.set", class: classWrite},
	{pattern: "protocol.*", class: classRead},
	{pattern: "trackers.enable", class: classWrite},
	{pattern: "trackers.disable", class: classWrite},
	{pattern: "trackers.*.set", class: classWrite},
	{pattern: "trackers.*", class: classRead},
	{pattern: "dht.*.set", class: classWrite}, // mode, port, throttle.name
	{pattern: "dht.*", class: classRead},
	{pattern: "choke_group.insert", class: classWrite},
	{pattern: "choke_group.*.set", class: classWrite},
	{pattern: "choke_group.*", class: classRead},
	{pattern: "group*.insert*", class: classWrite},
	{pattern: "group*.seeding.ratio.*able", class: classWrite},
	{pattern: "group*.set", class: classWrite},
	{pattern: "group*", class: classRead},
	{pattern: "ratio.*able", class: classWrite},
	{pattern: "ratio.*.set", class: classWrite},
	{pattern: "ratio.*", class: classRead},
	{pattern: "scheduler.*.set", class: classWrite},
	{pattern: "scheduler.simple.*", class: classWrite},
	{pattern: "scheduler.*", class: classRead},
	{pattern: "file.prioritize_toc*.set", class: classWrite},
	{pattern: "file.prioritize_toc*.push_back", class: classWrite},
	{pattern: "file.prioritize_toc*", class: classRead},
	{pattern: "encoding.add", class: classWrite},
	{pattern: "ip_tables.add_address", class: classWrite},
	{pattern: "ip_tables.insert_table", class: classWrite},
	{pattern: "ip_tables.*", class: classRead},
	{pattern: "ipv4_filter.add_address", class: classWrite},
	{pattern: "ipv4_filter.*", class: classRead},
	{pattern: "session.save", class: classWrite},
	{pattern: "session.on_completion.set", class: classWrite},
	{pattern: "session.*", class: classRead},
	{pattern: "system.file.*.set", class: classWrite}, // allocate, max_size
	{pattern: "system.file_status_cache.prune", class: classWrite},
	{pattern: "system.*", class: classRead}, // client_version, listMethods, methodHelp, pid, time, ...
	{pattern: "view.add", class: classWrite},
	{pattern: "view.persistent", class: classWrite},
	{pattern: "view.set_*visible", class: classWrite},
	{pattern: "view.sort", class: classWrite},
	{pattern: "view.*", class: classRead}, // list, size, size_not_visible
	{pattern: "directory.default", class: classRead},
	{pattern: "download_list", class: classRead},
	{pattern: "strings.*", class: classRead},
	{pattern: "keys.layout", class: classRead},
}
