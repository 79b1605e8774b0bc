package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/internal/floodtest"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// embeddedConfig writes a config for the embedded engine in dir.
func embeddedConfig(t *testing.T, dir, extra string) (conf, sock, data string) {
	t.Helper()
	sock = filepath.Join(dir, "rtgate.sock")
	data = filepath.Join(dir, "downloads")
	conf = filepath.Join(dir, "rtgate.yml")
	yml := fmt.Sprintf("backend: embedded\nengine:\n  data_dir: %s\n  session_dir: %s\n  disable_dht: true\nlisten:\n  http: \"\"\n  scgi: %s\npoll:\n  interval: 200ms\n%s",
		data, filepath.Join(dir, "session"), sock, extra)
	if err := os.WriteFile(conf, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf, sock, data
}

func TestAutoWithoutRTorrentUsesTheEngine(t *testing.T) {
	noWait := writeConfig(t, "rtorrent:\n  wait: 0s\n") // the default rtorrent.wait would wait 30 s for it
	tests := []struct {
		name, wantLog string
		args          []string
	}{
		{name: "nothing configured", args: nil, wantLog: "no rtorrent.address configured: using the embedded engine"},
		{name: "rtorrent not answering", args: []string{"-config", noWait, "-rtorrent", "/nonexistent/rpc.sock"}, wantLog: "rtorrent not reachable at start-up: using the embedded engine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "rtgate.sock")
			log := startRun(t, append(tt.args, "-http", "", "-scgi", sock)...)
			if !strings.Contains(log.String(), tt.wantLog) || !strings.Contains(log.String(), "backend=embedded") {
				t.Errorf("log does not say the engine was chosen:\n%s", log.String())
			}
			c, err := rtorrent.New("unix://"+sock, nil)
			if err != nil {
				t.Fatal(err)
			}
			in, err := c.Info(t.Context())
			if err != nil || !in.Has("d.multicall2") || !in.Has("load.raw_start") {
				t.Fatalf("engine through rtgate: %+v, %v", in, err)
			}
		})
	}
}

// TestEmbeddedThroughTheDoors: a torrent added through rtgate's SCGI door to
// the embedded engine is hash-checked against its data and survives a
// restart of rtgate.
func TestEmbeddedThroughTheDoors(t *testing.T) {
	dir := t.TempDir()
	conf, sock, data := embeddedConfig(t, dir, "")
	tr := rtorrenttest.MakeTorrent(t, data, "seed.bin", 256<<10, nil)

	for run := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- NewMain(out, out).Run(ctx, []string{"-config", conf, "run"}) }()
		waitLog(t, out, "rtgate running")

		c, err := rtorrent.New("unix://"+sock, nil)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			if _, err := c.Call(t.Context(), "load.raw_start", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes), xmlrpc.NewString("d.custom1.set=kept")); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			rows, err := c.DMulticall(t.Context(), "main", "d.hash=", "d.complete=", "d.state=", "d.custom1=")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 1 && rows[0][0].String() == tr.Hash && rows[0][1].Int() == 1 && rows[0][2].Int() == 1 && rows[0][3].String() == "kept" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: rows = %v\n%s", run, rows, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestFloodEmbedded: Flood pointed at rtgate with the embedded engine lists,
// adds, starts, stops and deletes torrents and shows progress.
func TestFloodEmbedded(t *testing.T) {
	dir := t.TempDir()
	conf, sock, data := embeddedConfig(t, dir, "")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	startRun(t, "-config", conf)
	f := floodtest.Start(t, floodtest.Options{RTSocket: sock, AllowedPath: data})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	if ok, err := f.ConnectionTest(ctx); err != nil || !ok {
		t.Fatalf("connection test: %v, %v\n%s", ok, err, f.Log())
	}
	full := rtorrenttest.MakeTorrent(t, data, "full.bin", 256<<10, nil)
	// Half of the data of this one is there: progress must show it.
	half := rtorrenttest.MakeTorrent(t, data, "half.bin", 256<<10, nil)
	if err := os.Truncate(half.Path, 128<<10); err != nil {
		t.Fatal(err)
	}
	if err := f.AddFiles(ctx, [][]byte{full.Bytes, half.Bytes}, data, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WaitTorrent(ctx, full.Hash, func(p floodtest.TorrentProps) bool {
		return p.HasStatus("seeding") && p.PercentComplete == 100
	}); err != nil {
		t.Fatalf("full.bin never seeding at 100%%: %v", err)
	}
	p, err := f.WaitTorrent(ctx, half.Hash, func(p floodtest.TorrentProps) bool {
		return p.PercentComplete > 0 && p.PercentComplete < 100
	})
	if err != nil {
		t.Fatalf("half.bin never showed partial progress: %v", err)
	}
	if p.PercentComplete < 40 || p.PercentComplete > 60 {
		t.Errorf("half.bin progress %v%%, want about 50%%", p.PercentComplete)
	}

	stopThenStart(t, ctx, f, full.Hash)
	if err := f.DeleteTorrents(ctx, []string{full.Hash, half.Hash}, false); err != nil {
		t.Fatal(err)
	}
	waitNoTorrents(t, ctx, f)
}

func waitLog(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
