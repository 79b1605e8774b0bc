package engine_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/xmlrpc"
)

// usedMethods are the commands Flood 4.11 and rtgate's poller call or put
// in fields, all of which the engine must list (Flood replaces an unlisted
// field by "false=", and the poller drops its column).
var usedMethods = []string{
	// Flood's torrent list, details and transfer summary.
	"d.multicall2", "d.hash", "d.name", "d.message", "d.state", "d.custom2", "d.is_active", "d.complete",
	"d.is_private", "d.connection_seed", "d.is_open", "d.hashing", "d.priority", "d.up.rate", "d.up.total",
	"d.down.rate", "d.down.total", "d.ratio", "d.bytes_done", "d.size_bytes", "d.directory", "d.custom",
	"d.creation_date", "d.timestamp.finished", "d.custom1", "cat", "false", "t.multicall", "t.is_enabled",
	"t.url", "t.scrape_complete", "t.scrape_incomplete", "d.peers_complete", "d.peers_accounted",
	"f.multicall", "f.path", "f.priority", "f.size_bytes", "f.size_chunks", "f.completed_chunks",
	"p.multicall", "p.address", "p.client_version", "p.completed_percent", "p.down_rate", "p.up_rate",
	"p.is_encrypted", "p.is_incoming", "t.type", "throttle.global_down.rate", "throttle.global_down.total",
	"throttle.global_up.rate", "throttle.global_up.total",
	// Flood's actions.
	"system.multicall", "system.listMethods", "d.open", "d.start", "d.stop", "d.close", "d.erase", "d.check_hash",
	"d.tracker_announce", "d.priority.set", "d.update_priorities", "d.connection_seed.set", "d.custom1.set",
	"d.is_multi_file", "d.directory.set", "d.directory_base.set", "t.disable", "d.tracker.insert",
	"d.save_full_session", "session.path", "f.priority.set", "load.raw", "load.raw_start", "load.normal",
	"load.start", "load.throw", "load.start_throw", "d.custom.set", "d.custom2.set", "d.tied_to_file.set",
	// Flood's settings.
	"dht.statistics", "dht.port", "directory.default", "network.http.max_open", "network.local_address",
	"network.max_open_files", "network.port_open", "network.port_random", "network.port_range",
	"pieces.hash.on_completion", "pieces.memory.max", "protocol.pex", "throttle.global_down.max_rate",
	"throttle.global_up.max_rate", "throttle.max_downloads", "throttle.max_downloads.global",
	"throttle.max_peers.normal", "throttle.max_peers.seed", "throttle.max_uploads", "throttle.max_uploads.global",
	"throttle.min_peers.normal", "throttle.min_peers.seed", "trackers.numwant", "dht.mode.set",
	"throttle.global_down.max_rate.set", "throttle.global_up.max_rate.set", "directory.default.set",
	// rtgate's poller.
	"system.client_version", "system.pid", "view.size", "d.multicall.filtered", "d.is_multi_file",
	"d.left_bytes", "d.base_path", "d.timestamp.started", "d.timestamp.last_active", "d.peers_connected",
	"p.id", "p.port", "p.down_total", "p.up_total", "p.is_snubbed", "t.group", "t.scrape_downloaded",
	"t.scrape_time_last", "t.success_counter", "t.failed_counter", "t.normal_interval", "t.min_interval",
	"equal", "or", "match",
}

// TestListMethods: system.listMethods lists every method the engine has,
// once, sorted, including everything Flood and the poller use; every
// listed method exists (no -506), and system.methodExist agrees.
func TestListMethods(t *testing.T) {
	e := newEnv(t)
	var names []string
	for _, v := range call(t, e, "system.listMethods").Values() {
		names = append(names, v.String())
	}
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Error("system.listMethods is not sorted and unique")
	}
	for _, m := range usedMethods {
		if _, ok := slices.BinarySearch(names, m); !ok {
			t.Errorf("%s is not listed", m)
		}
	}
	for _, m := range names {
		_, err := e.Call(ctxT(t), m)
		var f *xmlrpc.Fault
		if errors.As(err, &f) && f.Code == xmlrpc.FaultNoMethod {
			t.Errorf("%s is listed but not defined", m)
		}
		if !call(t, e, "system.methodExist", m).Bool() {
			t.Errorf("system.methodExist(%s) = false", m)
		}
		if strings.HasPrefix(m, "execute") || strings.HasPrefix(m, "method.") || m == "import" {
			t.Errorf("%s: the engine must not offer rTorrent's code execution", m)
		}
	}
	if call(t, e, "system.methodExist", "no.such").Bool() {
		t.Error("system.methodExist(no.such) = true")
	}
	if v := call(t, e, "system.client_version"); v.String() != "0.9.8" {
		t.Errorf("system.client_version = %v", v)
	}
	if v := call(t, e, "engine.version"); !strings.Contains(v.String(), "anacrolix") {
		t.Errorf("engine.version = %v", v)
	}
}
