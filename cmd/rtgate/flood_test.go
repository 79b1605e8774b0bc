package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/internal/floodtest"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestFloodThroughRtgate is the drop-in proof: a real Flood 4.11.0 pointed at
// rtgate's SCGI socket, in front of a real rTorrent, does what it does in
// front of rTorrent itself, and shows the same list as a second Flood
// pointed at rTorrent directly. Both of Flood's protocols: JSON-RPC (rtgate
// answers Flood's JSON probe, translating for 0.9.8) and XML-RPC (xml_only).
func TestFloodThroughRtgate(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		for _, mode := range []string{"json", "xml"} {
			t.Run(mode, func(t *testing.T) { testFlood(t, mode == "xml") })
		}
	})
}

func testFlood(t *testing.T, xmlOnly bool) {
	rt := rtorrenttest.Start(t, nil)
	// rtgate talks to rTorrent through a proxy that counts its requests.
	proxy := rt.NewProxy(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "rtgate.sock")
	conf := filepath.Join(dir, "rtgate.yml")
	// Flood sets the download directory inside every load: the default
	// policy allows it below rTorrent's own directory.default.
	yml := fmt.Sprintf("rtorrent:\n  address: %s\nlisten:\n  http: \"\"\n  scgi: %s\n  xml_only: %v\npoll:\n  interval: 200ms\n",
		proxy.Addr(), sock, xmlOnly)
	if err := os.WriteFile(conf, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startMain(t, nil, "-config", conf)

	gate := floodtest.Start(t, floodtest.Options{RTSocket: sock, AllowedPath: rt.DownloadDir, Tap: true})
	direct := floodtest.Start(t, floodtest.Options{RTSocket: rt.Socket, AllowedPath: rt.DownloadDir})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	if ok, err := gate.ConnectionTest(ctx); err != nil || !ok {
		t.Fatalf("connection test through rtgate: %v, %v\n%s", ok, err, gate.Log())
	}

	// Add two torrents through rtgate: one whose data exists (it seeds),
	// one stopped without data.
	seed := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "seed.bin", 256<<10, nil)
	idle := rtorrenttest.MakeTorrentBytes(t, "idle.bin", 64<<10)
	if err := gate.AddFiles(ctx, [][]byte{seed.Bytes}, rt.DownloadDir, true); err != nil {
		t.Fatal(err)
	}
	if err := gate.AddFiles(ctx, [][]byte{idle.Bytes}, rt.DownloadDir, false); err != nil {
		t.Fatal(err)
	}
	p, err := gate.WaitTorrent(ctx, seed.Hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("seeding") })
	if err != nil {
		t.Fatalf("seed never seeding: %v", err)
	}
	if p.Name != "seed.bin" || p.SizeBytes != seed.Size || p.PercentComplete != 100 {
		t.Errorf("seed as Flood shows it through rtgate: %+v", p)
	}
	if _, err := gate.WaitTorrent(ctx, idle.Hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("stopped") }); err != nil {
		t.Fatalf("idle never listed stopped: %v", err)
	}

	sameList := func(when string) {
		t.Helper()
		a, err := gate.Torrents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := direct.Torrents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := floodtest.DiffTorrents(a, b); len(diff) > 0 {
			t.Errorf("%s: Flood through rtgate and Flood on rTorrent differ:\n%s", when, strings.Join(diff, "\n"))
		}
	}
	sameList("after adding")

	// Stop, start, check-hash.
	stopThenStart(t, ctx, gate, seed.Hash)
	if err := gate.CheckHash(ctx, []string{seed.Hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := gate.WaitTorrent(ctx, seed.Hash, func(p floodtest.TorrentProps) bool {
		return p.HasStatus("seeding") && p.PercentComplete == 100 && !p.HasStatus("checking")
	}); err != nil {
		t.Fatal(err)
	}
	sameList("after stop, start and check-hash")

	// After warm-up, Flood's list polls are answered from rtgate's state:
	// none reaches rTorrent (which sees rtgate's poller alone), and the
	// list stays the one a Flood on rTorrent shows.
	time.Sleep(time.Second) // the refreshes after the writes above
	listPolls := func() int { return proxy.CountMethod("d.multicall2") + proxy.CountMethod("d.multicall") }
	polls, fresh := listPolls(), gw.m.stats.reads.Load().Stats()[gateway.ClassList].Fresh
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		sameList("while answered from state")
	}
	if n := listPolls() - polls; n != 0 {
		t.Errorf("%d list polls reached rTorrent after warm-up", n)
	}
	if n := gw.m.stats.reads.Load().Stats()[gateway.ClassList].Fresh - fresh; n < 2 {
		t.Errorf("%d list polls answered from state in 5 s, want Flood's every 2 s", n)
	}

	// Details.
	files, err := gate.Contents(ctx, seed.Hash)
	if err != nil || len(files) != 1 || files[0].SizeBytes != seed.Size {
		t.Errorf("contents through rtgate: %+v, %v", files, err)
	}
	if _, err := gate.Peers(ctx, seed.Hash); err != nil {
		t.Errorf("peers through rtgate: %v", err)
	}
	if _, err := gate.Trackers(ctx, seed.Hash); err != nil {
		t.Errorf("trackers through rtgate: %v", err)
	}

	// Settings: written through rtgate, read back through rtgate and from
	// rTorrent directly. On 0.16.17 Flood alone cannot show them (its
	// placeholder false= for network.http.max_open, which 0.16 lacks, is
	// faulted): rtgate's shims make the page work.
	if err := gate.SetSettings(ctx, map[string]any{"throttleGlobalDownSpeed": 1 << 20}); err != nil {
		t.Fatal(err)
	}
	s, err := gate.Settings(ctx)
	if err != nil {
		t.Fatalf("Flood's settings through rtgate: %v", err)
	}
	if got := s["throttleGlobalDownSpeed"]; got != float64(1<<20) {
		t.Errorf("down speed read back through rtgate = %v", got)
	}
	ds, err := direct.Settings(ctx)
	switch {
	case rt.Version.Legacy() && err != nil:
		t.Fatal(err)
	case rt.Version.Legacy() && ds["throttleGlobalDownSpeed"] != float64(1<<20):
		t.Errorf("down speed read back from rTorrent = %v", ds["throttleGlobalDownSpeed"])
	case !rt.Version.Legacy() && (err == nil || !strings.Contains(err.Error(), "Method 'false=' not defined")):
		t.Errorf("Flood alone on %s: settings %v, %v; want its HTTP 500 for false=", rt.Version.Name, ds, err)
	}

	// Delete.
	if err := gate.DeleteTorrents(ctx, []string{seed.Hash, idle.Hash}, false); err != nil {
		t.Fatal(err)
	}
	waitNoTorrents(t, ctx, direct)

	// The protocol Flood spoke to rtgate. Flood probes with a JSON-RPC
	// system.listMethods whatever it then uses; the work is what counts.
	var jsonWork, xmlWork int
	for _, c := range gate.Calls() {
		if c.Method == "system.listMethods" {
			continue
		}
		if strings.Contains(c.ContentType, "json") {
			jsonWork++
		} else {
			xmlWork++
		}
	}
	if xmlOnly && (jsonWork > 0 || xmlWork < 5) {
		t.Errorf("xml_only: Flood sent %d JSON-RPC and %d XML-RPC calls, want XML only", jsonWork, xmlWork)
	}
	if !xmlOnly && (xmlWork > 0 || jsonWork < 5) {
		t.Errorf("JSON mode: Flood sent %d JSON-RPC and %d XML-RPC calls, want JSON only", jsonWork, xmlWork)
	}
}

// waitNoTorrents waits until f lists no torrent.
func waitNoTorrents(t *testing.T, ctx context.Context, f *floodtest.Flood) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := f.Torrents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still listed after delete: %d", len(list))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopThenStart stops a seeding torrent through f, waits until Flood shows
// it stopped, starts it again and waits until it is seeding.
func stopThenStart(t *testing.T, ctx context.Context, f *floodtest.Flood, hash string) {
	t.Helper()
	if err := f.StopTorrents(ctx, []string{hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WaitTorrent(ctx, hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("stopped") }); err != nil {
		t.Fatal(err)
	}
	if err := f.StartTorrents(ctx, []string{hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WaitTorrent(ctx, hash, func(p floodtest.TorrentProps) bool { return p.HasStatus("seeding") }); err != nil {
		t.Fatal(err)
	}
}
