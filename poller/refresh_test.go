package poller_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestRefreshBeforeTick: with ticks an hour apart, a change made by a call
// is published by Refresh before Refresh returns.
func TestRefreshBeforeTick(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		a := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "a.bin", 64<<10, nil)
		c := rtorrenttest.MakeTorrentBytes(t, "c.bin", 64<<10)
		b.load(t, a, true)
		waitFor(t, "a.bin is checked", func() bool { return b.direct(t)[a.Hash]["isComplete"] == true })

		f := startPoller(t, b, &poller.Options{Interval: time.Hour, FullSweep: -1})
		cl := newClient(t, f.hub)
		cl.subscribe("torrents", nil)
		cl.subscribe("torrent."+a.Hash, nil)
		cl.next(t)
		cl.next(t)
		if got := cl.tables["torrents"][a.Hash]["state"]; got != true {
			t.Fatalf("state after connecting = %v", got)
		}

		tests := []struct {
			name   string
			do     func(t *testing.T)
			hashes []string
			check  func(t *testing.T) bool
		}{
			{
				name:   "stop",
				do:     func(t *testing.T) { b.call(t, "d.stop", a.Hash) },
				hashes: []string{a.Hash},
				check:  func(t *testing.T) bool { return cl.tables["torrents"][a.Hash]["state"] == false },
			},
			{
				name:   "tag, hash given in lower case",
				do:     func(t *testing.T) { b.call(t, "d.custom1.set", a.Hash, "music") },
				hashes: []string{strings.ToLower(a.Hash)},
				check:  func(t *testing.T) bool { return cl.tables["torrents"][a.Hash]["custom1"] == "music" },
			},
			{
				name: "load, then refresh everything",
				do:   func(t *testing.T) { b.load(t, c, false) },
				check: func(t *testing.T) bool {
					return cl.tables["torrents"][c.Hash] != nil
				},
			},
			{
				name:   "erase",
				do:     func(t *testing.T) { b.call(t, "d.erase", c.Hash) },
				hashes: []string{c.Hash},
				check:  func(t *testing.T) bool { return cl.tables["torrents"][c.Hash] == nil },
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.do(t)
				if err := f.p.Refresh(t.Context(), tt.hashes...); err != nil {
					t.Fatal(err)
				}
				// Refresh has returned: the change is queued already.
				for !tt.check(t) {
					if _, ok := cl.tryNext(t, time.Millisecond); !ok {
						t.Fatalf("change not published by Refresh: %v", cl.tables["torrents"][a.Hash])
					}
				}
			})
		}
		// The one-torrent topic followed its torrent.
		cl.until(t, "torrent.<HASH> catches up", func() bool {
			return sameState(cl.tables["torrent."+a.Hash], map[string]map[string]any{a.Hash: b.direct(t)[a.Hash]}) == ""
		})
		if sameState(cl.tables["torrents"], b.direct(t)) != "" {
			t.Errorf("state differs from a direct read: %s", sameState(cl.tables["torrents"], b.direct(t)))
		}
	})
}

// TestRefreshHashCheck: a stopped download hash-checked through rtgate
// (d.check_hash, then Refresh) is followed to its end by the ticks, since
// Refresh saw it hashing or done, and completes; its events are
// rTorrent's (a check that finds the data raises no finished).
func TestRefreshHashCheck(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "late.bin", 256<<10)
		b.load(t, tr, false)
		f := startPoller(t, b, &poller.Options{Interval: 20 * time.Millisecond, FullSweep: -1})
		cl := newClient(t, f.hub)
		cl.subscribe("events", nil)
		cl.subscribe("torrents", nil)
		cl.next(t)
		cl.next(t)

		rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "late.bin", 256<<10, nil)
		b.call(t, "d.check_hash", tr.Hash)
		if err := f.p.Refresh(t.Context(), tr.Hash); err != nil {
			t.Fatal(err)
		}
		cl.until(t, "the download finishes", func() bool {
			return cl.tables["torrents"][tr.Hash]["isComplete"] == true &&
				slices.Equal([]string{poller.EventHashQueued, poller.EventOpened, poller.EventHashDone}, cl.eventsOf(tr.Hash))
		})
		cl.converge(t, b, "torrents")
	})
}

func TestRefreshErrors(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		p := poller.New(b.c, nil)
		if err := p.Refresh(t.Context(), "0123"); !errors.Is(err, poller.ErrInvalidHash) {
			t.Errorf("short hash: %v", err)
		}
		if err := p.Refresh(t.Context(), "G123456789012345678901234567890123456789"); !errors.Is(err, poller.ErrInvalidHash) {
			t.Errorf("non-hex hash: %v", err)
		}
		if err := p.Refresh(t.Context(), "0123456789012345678901234567890123456789"); !errors.Is(err, poller.ErrNotConnected) {
			t.Errorf("before Run: %v", err)
		}

		f := startPoller(t, b, nil)
		// A hash rTorrent never had is simply absent: no error, no change.
		if err := f.p.Refresh(t.Context(), "0123456789012345678901234567890123456789"); err != nil {
			t.Errorf("unknown hash: %v", err)
		}
		if err := f.p.Run(t.Context()); !errors.Is(err, poller.ErrRunning) {
			t.Errorf("second Run = %v", err)
		}
		if _, ok := f.p.Torrent("0123456789012345678901234567890123456789"); ok {
			t.Error("unknown hash has a torrent")
		}
	})
}

// TestRequestRefresh: with ticks an hour apart, RequestRefresh returns at
// once and the loop publishes the change well before any tick; requests
// made together are served together.
func TestRequestRefresh(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		a := rtorrenttest.MakeTorrentBytes(t, "a.bin", 64<<10)
		c := rtorrenttest.MakeTorrentBytes(t, "c.bin", 64<<10)
		b.load(t, a, true)
		b.load(t, c, true)
		waitFor(t, "both loaded", func() bool { d := b.direct(t); return d[a.Hash] != nil && d[c.Hash] != nil })

		f := startPoller(t, b, &poller.Options{Interval: time.Hour, FullSweep: -1})
		cl := newClient(t, f.hub)
		cl.subscribe("torrents", nil)
		cl.next(t)

		b.call(t, "d.stop", a.Hash)
		b.call(t, "d.custom1.set", c.Hash, "tagged")
		start := time.Now()
		f.p.RequestRefresh(a.Hash)
		f.p.RequestRefresh(strings.ToLower(c.Hash), "not-a-hash-is-dropped-into-a-sweep")
		if d := time.Since(start); d > 2*time.Second { // a bound on blocking, not a speed target
			t.Errorf("RequestRefresh blocked for %v", d)
		}
		cl.until(t, "both changes published", func() bool {
			return cl.tables["torrents"][a.Hash]["state"] == false && cl.tables["torrents"][c.Hash]["custom1"] == "tagged"
		})
	})
}
