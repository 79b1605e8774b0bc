package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestEmbeddedDownloadsThroughTheDoors: rtgate on the embedded engine
// downloads, for real, from a real rTorrent seeding on loopback: one torrent
// added through the SCGI door (XML-RPC, base64), one through the WebSocket
// door (JSON-RPC, a data: URI, as Flood's JSON mode sends). The files end
// identical to the seeder's.
func TestEmbeddedDownloadsThroughTheDoors(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		seeder := rtorrenttest.Start(t, nil)
		// A tracker that tells every peer about the seeder.
		trk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer := []byte{127, 0, 0, 1, 0, 0}
			binary.BigEndian.PutUint16(peer[4:], uint16(seeder.Port))
			fmt.Fprintf(w, "d8:intervali5e12:min intervali1e5:peers%d:%se", len(peer), peer)
		}))
		defer trk.Close()
		opts := &rtorrenttest.TorrentOptions{Announce: trk.URL + "/announce", PieceLength: 64 << 10}
		viaSCGI := rtorrenttest.MakeTorrent(t, seeder.DownloadDir, "via-scgi.bin", 1<<20, opts)
		viaWS := rtorrenttest.MakeTorrent(t, seeder.DownloadDir, "via-ws.bin", 1<<20, opts)

		sc, err := rtorrent.New(seeder.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for _, tr := range []rtorrenttest.Torrent{viaSCGI, viaWS} {
			if _, err := sc.Call(ctx, "load.raw_start", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
				t.Fatal(err)
			}
		}
		waitComplete(t, ctx, sc, viaSCGI.Hash, viaWS.Hash)

		dir := t.TempDir()
		conf, sock, data := embeddedConfig(t, dir, "")
		log := startRun(t, "-config", conf, "-http", "127.0.0.1:0")
		m := regexp.MustCompile(`msg="http listening" addr=(\S+)`).FindStringSubmatch(log.String())
		if m == nil {
			t.Fatalf("no http address in the log:\n%s", log.String())
		}

		gate, err := rtorrent.New("unix://"+sock, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gate.Call(ctx, "load.raw_start", xmlrpc.NewString(""), xmlrpc.NewBase64(viaSCGI.Bytes)); err != nil {
			t.Fatal(err)
		}
		ws, err := client.Dial(ctx, "ws://"+m[1]+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		uri := "data:application/x-bittorrent;base64," + base64.StdEncoding.EncodeToString(viaWS.Bytes)
		if _, err := ws.Call(ctx, "load.start", "", uri); err != nil {
			t.Fatal(err)
		}

		waitComplete(t, ctx, gate, viaSCGI.Hash, viaWS.Hash)
		for _, tr := range []rtorrenttest.Torrent{viaSCGI, viaWS} {
			want, err := os.ReadFile(tr.Path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(data, tr.Name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: downloaded %d bytes differ from the seeder's %d", tr.Name, len(got), len(want))
			}
		}
	})
}

// waitComplete waits until every hash is listed complete.
func waitComplete(t *testing.T, ctx context.Context, c *rtorrent.Client, hashes ...string) {
	t.Helper()
	for {
		rows, err := c.DMulticall(ctx, "main", "d.hash=", "d.complete=", "d.bytes_done=")
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, r := range rows {
			for _, h := range hashes {
				if r[0].String() == h && r[1].Int() == 1 {
					done++
				}
			}
		}
		if done == len(hashes) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not complete: %v", rows)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
