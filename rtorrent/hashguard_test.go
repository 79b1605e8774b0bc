package rtorrent_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestHoldDuringCheck: a stop of a download under a hash check is held,
// and refused once the wait is over, naming the download; once the check
// is done it goes at once. Calls that stop nothing are never held.
func TestHoldDuringCheck(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		c := newClient(t, rt)
		tr := rtorrenttest.MakeSparseTorrent(t, rt.DownloadDir, "sparse.bin", 2<<30)
		if _, err := c.Call(ctxT(t), "load.raw_start", str(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
			t.Fatal(err)
		}
		rtorrenttest.WaitFor(t, "the check running", func() bool {
			v, err := c.Call(ctxT(t), "d.hashing", str(tr.Hash))
			return err == nil && v.Int() != 0
		})
		stop := func(wait time.Duration) error {
			return rtorrent.HoldDuringCheck(ctxT(t), c, wait, "system.multicall", []xmlrpc.Value{xmlrpc.NewArray(
				entry("d.stop", str(tr.Hash)), entry("d.close", str(tr.Hash)))})
		}
		start := time.Now()
		if err := stop(200 * time.Millisecond); !errors.Is(err, rtorrent.ErrHashCheck) || !strings.Contains(err.Error(), tr.Hash) {
			t.Errorf("Flood's stop during the check: %v, want ErrHashCheck naming the download", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("refused after %v, before the wait was over", d)
		}
		if err := rtorrent.HoldDuringCheck(ctxT(t), c, 0, "d.name", []xmlrpc.Value{str(tr.Hash)}); err != nil {
			t.Errorf("a read during the check: %v", err)
		}
		if err := rtorrent.HoldDuringCheck(ctxT(t), c, 0, "d.stop", []xmlrpc.Value{str("0123456789ABCDEF0123456789ABCDEF01234567")}); err != nil {
			t.Errorf("a stop of an unknown download: %v", err)
		}
		rtorrenttest.WaitHashed(t, c, tr.Hash)
		if err := stop(0); err != nil {
			t.Errorf("a stop after the check: %v", err)
		}
	})
}

func entry(method string, params ...xmlrpc.Value) xmlrpc.Value {
	return xmlrpc.NewStruct(
		xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(method)},
		xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)},
	)
}
