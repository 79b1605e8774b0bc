package poller_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestDetailTopics: files, trackers and peers of one download, polled
// from the moment their topics start, refreshed with the download, and
// emptied when it is erased.
func TestDetailTopics(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "album", 96<<10,
			&rtorrenttest.TorrentOptions{Files: 3, Announce: "http://127.0.0.1:9/announce"})
		b.load(t, tr, true)
		waitFor(t, "album is checked", func() bool { return b.direct(t)[tr.Hash]["isComplete"] == true })

		// Ticks an hour apart: a detail topic is polled at once when it starts.
		f := startPoller(t, b, &poller.Options{Interval: time.Hour, FullSweep: -1})
		cl := newClient(t, f.hub)
		files, trackers, peers := "torrent."+tr.Hash+".files", "torrent."+tr.Hash+".trackers", "torrent."+tr.Hash+".peers"
		for _, topic := range []string{files, trackers, peers} {
			cl.subscribe(topic, nil)
		}
		cl.until(t, "files and trackers arrive", func() bool {
			return len(cl.tables[files]) == 3 && len(cl.tables[trackers]) == 1 && cl.tables[peers] != nil
		})
		var total float64
		for i, path := range tr.Files {
			file := cl.tables[files][strconv.Itoa(i)]
			// completedChunks counts the pieces touching the file, which may
			// exceed sizeChunks: don't compare them.
			if file["path"] != path || file["priority"] != 1.0 || file["completedChunks"] == 0.0 {
				t.Errorf("file %d = %v, want path %s, some chunks done, normal priority", i, file, path)
			}
			total += file["sizeBytes"].(float64)
		}
		if total != float64(tr.Size) {
			t.Errorf("files add up to %v bytes, want %d", total, tr.Size)
		}
		if tk := cl.tables[trackers]["0"]; tk["url"] != "http://127.0.0.1:9/announce" || tk["isEnabled"] != true {
			t.Errorf("tracker = %v", tk)
		}
		if len(cl.tables[peers]) != 0 {
			t.Errorf("peers of an isolated rTorrent: %v", cl.tables[peers])
		}

		// A file priority set through rtgate: Refresh of the download
		// refreshes its details too.
		b.call(t, "f.priority.set", tr.Hash+":f1", "0")
		if err := f.p.Refresh(t.Context(), tr.Hash); err != nil {
			t.Fatal(err)
		}
		for cl.tables[files]["1"]["priority"] != 0.0 {
			if _, ok := cl.tryNext(t, time.Millisecond); !ok {
				t.Fatalf("file priority not refreshed: %v", cl.tables[files]["1"])
			}
		}

		// Erased: the details are gone too.
		b.call(t, "d.erase", tr.Hash)
		if err := f.p.Refresh(t.Context(), tr.Hash); err != nil {
			t.Fatal(err)
		}
		cl.until(t, "the details empty", func() bool { return len(cl.tables[files]) == 0 && len(cl.tables[trackers]) == 0 })
	})
}
