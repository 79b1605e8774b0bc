package infohash_test

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/internal/infohash"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOf(t *testing.T) {
	info := `d6:lengthi1000e4:name5:x.bin12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae`
	sum := sha1.Sum([]byte(info))
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	tests := []struct {
		name    string
		torrent string
		want    string
	}{
		{name: "info first", torrent: "d4:info" + info + "e", want: want},
		{name: "after announce", torrent: "d8:announce6:dht://4:info" + info + "e", want: want},
		{name: "after a list and an int", torrent: "d1:ali1ei2ee1:bi-3e4:info" + info + "e", want: want},
		{name: "no info", torrent: "d8:announce6:dht://e"},
		{name: "not a dict", torrent: "l4:infoe"},
		{name: "empty", torrent: ""},
		{name: "cut short", torrent: "d4:info" + info[:10]},
		{name: "string too long", torrent: "d99:info"},
		{name: "huge length", torrent: "d99999999999999999999:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := infohash.Of(tt.torrent)
			if tt.want == "" {
				if !errors.Is(err, infohash.ErrNotTorrent) {
					t.Errorf("Of = %q, %v; want ErrNotTorrent", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Of = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestOfTarget(t *testing.T) {
	const h = "e22c1332fc89387446ebe97c6da286c98d42edee"
	for _, tt := range []struct {
		target string
		ok     bool
	}{
		{h, true}, {h + ":f3", true}, {h + ":t0", true}, {"", false}, {h[:39], false}, {"G" + h[1:], false},
	} {
		got, ok := infohash.OfTarget(tt.target)
		if ok != tt.ok || ok && got != strings.ToUpper(h) {
			t.Errorf("OfTarget(%q) = %q, %v", tt.target, got, ok)
		}
	}
	if !infohash.Valid(h) || infohash.Valid(h+"0") || infohash.Valid(h[:39]+"g") {
		t.Error("Valid is wrong")
	}
}

// FuzzOf compares Of with anacrolix's metainfo on any bytes: where
// anacrolix reads a torrent with an info dictionary, Of finds the same
// hash; Of never panics.
func FuzzOf(f *testing.F) {
	f.Add("d8:announce6:dht://4:infod6:lengthi1e4:name1:x12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaaee")
	f.Add("d4:infode")
	f.Add("")
	f.Fuzz(func(t *testing.T, torrent string) {
		got, err := infohash.Of(torrent)
		var mi metainfo.MetaInfo
		if bencode.Unmarshal([]byte(torrent), &mi) != nil || len(mi.InfoBytes) == 0 {
			return
		}
		want := strings.ToUpper(mi.HashInfoBytes().HexString())
		if err != nil || got != want {
			t.Fatalf("Of = %q, %v; anacrolix reads %s", got, err, want)
		}
	})
}
