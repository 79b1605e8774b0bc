package poller

import (
	"strconv"

	"github.com/rtgate/rtgate/internal/jsonenc"
)

// The download events the poller derives from its diffs, named as rTorrent
// names its own (and as rtorrent-ws pushes them).
const (
	EventInserted   = "event.download.inserted"    // a download appeared
	EventErased     = "event.download.erased"      // a download disappeared
	EventOpened     = "event.download.opened"      // d.is_open became 1
	EventClosed     = "event.download.closed"      // d.is_open became 0
	EventResumed    = "event.download.resumed"     // d.is_active became 1 (started, or resumed from pause)
	EventPaused     = "event.download.paused"      // d.is_active became 0 (stopped or paused)
	EventFinished   = "event.download.finished"    // d.complete became 1
	EventHashQueued = "event.download.hash_queued" // d.hashing became non-zero
	EventHashDone   = "event.download.hash_done"   // d.hashing became 0
	EventActive     = "event.download.active"      // traffic began: d.up.rate + d.down.rate became non-zero
	EventInactive   = "event.download.inactive"    // traffic stopped: both rates became 0

	// Events polling cannot see, which only the event hooks report.
	EventHashRemoved     = "event.download.hash_removed"      // a hash check was dropped (a close during it, a stop of a check)
	EventHashFailed      = "event.download.hash_failed"       // a hash check could not read the data
	EventHashFinalFailed = "event.download.hash_final_failed" // the check after a finish found bad chunks
)

// hookedEvents returns a delta's events when the event hooks are on: the
// lifecycle events are those the hooks logged, in rTorrent's order and
// with everything that happened between two polls (a hash check that
// began and ended, an erase and a load of the same download), and the
// diffs give the traffic events (active, inactive). A poll that did not
// read the log (a refresh after a call through rtgate) publishes no
// lifecycle event: the next tick reads them from the log. When the log
// missed events (exact false), a download the log says nothing of gets
// the events its diff shows.
func hookedEvents(derived []event, hooked []hookEvent, readLog, exact bool, at int64) []event {
	var out []event
	logged := map[string]bool{}
	for _, e := range hooked {
		out = append(out, event{name: e.name, target: e.hash, at: at})
		logged[e.hash] = true
	}
	for _, e := range derived {
		if e.name == EventActive || e.name == EventInactive || readLog && !exact && !logged[e.target] {
			out = append(out, e)
		}
	}
	return out
}

// event is one download event, published on the "events" topic as
// {"event":"event.download.finished","target":"<HASH>","timestamp":<ms>},
// the object rtorrent-ws puts in its pushes (keys sorted, as it writes them).
type event struct {
	name   string // one of the Event* names
	target string // the download's hash
	at     int64  // when the poller saw the change, in ms since the epoch
}

// appendEvent appends ev's JSON.
func appendEvent(dst []byte, ev *event) []byte {
	dst = append(dst, `{"event":`...)
	dst = jsonenc.AppendString(dst, ev.name)
	dst = append(dst, `,"target":`...)
	dst = jsonenc.AppendString(dst, ev.target)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, ev.at, 10)
	return append(dst, '}')
}

// flags are the row fields events are derived from.
type flags struct {
	open, active, complete, hashing, traffic bool
}

func flagsOf(s *schema, r *row) flags {
	if r == nil {
		return flags{}
	}
	return flags{
		open:     s.get(r, int(colIsOpen)).n != 0,
		active:   s.get(r, int(colIsActive)).n != 0,
		complete: s.get(r, int(colIsComplete)).n != 0,
		hashing:  s.get(r, int(colHashing)).n != 0,
		traffic:  s.get(r, int(colUpRate)).n+s.get(r, int(colDownRate)).n != 0,
	}
}

// deriveEvents appends the events that the change of one download from
// old to new stands for (old nil: it appeared; new nil: it went), in the
// order rTorrent raises them: queued for hashing, opened, resumed, traffic,
// hashed, finished, then the reverse.
//
// A download that appears gets inserted plus whatever it already is
// (opened, resumed, hash_queued, active), but not finished: a complete
// download that shows up (loaded with its data, or seen at a resync) has
// not just finished downloading.
func deriveEvents(evs []event, s *schema, hash string, old, new *row, at int64) []event {
	add := func(name string) { evs = append(evs, event{name: name, target: hash, at: at}) }
	if new == nil {
		add(EventErased)
		return evs
	}
	a, b := flagsOf(s, old), flagsOf(s, new)
	if old == nil {
		add(EventInserted)
		a.complete = b.complete
	}
	if !a.hashing && b.hashing {
		add(EventHashQueued)
	}
	if !a.open && b.open {
		add(EventOpened)
	}
	if !a.active && b.active {
		add(EventResumed)
	}
	if !a.traffic && b.traffic {
		add(EventActive)
	}
	if a.hashing && !b.hashing {
		add(EventHashDone)
	}
	if !a.complete && b.complete {
		add(EventFinished)
	}
	if a.traffic && !b.traffic {
		add(EventInactive)
	}
	if a.active && !b.active {
		add(EventPaused)
	}
	if a.open && !b.open {
		add(EventClosed)
	}
	return evs
}
