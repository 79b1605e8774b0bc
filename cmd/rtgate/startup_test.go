package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestSettingRTorrentWait: with backend auto, rtorrent.wait is how long
// rtgate waits at start-up for rTorrent. rTorrent's socket appears 1 s
// after rtgate starts (as in a stack that starts both at once): with the
// default wait rtgate still serves rTorrent; with wait 0 it falls back to
// the engine at once, and says so in the log, on /readyz and on the
// backend topic.
func TestSettingRTorrentWait(t *testing.T) {
	rt := rtorrenttest.Start(t, nil)
	for _, tt := range []struct {
		name    string
		yaml    string
		backend string
	}{
		{name: "default", yaml: "", backend: "rtorrent"},
		{name: "zero", yaml: "rtorrent:\n  wait: 0s\n", backend: "embedded"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortDir(t)
			late := filepath.Join(dir, "late.sock")
			appear := time.AfterFunc(time.Second, func() { os.Symlink(rt.Socket, late) })
			t.Cleanup(func() { appear.Stop() })
			conf, _, _ := embeddedConfig(t, dir, "")
			conf = writeConfig(t, mergeYAML(t, conf, "backend: auto\nlisten:\n  http: 127.0.0.1:0\n"+tt.yaml))
			start := time.Now()
			s := startMain(t, nil, "-config", conf, "-rtorrent", "unix://"+late)
			log := s.log.String()
			if !strings.Contains(log, "backend="+tt.backend) {
				t.Fatalf("want backend %s; log:\n%s", tt.backend, log)
			}
			readyURL := "http://" + s.httpAddr(t) + readyzPath
			if tt.backend == "rtorrent" {
				if !strings.Contains(log, "waiting for rtorrent to answer") || time.Since(start) < time.Second {
					t.Errorf("rtgate did not wait for the socket (%v); log:\n%s", time.Since(start), log)
				}
				waitReady(t, readyURL, func(r readiness) bool { return r.Ready && r.Backend == "rtorrent" && r.Fallback == "" })
				return
			}
			if !strings.Contains(log, "rtorrent not reachable at start-up: using the embedded engine") || !strings.Contains(log, "waited=0s") {
				t.Errorf("the fallback is not in the log:\n%s", log)
			}
			const why = "rtorrent.address did not answer within 0s at start-up"
			waitReady(t, readyURL, func(r readiness) bool { return r.Ready && r.Backend == "embedded" && r.Fallback == why })

			c, err := client.Dial(t.Context(), "ws://"+s.httpAddr(t)+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sub, err := c.Subscribe(t.Context(), "backend", nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sub.Next(t.Context())
			var h struct{ Backend, Fallback string }
			if err != nil || json.Unmarshal(m.Data, &h) != nil || h.Backend != "embedded" || h.Fallback != why {
				t.Errorf("backend topic: %s, %v", m.Data, err)
			}
		})
	}
}
