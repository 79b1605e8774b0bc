package ws_test

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestWSCompat speaks to /rtorrent-ws as a client written for rtorrent-ws
// does, with a bare websocket: calls answered in rTorrent's JSON-RPC
// dialect, and every download event pushed in rtorrent-ws's exact shape,
// {"jsonrpc":"2.0","result":{"event":…,"target":…,"timestamp":…}}, keys
// sorted, to every connection, as a torrent is loaded, stopped and erased
// through the same socket. Nothing of rtgate's own dialect shows.
func TestWSCompat(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		a := e.dialRaw(t, "/rtorrent-ws", nil)
		b := e.dialRaw(t, "/rtorrent-ws", nil)

		a.send(`{"jsonrpc":"2.0","id":1,"method":"system.client_version","params":[]}`)
		if got := string(a.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
			t.Fatalf("system.client_version: %s", got)
		}
		a.send(`{"jsonrpc":"2.0","id":2,"method":"rtgate.subscribe","params":{"topic":"torrents"}}`)
		if got := string(a.recv()); got != `{"error":{"code":-32601,"message":"method not found: rtgate.subscribe"},"id":2,"jsonrpc":"2.0"}` {
			t.Errorf("rtgate's own method: %s", got)
		}

		tr := rtorrenttest.MakeTorrent(t, e.b.rt.DownloadDir, "ws-compat", 64<<10, nil)
		eventRE := regexp.MustCompile(`^\{"jsonrpc":"2\.0","result":\{"event":"(event\.download\.[a-z_]+)","target":"` + tr.Hash + `","timestamp":(\d{13})\}\}$`)
		// events reads a's frames until the answer with id, and then until
		// each wanted event has come, checking the shape of every event.
		var seen []string
		await := func(c *rawConn, id string, want ...string) {
			t.Helper()
			answered := id == ""
			deadline := time.Now().Add(10 * time.Second)
			for !answered || !containsAll(seen, want) {
				if time.Now().After(deadline) {
					t.Fatalf("waiting for %v (answer %v): got %v", want, answered, seen)
				}
				b, err := c.tryRecv(time.Until(deadline))
				if err != nil {
					t.Fatalf("waiting for %v: %v (got %v)", want, err, seen)
				}
				var head struct{ ID json.RawMessage }
				json.Unmarshal(b, &head)
				if head.ID != nil {
					if string(head.ID) != id {
						t.Fatalf("answer %s, want id %s", b, id)
					}
					answered = true
					continue
				}
				m := eventRE.FindSubmatch(b)
				if m == nil {
					t.Fatalf("not an rtorrent-ws event: %s", b)
				}
				if ts := string(m[2]); ts < "1700000000000" {
					t.Errorf("timestamp %s is not in milliseconds", ts)
				}
				seen = append(seen, string(m[1]))
			}
		}

		a.send(`{"jsonrpc":"2.0","id":3,"method":"load.start","params":["","data:application/x-bittorrent;base64,` + base64.StdEncoding.EncodeToString(tr.Bytes) + `"]}`)
		await(a, "3", "event.download.inserted", "event.download.resumed")
		a.send(`{"jsonrpc":"2.0","id":4,"method":"d.stop","params":["` + tr.Hash + `"]}`)
		await(a, "4", "event.download.paused")
		a.send(`{"jsonrpc":"2.0","id":5,"method":"d.erase","params":["` + tr.Hash + `"]}`)
		await(a, "5", "event.download.erased")
		if i, j := slices.Index(seen, "event.download.inserted"), slices.Index(seen, "event.download.erased"); i != 0 || j != len(seen)-1 {
			t.Errorf("events out of order: %v", seen)
		}

		// The other connection got the same events, in the same order.
		aSeen := seen
		seen = nil
		await(b, "", aSeen...)
		if !slices.Equal(seen, aSeen) {
			t.Errorf("second connection: %v, first: %v", seen, aSeen)
		}
	})
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
