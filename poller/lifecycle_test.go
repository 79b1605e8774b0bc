package poller_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestLifecycle drives one rTorrent through a download's life with calls
// that do not pass through the poller, which must see each step from its
// ticks alone (no full sweep ever runs): the torrents topic carries the
// field changes, the events topic rTorrent's event names. It ends with the
// client's state equal to a direct full read.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		f := startPoller(t, b, &poller.Options{Interval: 20 * time.Millisecond, FullSweep: -1})
		cl := newClient(t, f.hub)
		cl.subscribe("torrents", nil)
		cl.subscribe("events", nil)
		cl.next(t)
		cl.next(t)

		seed := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "seed.bin", 200<<10, nil)
		leech := rtorrenttest.MakeTorrentBytes(t, "leech.bin", 300<<10)
		multi := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "multi", 100<<10,
			&rtorrenttest.TorrentOptions{Files: 3, Announce: "http://127.0.0.1:9/announce"})

		// rTorrent's own events, as its event hooks log them: every step,
		// however short, in rTorrent's order.
		startEvents := []string{poller.EventHashQueued, poller.EventOpened, poller.EventResumed, poller.EventHashDone}
		loadStart := append([]string{poller.EventInserted}, startEvents...)
		tests := []struct {
			name string
			hash string
			do   func(t *testing.T)
			// refresh: the call went through rtgate, whose gateway then asks
			// for a refresh (a stopped download changes only through calls,
			// which ticks do not poll for).
			refresh bool
			events  []string       // exactly these, in this order, for this download
			want    map[string]any // fields once done; nil: removed
		}{
			{
				name: "loaded and started with its data", hash: seed.Hash,
				do:     func(t *testing.T) { b.load(t, seed, true) },
				events: loadStart,
				want: map[string]any{"name": "seed.bin", "state": true, "isActive": true, "isOpen": true,
					"isComplete": true, "bytesDone": float64(200 << 10), "leftBytes": 0.0, "hashing": 0.0},
			},
			{
				name: "stopped", hash: seed.Hash,
				do:     func(t *testing.T) { b.call(t, "d.stop", seed.Hash) },
				events: []string{poller.EventPaused},
				want:   map[string]any{"state": false, "isActive": false, "isOpen": true},
			},
			{
				name: "closed", hash: seed.Hash, refresh: true,
				do:     func(t *testing.T) { b.call(t, "d.close", seed.Hash) },
				events: []string{poller.EventHashRemoved, poller.EventClosed},
				want:   map[string]any{"state": false, "isOpen": false},
			},
			{
				name: "started again", hash: seed.Hash,
				do:     func(t *testing.T) { b.call(t, "d.start", seed.Hash) },
				events: startEvents,
				want:   map[string]any{"state": true, "isActive": true, "isOpen": true},
			},
			{
				name: "paused", hash: seed.Hash,
				do:     func(t *testing.T) { b.call(t, "d.pause", seed.Hash) },
				events: []string{poller.EventPaused},
				want:   map[string]any{"state": true, "isActive": false},
			},
			{
				name: "resumed", hash: seed.Hash,
				do:     func(t *testing.T) { b.call(t, "d.resume", seed.Hash) },
				events: []string{poller.EventResumed},
				want:   map[string]any{"state": true, "isActive": true},
			},
			{
				name: "loaded stopped without its data", hash: leech.Hash,
				do:     func(t *testing.T) { b.load(t, leech, false) },
				events: []string{poller.EventInserted},
				want:   map[string]any{"name": "leech.bin", "state": false, "isComplete": false, "bytesDone": 0.0, "sizeBytes": float64(300 << 10)},
			},
			{
				name: "its data put in place, then started: it finishes", hash: leech.Hash,
				do: func(t *testing.T) {
					rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "leech.bin", 300<<10, nil) // same bytes, same hash
					b.call(t, "d.start", leech.Hash)
				},
				// A check that finds the data complete raises no finished.
				events: startEvents,
				want:   map[string]any{"state": true, "isComplete": true, "bytesDone": float64(300 << 10), "leftBytes": 0.0},
			},
			{
				name: "multi-file with a tracker", hash: multi.Hash,
				do:     func(t *testing.T) { b.load(t, multi, true) },
				events: loadStart,
				want: map[string]any{"isMultiFile": true, "isComplete": true,
					"trackerURIs": []any{"http://127.0.0.1:9/announce"}, "seedsTotal": 0.0},
			},
			{
				name: "erased", hash: seed.Hash,
				do:     func(t *testing.T) { b.call(t, "d.erase", seed.Hash) },
				events: []string{poller.EventPaused, poller.EventHashRemoved, poller.EventClosed, poller.EventErased},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := len(cl.eventsOf(tt.hash))
				tt.do(t)
				if tt.refresh {
					if err := f.p.Refresh(t.Context(), tt.hash); err != nil {
						t.Fatal(err)
					}
				}
				cl.until(t, tt.name, func() bool {
					got := cl.tables["torrents"][tt.hash]
					if tt.want == nil && got != nil {
						return false
					}
					for k, v := range tt.want {
						if got == nil || !reflect.DeepEqual(got[k], v) {
							return false
						}
					}
					return len(cl.eventsOf(tt.hash)) >= before+len(tt.events)
				})
				if got := cl.eventsOf(tt.hash)[before:]; !slices.Equal(got, tt.events) {
					t.Errorf("events %v, want %v", got, tt.events)
				}
			})
		}
		cl.converge(t, b, "torrents")
	})
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestEventCheck: between ticks an hour apart, the hooks' counter read
// every EventCheck brings a download event made behind the poller's back
// at once; with EventCheck off it waits for the tick.
func TestEventCheck(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name  string
			check time.Duration
			seen  bool
		}{
			{"every 20ms", 20 * time.Millisecond, true},
			{"off", -1, false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				b := startBackend(t, nil)
				tr := rtorrenttest.MakeTorrentBytes(t, "check.bin", 16<<10)
				b.load(t, tr, false)
				f := startPoller(t, b, &poller.Options{Interval: time.Hour, FullSweep: -1, EventCheck: tt.check})
				cl := newClient(t, f.hub)
				cl.subscribe("events", nil)
				cl.next(t)
				b.call(t, "d.erase", tr.Hash)
				deadline := time.Now().Add(2 * time.Second)
				for time.Now().Before(deadline) && len(cl.eventsOf(tr.Hash)) == 0 {
					cl.tryNext(t, time.Until(deadline))
				}
				if seen := slices.Equal(cl.eventsOf(tr.Hash), []string{poller.EventErased}); seen != tt.seen {
					t.Errorf("erase seen within 2 s: %v (events %v), want %v", seen, cl.eventsOf(tr.Hash), tt.seen)
				}
			})
		}
	})
}
