package rtorrenttest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// A test that starts rTorrent, loads a torrent whose data is already in
// place and waits for rTorrent to verify it. (This example is compiled but
// not run: Start needs a real test's t.)
func ExampleStart() {
	var t *testing.T // the test's own t

	rt := rtorrenttest.Start(t, nil)
	tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "ubuntu.iso", 1<<20, nil)

	load := `<?xml version="1.0"?><methodCall><methodName>load.raw_start</methodName><params>` +
		`<param><value><string></string></value></param>` +
		`<param><value><base64>` + tr.Base64() + `</base64></value></param>` +
		`</params></methodCall>`
	if _, err := rt.RawCall(t.Context(), []byte(load)); err != nil {
		t.Fatal(err)
	}

	// Loading is asynchronous: poll until the download is listed and
	// complete, e.g. with d.multicall2 over "main" with d.hash= and
	// d.complete=, or point the code under test at rt.Addr().
	poll := `<?xml version="1.0"?><methodCall><methodName>d.complete</methodName><params>` +
		`<param><value><string>` + tr.Hash + `</string></value></param></params></methodCall>`
	reply, err := rt.RawCall(t.Context(), []byte(poll))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(strings.Contains(string(reply), "<i8>1</i8>"))

	// Restart on the same session and socket: the torrent is still there.
	rt.Restart(t)
}
