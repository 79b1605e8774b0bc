package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rtgate/rtgate/internal/nodetest"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestUIClientNode runs rtgate.js's tests against `rtgate run` in front of
// a real rTorrent, in Node (ui/jstest/rtgate.live.test.mjs): auth as a
// subprotocol, calls and typed errors, snapshot and changes, resume after
// a cut connection, recovered:false, a revoked token.
func TestUIClientNode(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		node := nodetest.Node(t)
		ws := nodetest.Module(t, filepath.Join("..", "..", "testdata", "wsnode"), "ws")
		rt := rtorrenttest.Start(t, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "live.bin", 1000)
		rtorrenttest.Load(t, rt.Client(t), tr, nil)
		tokenFile := filepath.Join(t.TempDir(), "token")
		const token = "node-t0ken"
		if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
			t.Fatal(err)
		}
		run := startMain(t, nil, "-rtorrent", rt.Addr(), "-http", "127.0.0.1:0", "-scgi", filepath.Join(shortDir(t), "rtgate.sock"),
			"-config", writeConfig(t, "poll:\n  interval: 200ms\nauth:\n  token_file: "+tokenFile+"\n"))
		waitLog(t, run.log, "poller: connected")

		abs, err := filepath.Abs(ws)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, "--test", "--test-reporter=spec", filepath.Join("..", "..", "ui", "jstest", "rtgate.live.test.mjs"))
		cmd.Env = append(os.Environ(),
			"RTGATE_URL=http://"+run.httpAddr(t),
			"RTGATE_TOKEN="+token,
			"RTGATE_TOKEN_FILE="+tokenFile,
			"RTGATE_HASH="+tr.Hash,
			"RTGATE_VERSION="+rt.Version.Name,
			"RTGATE_WS="+abs,
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node --test: %v\n%s", err, out)
		}
		t.Logf("%s", out)
	})
}
