package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestWebSocketThroughRun: the binary's WebSocket door serves the poller's
// topics and calls through the policy; a write through it shows up on the
// subscription at once; `rtgate watch` prints the stream.
func TestWebSocketThroughRun(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		// A stopped download that rtgate finds when it connects.
		tr := rtorrenttest.MakeTorrentBytes(t, "ws.bin", 64<<10)
		rc, err := rtorrent.New(rt.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Call(ctx, "load.raw", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
			t.Fatal(err)
		}
		for {
			rows, err := rc.DMulticall(ctx, "main", "d.hash=")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 1 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}

		// Ticks an hour apart: only the refresh a write triggers can publish it.
		sock := filepath.Join(t.TempDir(), "rtgate.sock")
		log := startRun(t, "-rtorrent", rt.Addr(), "-scgi", sock, "-http", "127.0.0.1:0", "-config", writeConfig(t, "poll:\n  interval: 1h\n  full_sweep: 1h\n"))
		m := regexp.MustCompile(`msg="http listening" addr=(\S+)`).FindStringSubmatch(log.String())
		if m == nil {
			t.Fatalf("no http address in the log:\n%s", log.String())
		}
		url := "ws://" + m[1] + "/ws"
		waitLog(t, log, "poller: connected")

		c, err := client.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sub, err := c.Subscribe(ctx, "torrents", nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := sub.Next(ctx)
		if err != nil || snap.Kind != client.KindSnapshot {
			t.Fatalf("first message %+v, %v", snap, err)
		}
		var state struct {
			Torrents map[string]map[string]any `json:"torrents"`
		}
		if err := json.Unmarshal(snap.Data, &state); err != nil {
			t.Fatal(err)
		}
		if state.Torrents[tr.Hash]["state"] != false {
			t.Fatalf("snapshot: %s", snap.Data)
		}

		// A call on the same socket; its write is published without a tick.
		if _, err := c.Call(ctx, "d.start", tr.Hash); err != nil {
			t.Fatal(err)
		}
		for {
			msg, err := sub.Next(ctx)
			if err != nil {
				t.Fatalf("no change after d.start: %v", err)
			}
			if msg.Epoch != snap.Epoch || msg.Seq <= snap.Seq {
				t.Fatalf("change %s:%d after snapshot %s:%d", msg.Epoch, msg.Seq, snap.Epoch, snap.Seq)
			}
			if msg.Kind == client.KindChange && strings.Contains(string(msg.Data), `"state":true`) {
				break
			}
		}

		// The policy holds on this door too.
		_, err = c.Call(ctx, "execute.throw", "", "id")
		var rpcErr *client.Error
		if !errors.As(err, &rpcErr) || !strings.Contains(rpcErr.Message, "execute.throw") {
			t.Errorf("execute.throw over the WebSocket: %v", err)
		}

		// rtgate watch prints the snapshot as one line.
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		defer wcancel()
		var out syncBuffer
		main := NewMain(&out, &out)
		if err := main.Run(wctx, []string{"watch", "-url", url, "torrents"}); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(out.String(), "\n"); !strings.Contains(first, " snapshot ") || !strings.Contains(first, tr.Hash) {
			t.Errorf("watch printed %q", out.String())
		}
	})
}
