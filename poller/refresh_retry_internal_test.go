package poller

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestRequestRefreshRetriesANewDownload: rTorrent adds a loaded torrent on
// its main loop after answering load.*, so the refresh a write asks for can
// come before the download exists. Here the backend answers "Could not find
// info-hash." to the first two refreshes of a download it holds, as an
// rTorrent still adding it would (a real one does so only in a narrow
// window); with ticks an hour apart, only the refresh's retries can
// publish it.
func TestRequestRefreshRetriesANewDownload(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c, err := rtorrent.New(rt.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := rtorrenttest.MakeTorrentBytes(t, "late.bin", 64<<10)
		var hidden atomic.Int32
		hidden.Store(2)
		fake := fakeCaller{call: func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
			v, err := c.Call(ctx, method, params...)
			if err != nil || method != "system.multicall" || hidden.Load() <= 0 {
				return v, err
			}
			touched := false
			for i, e := range params[0].Values() {
				ps, _ := e.Member("params")
				if ps.Len() > 0 && ps.Index(0).String() == tr.Hash {
					v = replace(v, i, faultEntry(-501, "Could not find info-hash."))
					touched = true
				}
			}
			if touched {
				hidden.Add(-1)
			}
			return v, nil
		}}

		p := New(fake, &Options{Interval: time.Hour, FullSweep: -1})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		defer func() {
			cancel()
			<-done
		}()
		deadline := time.Now().Add(10 * time.Second)
		for p.Health().State != StateConnected {
			if time.Now().After(deadline) {
				t.Fatalf("never connected: %+v", p.Health())
			}
			time.Sleep(5 * time.Millisecond)
		}

		if _, err := c.Call(t.Context(), "load.raw", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
			t.Fatal(err)
		}
		for {
			rows, err := c.DMulticall(t.Context(), "main", "d.hash=")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 1 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		p.RequestRefresh(tr.Hash)
		deadline = time.Now().Add(5 * time.Second)
		for {
			if _, ok := p.Torrent(tr.Hash); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the download was never published (refreshes left hidden: %d)", hidden.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if n := hidden.Load(); n != 0 {
			t.Errorf("published with %d hidden refreshes left", n)
		}
	})
}
