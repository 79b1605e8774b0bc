package poller_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestKillAndRestart: rTorrent crashes; the backend topic goes
// disconnected, reconnecting (with backoff), then connected to the new
// process; the downloads that came back and the one that did not are
// published as differences from the old state, without a new epoch.
func TestKillAndRestart(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		keep := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "keep.bin", 64<<10, nil)
		lost := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "lost.bin", 64<<10, nil)
		b.load(t, keep, true)
		b.load(t, lost, false)

		f := startPoller(t, b, &poller.Options{
			Interval: 20 * time.Millisecond, FullSweep: -1,
			BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
			Backend: "rtorrent",
		})
		cl := newClient(t, f.hub)
		for _, topic := range []string{"backend", "torrents", "events"} {
			cl.subscribe(topic, nil)
			cl.next(t)
		}
		epoch := cl.last["torrents"].Epoch
		pid := cl.objects["backend"]["pid"]
		if cl.objects["backend"]["state"] != "connected" || cl.objects["backend"]["version"] != b.rt.Version.Name ||
			cl.objects["backend"]["backend"] != "rtorrent" || pid != float64(b.rt.PID()) {
			t.Fatalf("backend = %v, pid %d", cl.objects["backend"], b.rt.PID())
		}
		cl.converge(t, b, "torrents")

		b.rt.Kill()
		// The lost download's session files go with the crash.
		files, _ := filepath.Glob(filepath.Join(b.rt.SessionDir, lost.Hash+"*"))
		for _, f := range files {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		cl.until(t, "the poller retries", func() bool {
			a, _ := cl.objects["backend"]["attempt"].(float64)
			return cl.objects["backend"]["state"] == "reconnecting" && a >= 2
		})
		if h := f.p.Health(); h.State != poller.StateReconnecting || h.Error == "" || h.RetryAt.IsZero() {
			t.Errorf("Health = %+v", h)
		}
		b.rt.Restart(t)
		cl.until(t, "the poller reconnects", func() bool { return cl.objects["backend"]["state"] == "connected" })
		if states, want := slices.Compact(cl.states), []string{"connected", "disconnected", "reconnecting", "connected"}; !slices.Equal(states, want) {
			t.Errorf("backend states %v, want %v", states, want)
		}
		if got := cl.objects["backend"]["pid"]; got == pid || got != float64(b.rt.PID()) {
			t.Errorf("pid after restart %v, was %v, rTorrent's %d", got, pid, b.rt.PID())
		}
		cl.converge(t, b, "torrents")
		if cl.last["torrents"].Epoch != epoch {
			t.Error("the resync started a new epoch; it should publish differences")
		}
		cl.until(t, "lost is erased", func() bool { return slices.Contains(cl.eventsOf(lost.Hash), poller.EventErased) })
		if _, ok := cl.tables["torrents"][keep.Hash]; !ok {
			t.Error("keep.bin did not come back")
		}
	})
}
