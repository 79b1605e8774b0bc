package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// wsNodeDir holds the Node client and its pinned ws package; CI installs
// it with `npm ci --prefix testdata/wsnode`.
var wsNodeDir = filepath.Join("..", "..", "testdata", "wsnode")

// nodeClient returns the node binary, or skips the test (fails it under
// CI=true) when node or the ws package is missing.
func nodeClient(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (run npm ci --prefix testdata/wsnode)", what)
		}
		t.Skip(what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(wsNodeDir, "node_modules", "ws", "package.json")); err != nil {
		missing("the ws package is not installed in testdata/wsnode")
	}
	return node
}

// TestWSNodeClient: a client written with npm's ws, knowing only
// docs/protocol.md, calls system.client_version, subscribes to torrents and
// gets the snapshot holding the loaded torrent; with a wrong token it is
// refused.
func TestWSNodeClient(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		node := nodeClient(t)
		e := startWSEnv(t, nil)
		tr := e.loadStopped(t, "ws-node")

		run := func(token string) ([]map[string]any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, node, filepath.Join(wsNodeDir, "client.mjs"), e.url+"/ws", token)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var lines []map[string]any
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				var m map[string]any
				if jerr := json.Unmarshal(sc.Bytes(), &m); jerr != nil {
					t.Fatalf("not a JSON line: %q", sc.Text())
				}
				lines = append(lines, m)
			}
			if stderr.Len() > 0 {
				t.Logf("node stderr: %s", stderr.Bytes())
			}
			return lines, err
		}

		lines, err := run(e.token)
		if err != nil {
			t.Fatalf("node client: %v; printed %v", err, lines)
		}
		if len(lines) != 4 {
			t.Fatalf("printed %d lines, want 4: %v", len(lines), lines)
		}
		// The call's answer and the subscription's may come in either order;
		// the subscription's answer comes before its snapshot.
		var version, subscribed, snap map[string]any
		for i, l := range lines[:3] {
			switch {
			case l["type"] == "answer" && l["id"] == 1.0:
				version = l
			case l["type"] == "answer" && l["id"] == 2.0:
				subscribed = l
			case l["type"] == "message" && subscribed != nil:
				snap = l
			default:
				t.Errorf("line %d: %v", i, l)
			}
		}
		if version == nil || version["result"] != ver(t) {
			t.Errorf("version line %v", version)
		}
		if subscribed == nil || subscribed["result"].(map[string]any)["topic"] != "torrents" {
			t.Errorf("subscribe line %v", subscribed)
		}
		hashes, _ := snap["hashes"].([]any)
		if snap == nil || snap["kind"] != "snapshot" || snap["topic"] != "torrents" || snap["epoch"] == "" ||
			!slices.Contains(hashes, any(tr.Hash)) {
			t.Errorf("snapshot line %v", snap)
		}
		if l := lines[3]; l["type"] != "closed" || l["code"] != 1000.0 {
			t.Errorf("last line %v", l)
		}

		lines, err = run("wrong-token")
		if err == nil || len(lines) != 1 || lines[0]["error"] != "handshake answered 401" {
			t.Errorf("wrong token: %v, printed %v", err, lines)
		}
	})
}
