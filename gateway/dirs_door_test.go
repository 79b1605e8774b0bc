package gateway_test

import (
	"context"
	"testing"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestXMLRPCFloodAddWithinDirectories adds and moves torrents as Flood
// does, through the XML-RPC door, with rTorrent's download directory as
// the only root.
func TestXMLRPCFloodAddWithinDirectories(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		for _, mode := range doorModes {
			t.Run(mode.name, func(t *testing.T) {
				b := startBackend(t, nil)
				ctx := context.Background()
				root, err := policy.DirectoryDefault(ctx, b.client)
				if err != nil {
					t.Fatal(err)
				}
				pol, err := policy.New(policy.Config{Directories: []string{root}})
				if err != nil {
					t.Fatal(err)
				}
				d := b.door(t, mode.raw, nil, &gateway.HandlerOptions{Policy: pol})
				add := func(tr rtorrenttest.Torrent, dir string) (xmlrpc.Value, *xmlrpc.Fault) {
					return decodeReply(t, d.postHTTP(t, "text/xml", encodeCall(t, "load.raw_start", str(""), xmlrpc.NewBase64(tr.Bytes),
						str(`d.tied_to_file.set=""`), str("d.custom.set=addtime,1700000000"), str(`d.directory.set="`+dir+`"`))))
				}
				directory := func(tr rtorrenttest.Torrent) string {
					t.Helper()
					v, err := b.client.Call(ctx, "d.directory", str(tr.Hash))
					if err != nil {
						t.Fatal(err)
					}
					return v.String()
				}

				// Inside the root: added, where Flood asked.
				tr := rtorrenttest.MakeTorrentBytes(t, "flood-dir-inside", 1000)
				if v, fault := add(tr, root+"/sub"); fault != nil || v.Int() != 0 {
					t.Fatalf("add: %v, %v", v, fault)
				}
				waitFor(t, func() bool {
					_, err := b.client.Call(ctx, "d.name", str(tr.Hash))
					return err == nil
				})
				if got := directory(tr); got != root+"/sub" {
					t.Errorf("d.directory = %q, want %q", got, root+"/sub")
				}

				// Outside: refused, and never sent.
				out := rtorrenttest.MakeTorrentBytes(t, "flood-dir-outside", 1000)
				_, fault := add(out, "/tmp/elsewhere")
				want := `rtgate: method "d.directory.set" refused by policy: "/tmp/elsewhere" is outside the allowed directories (inside load.raw_start command 3)`
				if fault == nil || fault.Code != -507 || fault.Message != want {
					t.Errorf("fault %v, want -507 %s", fault, want)
				}
				// rTorrent loads in order: once a later torrent is listed, the
				// refused one would be too had it been sent.
				later := rtorrenttest.MakeTorrentBytes(t, "flood-dir-later", 1000)
				if _, fault := add(later, root); fault != nil {
					t.Fatal(fault)
				}
				waitFor(t, func() bool {
					_, err := b.client.Call(ctx, "d.name", str(later.Hash))
					return err == nil
				})
				if _, err := b.client.Call(ctx, "d.name", str(out.Hash)); err == nil {
					t.Error("the refused torrent was added")
				}

				// Flood's move: one system.multicall.
				move := func(dir string) *xmlrpc.Fault {
					_, fault := decodeReply(t, d.postHTTP(t, "text/xml", encodeCall(t, "system.multicall", xmlrpc.NewArray(
						entry("d.is_multi_file", str(tr.Hash)), entry("d.directory.set", str(tr.Hash), str(dir))))))
					return fault
				}
				if fault := move(root + "/moved"); fault != nil {
					t.Fatal(fault)
				}
				if got := directory(tr); got != root+"/moved" {
					t.Errorf("after the move, d.directory = %q, want %q", got, root+"/moved")
				}
				if fault := move(root + "/../elsewhere"); fault == nil || fault.Code != -507 {
					t.Errorf("move out: fault %v, want -507", fault)
				}
				if got := directory(tr); got != root+"/moved" {
					t.Errorf("after the refused move, d.directory = %q", got)
				}
			})
		}
	})
}
