package poller_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestConsistency: another client (these calls bypass the poller) changes
// a library of downloads every way it can; ticks and full sweeps bring
// the torrents topic, the one-torrent topics and Torrents() to exactly
// what a direct full d.multicall2 reads.
func TestConsistency(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, &rtorrenttest.Options{NoSession: true})
		var seeds, leeches, idle []rtorrenttest.Torrent
		for i := range 8 {
			tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, fmt.Sprintf("seed-%d.bin", i), 32<<10, nil)
			b.load(t, tr, true)
			seeds = append(seeds, tr)
		}
		for i := range 8 {
			tr := rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("leech-%d.bin", i), 32<<10)
			b.load(t, tr, true)
			leeches = append(leeches, tr)
		}
		for i := range 8 {
			tr := rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("idle-%d.bin", i), 32<<10)
			b.load(t, tr, false)
			idle = append(idle, tr)
		}

		f := startPoller(t, b, &poller.Options{Interval: 20 * time.Millisecond, FullSweep: 150 * time.Millisecond})
		cl := newClient(t, f.hub)
		cl.subscribe("torrents", nil)
		one := "torrent." + idle[0].Hash
		cl.subscribe(one, nil)
		cl.converge(t, b, "torrents")

		// One system.multicall of everything another client might do.
		var calls []xmlrpc.Value
		add := func(method string, params ...string) {
			ps := make([]xmlrpc.Value, len(params))
			for i, p := range params {
				ps[i] = xmlrpc.NewString(p)
			}
			calls = append(calls, xmlrpc.NewStruct(
				xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(method)},
				xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(ps...)}))
		}
		add("d.custom1.set", idle[0].Hash, "tag-on-a-stopped-download") // only a sweep sees it
		add("d.custom2.set", idle[1].Hash, "VRS24mrkercomment")
		add("d.priority.set", seeds[0].Hash, "3") // a slow field of a started download
		add("d.custom.set", idle[2].Hash, "addtime", "1700000000")
		add("d.stop", seeds[1].Hash)
		add("d.stop", leeches[0].Hash)
		add("d.close", leeches[0].Hash)
		add("d.start", idle[3].Hash)
		add("d.pause", seeds[2].Hash)
		add("d.erase", seeds[3].Hash)
		add("d.erase", idle[4].Hash)
		add("d.check_hash", idle[5].Hash)
		add("d.directory.set", idle[6].Hash, b.rt.DownloadDir+"/elsewhere")
		for i := range 3 {
			tr := rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("late-%d.bin", i), 32<<10)
			calls = append(calls, xmlrpc.NewStruct(
				xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString("load.raw")},
				xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes))}))
		}
		if _, err := b.c.Call(t.Context(), "system.multicall", xmlrpc.NewArray(calls...)); err != nil {
			t.Fatal(err)
		}
		cl.converge(t, b, "torrents")
		if cl.tables["torrents"][idle[0].Hash]["custom1"] != "tag-on-a-stopped-download" {
			t.Errorf("custom1 = %v", cl.tables["torrents"][idle[0].Hash]["custom1"])
		}
		cl.until(t, one+" follows", func() bool {
			return cl.tables[one][idle[0].Hash]["custom1"] == "tag-on-a-stopped-download"
		})

		// Torrents() is the same state, for Go callers.
		direct := b.direct(t)
		got := f.p.Torrents()
		if len(got) != len(direct) {
			t.Fatalf("Torrents() has %d downloads, rTorrent %d", len(got), len(direct))
		}
		for h, d := range direct {
			g := got[h]
			if g.Name != d["name"] || g.State != d["state"] || float64(g.Priority) != d["priority"] ||
				g.Custom1 != d["custom1"] || float64(g.DateAdded) != d["dateAdded"] || g.Directory != d["directory"] {
				t.Errorf("Torrents()[%s] = %+v, rTorrent %v", h[:8], g, d)
			}
		}
		if hs := f.p.Hashes(); len(hs) != len(direct) {
			t.Errorf("Hashes() = %d hashes", len(hs))
		}
	})
}
