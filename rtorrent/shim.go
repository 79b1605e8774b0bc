package rtorrent

import (
	"slices"

	"github.com/rtgate/rtgate/xmlrpc"
)

// This file is what lets a client written for one rTorrent version work on
// the other: a command that the backend lacks under that name but has a
// faithful equivalent of is renamed to it. A shim is exact or absent:
// every one below is an equivalence rTorrent itself states, as a
// CMD_REDIRECT in 0.16.17's src/main.cc (the ones it defines only when
// method.use_deprecated is 1, for 0.9.8's names; the unconditional ones,
// read backwards, for 0.16's names on 0.9.8), except "false=", which is
// what `false` means with any arguments on every version.

// renames maps a command name to its equivalent on a backend that lacks it.
var (
	// On 0.15 and later, for clients written for 0.9.8.
	toModern = map[string]string{
		"network.http.max_open":     "network.http.max_total_connections",
		"network.http.max_open.set": "network.http.max_total_connections.set",
		"execute2":                  "execute",
		"schedule2":                 "schedule",
		"schedule_remove2":          "schedule.remove",
	}
	// On 0.9.8, for clients written for 0.16.
	toLegacy = map[string]string{
		"network.http.max_total_connections":     "network.http.max_open",
		"network.http.max_total_connections.set": "network.http.max_open.set",
		"system.sockets.size":                    "network.open_sockets",
		"system.sockets.max_size":                "network.max_open_sockets",
		"system.sockets.max_size.set":            "network.max_open_sockets.set",
		"network.proxy.http":                     "network.http.proxy_address",
		"network.proxy.http.set":                 "network.http.proxy_address.set",
		"schedule.remove":                        "schedule_remove2",
	}
)

// Shim returns the call a backend of the given version runs for method
// and params, and whether it differs from them: a command it lacks under
// this name is renamed to its equivalent, inside system.multicall entries
// too, and "false=" (Flood's placeholder for a command the backend lacks,
// which is no command name) becomes "false". An unknown version renames
// only "false=". params is not modified.
func Shim(version, method string, params []xmlrpc.Value) (string, []xmlrpc.Value, bool) {
	renames := renamesFor(version)
	name, renamed := shimName(renames, method)
	switch {
	case name == "system.multicall" && len(params) == 1 && params[0].Kind() == xmlrpc.Array:
		entries := params[0].Values()
		var out []xmlrpc.Value
		for i, e := range entries {
			if e2, ok := shimEntry(version, e); ok {
				if out == nil {
					out = slices.Clone(entries)
				}
				out[i] = e2
			}
		}
		if out != nil {
			return name, []xmlrpc.Value{xmlrpc.NewArray(out...)}, true
		}
	case name == "system.methodExist" && len(params) == 1 && params[0].Kind() == xmlrpc.String:
		if n, ok := shimName(renames, params[0].String()); ok {
			return name, []xmlrpc.Value{xmlrpc.NewString(n)}, true
		}
	}
	return name, params, renamed
}

func shimEntry(version string, e xmlrpc.Value) (xmlrpc.Value, bool) {
	if e.Kind() != xmlrpc.Struct {
		return e, false
	}
	nameV, ok := e.Member("methodName")
	if !ok || nameV.Kind() != xmlrpc.String {
		return e, false
	}
	args, _ := e.Member("params")
	name, params, changed := Shim(version, nameV.String(), args.Values())
	if !changed {
		return e, false
	}
	members := make([]xmlrpc.Member, 0, e.Len())
	for k, m := range e.Members() {
		switch k {
		case "methodName":
			m = xmlrpc.NewString(name)
		case "params":
			m = xmlrpc.NewArray(params...)
		}
		members = append(members, xmlrpc.Member{Name: k, Value: m})
	}
	return xmlrpc.NewStruct(members...), true
}

func shimName(renames map[string]string, name string) (string, bool) {
	if name == "false=" {
		return "false", true
	}
	if to, ok := renames[name]; ok {
		return to, true
	}
	return name, false
}

func renamesFor(version string) map[string]string {
	r, ok := ParseRelease(version)
	switch {
	case !ok:
		return nil
	case r.AtLeast(0, 15):
		return toModern
	}
	return toLegacy
}

// ShimmedMethods returns the names a backend of the given version answers
// through Shim beside its own methods (its system.listMethods), sorted:
// rtgate lists them, so that a client that checks the list before it calls
// (Flood) finds them.
func ShimmedMethods(version string, own []string) []string {
	have := make(map[string]bool, len(own))
	for _, m := range own {
		have[m] = true
	}
	var extra []string
	for from, to := range renamesFor(version) {
		if have[to] && !have[from] {
			extra = append(extra, from)
		}
	}
	slices.Sort(extra)
	return extra
}
