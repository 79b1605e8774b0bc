package poller_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/topics"
)

// TestResumeAfterDrop: a client whose connection dropped resubscribes from
// the last positions it saw and gets exactly the changes and events it
// missed (no gap, no repeat: client.apply checks every seq), ending equal to
// a direct read.
func TestResumeAfterDrop(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		var trs []rtorrenttest.Torrent
		for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
			tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, name, 32<<10, nil)
			b.load(t, tr, true)
			trs = append(trs, tr)
		}
		f := startPoller(t, b, &poller.Options{Interval: 20 * time.Millisecond, FullSweep: -1})
		cl := newClient(t, f.hub)
		cl.subscribe("torrents", nil)
		cl.subscribe("events", nil)
		cl.converge(t, b, "torrents")

		b.call(t, "d.stop", trs[0].Hash)
		cl.until(t, "a.bin stops", func() bool { return slices.Contains(cl.eventsOf(trs[0].Hash), poller.EventPaused) })
		cl.sub.Close()

		// Changes while the client is away.
		b.call(t, "d.stop", trs[1].Hash)
		b.call(t, "d.erase", trs[2].Hash)
		waitFor(t, "the poller sees them", func() bool {
			_, ok := f.p.Torrent(trs[2].Hash)
			tb, _ := f.p.Torrent(trs[1].Hash)
			return !ok && !tb.State
		})

		missed := len(cl.events)
		cl = cl.reconnect(t, f.hub)
		first := map[string]bool{}
		for len(first) < 2 {
			m := cl.next(t)
			if first[m.Topic] {
				continue
			}
			first[m.Topic] = true
			if m.Kind != topics.Change || !m.Recovered {
				t.Errorf("%s: first message after resume is a %v (recovered %v), want a recovered change", m.Topic, m.Kind, m.Recovered)
			}
		}
		cl.converge(t, b, "torrents")
		cl.until(t, "the missed events arrive", func() bool { return len(cl.events) >= missed+5 })
		var got []string
		for _, e := range cl.events[missed:] {
			got = append(got, e["event"].(string)+" "+e["target"].(string)[:4])
		}
		// rTorrent's own events, in its order (the event hooks'): erasing
		// a started download pauses and closes it first.
		c := trs[2].Hash[:4]
		want := []string{poller.EventPaused + " " + trs[1].Hash[:4],
			poller.EventPaused + " " + c, poller.EventHashRemoved + " " + c, poller.EventClosed + " " + c, poller.EventErased + " " + c}
		if !slices.Equal(got, want) {
			t.Errorf("events after resume %v, want %v", got, want)
		}

		// Nothing more: a resume from the current position is just Resumed.
		cl.sub.Close()
		cl = cl.reconnect(t, f.hub)
		for range 2 {
			if m := cl.next(t); m.Kind != topics.Resumed {
				t.Errorf("%s: %v after resuming at the head, want resumed", m.Topic, m.Kind)
			}
		}
	})
}
