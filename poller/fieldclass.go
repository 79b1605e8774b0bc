package poller

import (
	"strings"

	"github.com/rtgate/rtgate/internal/rtcmd"
)

// fieldClass says when a value the poller learned can change, and so how
// it keeps it fresh.
type fieldClass uint8

const (
	// classNone: not answerable from state; the read goes to rTorrent.
	classNone fieldClass = iota
	// classStatic changes only through a call (which, through rtgate,
	// refreshes what it names), a download event (which the event hooks
	// report) or rTorrent's own scheduled commands and other clients'
	// direct calls (which the full sweep catches): read at a download's
	// refresh and at every sweep.
	classStatic
	// classFast also changes on its own while the download is started or
	// hash-checking: read every tick over those two views.
	classFast
	// classVolatile changes on its own at any time (d.free_diskspace, the
	// clock, open sockets): read every tick for every download.
	classVolatile
)

// staticGetters are the download getters that change only through a call
// or an event (d.state through d.start/d.stop and the events they raise,
// d.base_path at open and close, d.complete at a hash check or a finish).
// Any other d.* getter is classFast, but volatileGetters.
var staticGetters = setOf(
	"d.hash", "d.name", "d.base_filename", "d.base_path", "d.directory", "d.directory_base",
	"d.custom", "d.custom1", "d.custom2", "d.custom3", "d.custom4", "d.custom5", "d.custom_throw",
	"d.creation_date", "d.is_private", "d.is_multi_file", "d.priority", "d.priority_str",
	"d.throttle_name", "d.views", "d.views.has", "d.tied_to_file", "d.loaded_file", "d.session_file",
	"d.size_bytes", "d.size_chunks", "d.chunk_size", "d.size_files", "d.state", "d.state_changed",
	"d.state_counter", "d.is_open", "d.is_active", "d.complete", "d.incomplete", "d.is_hash_checked",
	"d.is_hash_checking", "d.hashing", "d.hashing_failed", "d.timestamp.started", "d.timestamp.finished",
	"d.tracker_size", "d.tracker_numwant", "d.connection_current", "d.connection_leech", "d.connection_seed",
	"d.peers_min", "d.peers_max", "d.uploads_min", "d.uploads_max", "d.downloads_min", "d.downloads_max",
	"d.max_file_size", "d.max_size_pex", "d.mode", "d.is_meta", "d.is_pex_active", "d.peer_exchange",
	"d.accepting_seeders", "d.ignore_commands", "d.group", "d.group.name", "d.is_partially_done",
	"d.is_not_partially_done", "d.tracker_focus", "d.name.base64", "d.directory.base64",
)

// volatileGetters change for a stopped download too.
var volatileGetters = setOf("d.free_diskspace")

// pureCommands compute from their arguments alone.
var pureCommands = setOf("cat", "value", "false", "equal", "less", "greater", "not", "and", "or", "if", "branch", "elapsed.greater", "elapsed.less", "string.contains", "string.contains_i", "string.equals", "string.len")

// classifyField classifies a field of d.multicall2 (the form "d.name=",
// "d.custom=addtime", `cat="$t.multicall=d.hash=,t.url=,cat={|||}"`) on a
// backend offering the commands has reports: classNone when it runs a
// command the backend lacks or one the poller does not know to be a
// getter, else the most changing class of the commands it runs.
func classifyField(cmd string, has func(string) bool) fieldClass {
	return classifyCommand(cmd, has, 0)
}

func classifyCommand(cmd string, has func(string) bool, depth int) fieldClass {
	if depth > 8 {
		return classNone
	}
	c := rtcmd.Parse(cmd)
	if c.Empty || c.Err != nil || c.Rest != "" {
		return classNone
	}
	class := classOfCommand(c.Name, has)
	if class == classNone {
		return classNone
	}
	nested := c.Name == "t.multicall" || c.Name == "f.multicall" || c.Name == "p.multicall"
	var walk func(ns []rtcmd.Node) bool
	walk = func(ns []rtcmd.Node) bool {
		for _, n := range ns {
			if n.IsList {
				if !walk(n.List) {
					return false
				}
				continue
			}
			var sub string
			switch {
			case strings.HasPrefix(n.Str, "$"):
				sub = n.Str[1:]
			case nested && strings.Contains(n.Str, "="):
				sub = n.Str
			default:
				continue
			}
			k := classifyCommand(sub, has, depth+1)
			if k == classNone {
				return false
			}
			class = max(class, k)
		}
		return true
	}
	if !walk(c.Args) {
		return classNone
	}
	return class
}

// classOfCommand classifies one command by name.
func classOfCommand(name string, has func(string) bool) fieldClass {
	if pureCommands[name] {
		if name == "false" || has(name) {
			return classStatic
		}
		return classNone
	}
	if !has(name) || strings.HasSuffix(name, ".set") {
		return classNone
	}
	switch {
	case volatileGetters[name]:
		return classVolatile
	case staticGetters[name]:
		return classStatic
	case strings.HasPrefix(name, "d."), strings.HasPrefix(name, "t."), strings.HasPrefix(name, "f."), strings.HasPrefix(name, "p."):
		return classFast
	}
	return classVolatile
}

// globalConstants never change while rTorrent runs.
var globalConstants = setOf("system.client_version", "system.library_version", "system.api_version", "system.hostname", "system.pid", "session.name")

// classifyGlobal classifies a global getter, called with target "": a
// constant or a setting (a command with a .set) is classStatic, anything
// else classVolatile; classNone for a command the backend lacks.
func classifyGlobal(method string, has func(string) bool) fieldClass {
	if !has(method) || strings.HasSuffix(method, ".set") || method == "system.multicall" || method == "system.listMethods" {
		return classNone
	}
	for _, prefix := range []string{"d.", "f.", "p.", "t.", "load.", "execute", "system.shutdown", "method."} {
		if strings.HasPrefix(method, prefix) {
			return classNone
		}
	}
	if globalConstants[method] || has(method+".set") {
		return classStatic
	}
	return classVolatile
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
