package poller_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestCoolingAfterStop: a download stopped behind the poller's back keeps
// changing on its own for a moment (the tracker's answer to the stop
// announce lands in d.message); the ticks read it for a while after it
// left the started view, without a sweep.
func TestCoolingAfterStop(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		// A tracker that takes the start and refuses the stop.
		var started atomic.Bool
		tracker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("event") == "stopped" {
				w.Write([]byte("d14:failure reason12:stop refusede"))
				return
			}
			started.Store(true)
			w.Write([]byte("d8:intervali1800e5:peers0:e"))
		}))
		defer tracker.Close()
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "cool.bin", 64<<10, &rtorrenttest.TorrentOptions{Announce: tracker.URL + "/announce"})
		b.load(t, tr, true)
		waitFor(t, "the first announce", started.Load)
		f := startPoller(t, b, &poller.Options{Interval: 50 * time.Millisecond, FullSweep: -1})
		b.call(t, "d.stop", tr.Hash)
		var msg string
		rtorrenttest.WaitForWithin(t, 10*time.Second, "rTorrent's message after the stop", func() bool {
			msg = b.call(t, "d.message", tr.Hash).String()
			return msg != ""
		})
		rtorrenttest.WaitForWithin(t, 5*time.Second, "the poller's message after the stop", func() bool {
			d, _ := f.p.Torrent(tr.Hash)
			return d.Message == msg
		})
	})
}
