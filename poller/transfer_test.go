package poller_test

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// tracker is a tiny HTTP BitTorrent tracker: every announce gets the one
// peer it was told about, as a compact peer list.
type tracker struct {
	*httptest.Server
	announces atomic.Int32
}

func newTracker(t *testing.T, peerPort int) *tracker {
	tr := &tracker{}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.announces.Add(1)
		peer := []byte{127, 0, 0, 1, 0, 0}
		binary.BigEndian.PutUint16(peer[4:], uint16(peerPort))
		fmt.Fprintf(w, "d8:completei1e10:incompletei1e8:intervali60e12:min intervali1e5:peers%d:%se", len(peer), peer)
	}))
	t.Cleanup(tr.Close)
	return tr
}

// TestTransfer: a real download between two rTorrents on loopback, one
// seeding, the other (the one polled) leeching. The leecher's topics show
// the peer, the traffic and the download finishing, and end equal to a
// direct read.
func TestTransfer(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		seeder := startBackend(t, nil)
		leecher := startBackend(t, nil)
		trk := newTracker(t, seeder.rt.Port)
		tr := rtorrenttest.MakeTorrent(t, seeder.rt.DownloadDir, "shared.bin", 2<<20,
			&rtorrenttest.TorrentOptions{Announce: trk.URL + "/announce", PieceLength: 64 << 10})
		// Slow enough (about a second) for several ticks to see the traffic:
		// on loopback unthrottled it can begin and end between two ticks.
		seeder.call(t, "throttle.global_up.max_rate.set", "", "2097152")
		seeder.load(t, tr, true)
		waitFor(t, "the seeder has checked its data", func() bool { return seeder.direct(t)[tr.Hash]["isComplete"] == true })

		f := startPoller(t, leecher, &poller.Options{Interval: 20 * time.Millisecond, FullSweep: time.Second})
		cl := newClient(t, f.hub)
		peers := "torrent." + tr.Hash + ".peers"
		for _, topic := range []string{"torrents", "events", "transfer", peers} {
			cl.subscribe(topic, nil)
			cl.next(t)
		}
		leecher.load(t, tr, true)

		var sawPeer, sawRate bool
		var maxDown float64
		cl.until(t, "the download finishes", func() bool {
			for _, p := range cl.tables[peers] {
				sawPeer = sawPeer || p["address"] == "127.0.0.1"
			}
			if d, ok := cl.tables["torrents"][tr.Hash]["downRate"].(float64); ok && d > 0 {
				sawRate = true
			}
			if d, ok := cl.objects["transfer"]["downTotal"].(float64); ok {
				maxDown = max(maxDown, d)
			}
			return slices.Contains(cl.eventsOf(tr.Hash), poller.EventFinished)
		})
		if trk.announces.Load() == 0 {
			t.Error("nobody announced")
		}
		if !sawPeer {
			t.Error("the peers topic never showed the seeder")
		}
		if !sawRate {
			t.Error("the torrents topic never showed a download rate")
		}
		got := cl.eventsOf(tr.Hash)
		for _, want := range [][]string{
			{poller.EventInserted, poller.EventFinished},
			{poller.EventActive},
		} {
			if !isSubsequence(want, got) {
				t.Errorf("events %v, want %v in order", got, want)
			}
		}
		cl.until(t, "the transfer topic counts the bytes", func() bool {
			d, _ := cl.objects["transfer"]["downTotal"].(float64)
			return d >= float64(tr.Size)
		})
		// rTorrent checks a download again once it finishes (bytesDone drops to
		// 0 and climbs back while it does).
		cl.until(t, "the whole file is done", func() bool {
			return cl.tables["torrents"][tr.Hash]["bytesDone"] == float64(tr.Size) &&
				cl.tables["torrents"][tr.Hash]["hashing"] == 0.0
		})
		// Rates decay after the transfer: wait for the torrent to go quiet
		// before comparing with a direct read.
		cl.until(t, "inactive", func() bool { return slices.Contains(cl.eventsOf(tr.Hash), poller.EventInactive) })
		cl.converge(t, leecher, "torrents")
	})
}
