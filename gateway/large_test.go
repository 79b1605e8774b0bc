package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestTenThousandTorrents passes Flood's poll of 10,000 downloads through
// every door: the raw XML-RPC door byte for byte as rTorrent sent it, the
// re-encoding one and the JSON-RPC one value for value.
func TestTenThousandTorrents(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		if testing.Short() {
			t.Skip("loads 10,000 torrents")
		}
		const n = 10_000
		b := startBackend(t, &rtorrenttest.Options{NoSession: true, SizeLimit: 32 << 20})
		raw := b.door(t, true, nil, nil)
		start := time.Now()
		rtorrenttest.LoadMany(t, raw.client(t), "many", n)
		t.Logf("loaded %d torrents through the door in %v", n, time.Since(start))

		call := encodeCall(t, "d.multicall2", floodPollParams()...)
		direct, err := b.rt.RawCall(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		_, want, _ := bytes.Cut(direct, []byte("\r\n\r\n"))
		wantValue, err := xmlrpc.DecodeResponse(bytes.NewReader(want))
		if err != nil || wantValue.Len() != n {
			t.Fatalf("direct: %d rows, %v", wantValue.Len(), err)
		}
		t.Logf("reply: %d bytes", len(want))

		for _, tp := range transports {
			start := time.Now()
			r := tp.send(raw, t, "text/xml", call)
			if !bytes.Equal(r.body, want) {
				t.Errorf("raw door over %s: %d bytes differ from rTorrent's %d", tp.name, len(r.body), len(want))
			}
			t.Logf("raw door over %s: %v", tp.name, time.Since(start))
		}

		reencode := b.door(t, false, nil, nil)
		start = time.Now()
		v, fault := decodeReply(t, reencode.doSCGI(t, "text/xml", call))
		if fault != nil || !v.Equal(wantValue) {
			t.Errorf("re-encoding door: %d rows, fault %v, equal %v", v.Len(), fault, v.Equal(wantValue))
		}
		t.Logf("re-encoding door: %v", time.Since(start))

		params, _ := json.Marshal(append([]string{"", "main"}, floodFields...))
		start = time.Now()
		r := raw.doSCGI(t, "application/json", []byte(`{"jsonrpc":"2.0","id":null,"method":"d.multicall2","params":`+string(params)+`}`))
		checkJSONBody(t, r.body)
		var rows [][]any
		if err := json.Unmarshal(decodeJSON[jsonReply](t, r).Result, &rows); err != nil {
			t.Fatal(err)
		}
		t.Logf("JSON door: %v, %d bytes", time.Since(start), len(r.body))
		if len(rows) != n {
			t.Fatalf("JSON: %d rows", len(rows))
		}
		for i, row := range rows {
			w := wantValue.Index(i)
			for j, cell := range row {
				wc := w.Index(j)
				var ok bool
				switch wc.Kind() {
				case xmlrpc.Int:
					f, isNum := cell.(float64)
					ok = isNum && int64(f) == wc.Int()
				case xmlrpc.String:
					ok = cell == wc.String()
				}
				if !ok {
					t.Fatalf("JSON row %d field %d: %v, want %v", i, j, cell, wc)
				}
			}
		}
	})
}
