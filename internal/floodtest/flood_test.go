package floodtest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/internal/floodtest"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// waitTimeout bounds each wait for rTorrent to act on a Flood request.
const waitTimeout = 15 * time.Second

// TestFloodAgainstRTorrent is the baseline: Flood pointed straight at a real
// rTorrent 0.9.8. The gateway's tests run the same scenario against rtgate
// and compare. One Flood serves every subtest; they run in order and each
// leaves the state the next expects.
func TestFloodAgainstRTorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		began := time.Now()
		f := floodtest.Start(t, floodtest.Options{RTSocket: rt.Socket, AllowedPath: rt.DownloadDir, Tap: true})
		t.Logf("flood %s up at %s in %v", f.Version(), f.BaseURL(), time.Since(began).Round(time.Millisecond))
		ctx := t.Context()

		single := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "alpha", 300<<10, nil)
		multi := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "bravo", 200<<10, &rtorrenttest.TorrentOptions{Files: 3})
		tracked := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "charlie", 50<<10,
			// Added stopped and never started, so rTorrent never announces to
			// (or resolves) this host.
			&rtorrenttest.TorrentOptions{Announce: "http://tracker.example.org/announce"})

		t.Run("ConnectionTest", func(t *testing.T) {
			ok, err := f.ConnectionTest(ctx)
			if err != nil || !ok {
				t.Fatalf("ConnectionTest = %v, %v; want true", ok, err)
			}
		})

		// steady is where the calls made after startup begin.
		var steady int
		t.Run("XMLMode", func(t *testing.T) {
			// Flood probes with system.listMethods as JSON-RPC (twice at
			// startup, once per connection test); rTorrent 0.9.8 answers with
			// an XML fault, so Flood falls back to XML-RPC. A call Flood queues
			// while a probe is out goes as JSON-RPC too and fails: at startup
			// that is often its first d.multicall2.
			calls := f.Calls()
			steady = len(calls)
			if len(calls) == 0 || calls[0].Method != "system.listMethods" || calls[0].ContentType != "application/json" {
				t.Fatalf("first call is not the JSON-RPC probe: %+v", calls)
			}
			var xmlProbe bool
			for _, c := range calls {
				if c.Err != nil {
					t.Errorf("call %+v failed in the tap", c)
				}
				xmlProbe = xmlProbe || (c.Method == "system.listMethods" && c.ContentType == "text/xml")
			}
			if !xmlProbe {
				t.Errorf("no XML-RPC system.listMethods in %+v", calls)
			}
		})

		t.Run("Empty", func(t *testing.T) {
			list, err := f.Torrents(ctx)
			if err != nil || len(list) != 0 {
				t.Fatalf("Torrents = %v, %v; want an empty list", list, err)
			}
		})

		t.Run("AddFilesStarted", func(t *testing.T) {
			before := len(f.Calls())
			if err := f.AddFiles(ctx, [][]byte{single.Bytes, multi.Bytes}, rt.DownloadDir, true); err != nil {
				t.Fatal(err)
			}
			var loads []string
			for _, c := range f.Calls()[before:] {
				if strings.HasPrefix(c.Method, "load.") {
					loads = append(loads, c.Method)
				}
			}
			if want := []string{"load.raw_start", "load.raw_start"}; !slices.Equal(loads, want) {
				t.Errorf("Flood loaded with %v, want %v", loads, want)
			}
			for _, tr := range []rtorrenttest.Torrent{single, multi} {
				p := waitStatus(t, f, tr.Hash, "seeding")
				if p.Name != tr.Name || p.SizeBytes != tr.Size || p.BytesDone != tr.Size || p.PercentComplete != 100 {
					t.Errorf("%s = %+v, want name %q, %d bytes done of %d", tr.Name, p, tr.Name, tr.Size, tr.Size)
				}
				if want := []string{"complete", "seeding", "inactive"}; !slices.Equal(p.Status, want) {
					t.Errorf("%s status = %v, want %v", tr.Name, p.Status, want)
				}
				if p.Directory != filepath.Join(rt.DownloadDir, tr.Name) && p.Directory != rt.DownloadDir {
					t.Errorf("%s directory = %q", tr.Name, p.Directory)
				}
				if p.DateAdded == 0 || p.DateAdded > time.Now().Unix()+1 { // Flood rounds
					t.Errorf("%s dateAdded = %d, want Flood's add time", tr.Name, p.DateAdded)
				}
			}
		})

		t.Run("AddFilesStopped", func(t *testing.T) {
			if err := f.AddFiles(ctx, [][]byte{tracked.Bytes}, rt.DownloadDir, false); err != nil {
				t.Fatal(err)
			}
			p := waitStatus(t, f, tracked.Hash, "stopped")
			// Flood keeps only registrable domains: an IP address would vanish.
			if !slices.Equal(p.TrackerURIs, []string{"example.org"}) {
				t.Errorf("trackerURIs = %v, want [example.org]", p.TrackerURIs)
			}
		})

		t.Run("Stop", func(t *testing.T) {
			if err := f.StopTorrents(ctx, []string{single.Hash}); err != nil {
				t.Fatal(err)
			}
			p := waitStatus(t, f, single.Hash, "stopped")
			if want := []string{"stopped", "complete", "inactive"}; !slices.Equal(p.Status, want) {
				t.Errorf("status = %v, want %v", p.Status, want)
			}
		})

		t.Run("Start", func(t *testing.T) {
			if err := f.StartTorrents(ctx, []string{single.Hash}); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, f, single.Hash, "seeding")
		})

		t.Run("CheckHash", func(t *testing.T) {
			before := len(f.Calls())
			if err := f.CheckHash(ctx, []string{single.Hash}); err != nil {
				t.Fatal(err)
			}
			if got := batches(f.Calls()[before:], "system.multicall"); !slices.Equal(got, []string{"d.check_hash"}) {
				t.Errorf("check-hash sent multicalls of %v, want d.check_hash", got)
			}
			// A check of 300 KiB takes milliseconds, too short to see
			// "checking" reliably; intact data leaves the torrent seeding.
			p := waitFor(t, f, single.Hash, func(p floodtest.TorrentProps) bool {
				return !p.HasStatus("checking") && p.HasStatus("seeding")
			})
			if p.BytesDone != single.Size || p.Message != "" {
				t.Errorf("after a check of intact data: %+v", p)
			}
		})

		t.Run("CheckHashCorrupt", func(t *testing.T) {
			file := filepath.Join(multi.Path, filepath.Base(multi.Files[0]))
			if err := os.WriteFile(file, make([]byte, 20<<10), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := f.CheckHash(ctx, []string{multi.Hash}); err != nil {
				t.Fatal(err)
			}
			// rTorrent 0.9.8 closes the download, keeps d.complete 0 from then
			// on, and sets d.message, which Flood shows as "error".
			p := waitFor(t, f, multi.Hash, func(p floodtest.TorrentProps) bool {
				return !p.HasStatus("checking") && p.BytesDone < multi.Size
			})
			if want := []string{"stopped", "error", "inactive"}; !slices.Equal(p.Status, want) || p.Message == "" {
				t.Errorf("after a check of corrupt data: status %v, message %q; want %v and a message", p.Status, p.Message, want)
			}
			// MakeTorrent writes the same bytes again.
			rtorrenttest.MakeTorrent(t, rt.DownloadDir, multi.Name, multi.Size, &rtorrenttest.TorrentOptions{Files: 3})
			if err := f.CheckHash(ctx, []string{multi.Hash}); err != nil {
				t.Fatal(err)
			}
			p = waitFor(t, f, multi.Hash, func(p floodtest.TorrentProps) bool {
				return !p.HasStatus("checking") && p.BytesDone == multi.Size
			})
			if p.PercentComplete != 100 {
				t.Errorf("after a check of restored data: %+v", p)
			}
		})

		t.Run("Contents", func(t *testing.T) {
			for _, tr := range []rtorrenttest.Torrent{single, multi} {
				got, err := f.Contents(ctx, tr.Hash)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tr.Files) {
					t.Fatalf("%s contents = %+v, want %d files", tr.Name, got, len(tr.Files))
				}
				var total int64
				for i, c := range got {
					if c.Index != i || c.Path != tr.Files[i] || c.Filename != filepath.Base(tr.Files[i]) ||
						c.PercentComplete != 100 || c.Priority != 1 {
						t.Errorf("%s file %d = %+v, want path %q, complete, normal priority", tr.Name, i, c, tr.Files[i])
					}
					total += c.SizeBytes
				}
				if total != tr.Size {
					t.Errorf("%s file sizes add up to %d, want %d", tr.Name, total, tr.Size)
				}
			}
		})

		t.Run("Peers", func(t *testing.T) {
			got, err := f.Peers(ctx, single.Hash)
			if err != nil || len(got) != 0 {
				t.Fatalf("Peers = %+v, %v; want none", got, err)
			}
		})

		t.Run("Trackers", func(t *testing.T) {
			got, err := f.Trackers(ctx, tracked.Hash)
			if want := []floodtest.Tracker{{URL: "http://tracker.example.org/announce", Type: 1}}; err != nil || !slices.Equal(got, want) {
				t.Errorf("Trackers(tracked) = %+v, %v; want %+v", got, err, want)
			}
			got, err = f.Trackers(ctx, single.Hash)
			if err != nil || len(got) != 0 {
				t.Errorf("Trackers(placeholder announce) = %+v, %v; want none", got, err)
			}
		})

		t.Run("Settings", func(t *testing.T) {
			if !rt.Version.Legacy() {
				// Flood 4.11 alone cannot show its settings on 0.16.17
				// (rtgate's shims can: cmd/rtgate's Flood test).
				settingsFailOn016(t, f)
				return
			}
			s, err := f.Settings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s["directoryDefault"] != rt.DownloadDir || s["throttleGlobalDownSpeed"] != 0.0 || s["dht"] != false {
				t.Errorf("Settings = %v", s)
			}
			const rate = 1 << 20
			if err := f.SetSettings(ctx, map[string]any{"throttleGlobalDownSpeed": rate, "throttleMaxPeersNormal": 77}); err != nil {
				t.Fatal(err)
			}
			s, err = f.Settings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s["throttleGlobalDownSpeed"] != float64(rate) || s["throttleMaxPeersNormal"] != 77.0 {
				t.Errorf("after SetSettings: throttleGlobalDownSpeed %v, throttleMaxPeersNormal %v; want %d, 77",
					s["throttleGlobalDownSpeed"], s["throttleMaxPeersNormal"], rate)
			}
			if err := f.SetSettings(ctx, map[string]any{"throttleGlobalDownSpeed": 0}); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ListStable", func(t *testing.T) {
			a, err := f.Torrents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 3 {
				t.Fatalf("%d torrents listed, want 3", len(a))
			}
			b, err := f.Torrents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d := floodtest.DiffTorrents(a, b); d != nil {
				t.Errorf("two reads differ:\n%s", strings.Join(d, "\n"))
			}
			// A second Flood on the same rTorrent sees the same list: the
			// comparison the gateway tests make with rtgate in between.
			g := floodtest.Start(t, floodtest.Options{RTSocket: rt.Socket, AllowedPath: rt.DownloadDir})
			c, err := g.Torrents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d := floodtest.DiffTorrents(a, c); d != nil {
				t.Errorf("two Floods differ:\n%s", strings.Join(d, "\n"))
			}
			g.Close()
		})

		t.Run("Delete", func(t *testing.T) {
			if err := f.DeleteTorrents(ctx, []string{single.Hash}, false); err != nil {
				t.Fatal(err)
			}
			if err := f.DeleteTorrents(ctx, []string{multi.Hash}, true); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, waitTimeout)
			defer cancel()
			list, err := f.WaitTorrents(wctx, func(list map[string]floodtest.TorrentProps) bool { return len(list) == 1 })
			if err != nil {
				t.Fatalf("%v; list: %v", err, list)
			}
			if _, ok := list[tracked.Hash]; !ok {
				t.Errorf("left %v, want only %s", list, tracked.Name)
			}
			if _, err := os.Stat(single.Path); err != nil {
				t.Errorf("deleting without data removed %s: %v", single.Path, err)
			}
			if _, err := os.Stat(multi.Path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("deleting with data left %s (%v)", multi.Path, err)
			}
		})

		t.Run("StayedXML", func(t *testing.T) {
			for _, c := range f.Calls()[steady:] {
				if c.ContentType != "text/xml" || c.Err != nil {
					t.Errorf("after startup: %+v, want XML-RPC relayed without error", c)
				}
			}
		})
	})
}

// waitStatus waits until the torrent is listed with status s.
func waitStatus(t *testing.T, f *floodtest.Flood, hash, s string) floodtest.TorrentProps {
	t.Helper()
	return waitFor(t, f, hash, func(p floodtest.TorrentProps) bool { return p.HasStatus(s) })
}

// waitFor waits until the torrent is listed and cond accepts it.
func waitFor(t *testing.T, f *floodtest.Flood, hash string, cond func(floodtest.TorrentProps) bool) floodtest.TorrentProps {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	p, err := f.WaitTorrent(ctx, hash, cond)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// batches returns the methods inside the calls of the given method.
func batches(calls []floodtest.Call, method string) []string {
	var out []string
	for _, c := range calls {
		if c.Method == method {
			out = append(out, c.Batch...)
		}
	}
	return out
}
