package rtorrenttest_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

func TestMakeTorrent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		size          int64
		opts          *rtorrenttest.TorrentOptions
		wantFiles     []string
		wantPieceLen  int64
		wantAnnounce  string
		wantPrivate   bool
		wantDirectory bool
	}{
		{name: "defaults", size: 40_000, wantFiles: []string{"defaults"}, wantPieceLen: 16 << 10, wantAnnounce: "dht://"},
		{name: "tiny", size: 1, wantFiles: []string{"tiny"}, wantPieceLen: 16 << 10, wantAnnounce: "dht://"},
		{
			name: "options", size: 70_000,
			opts:      &rtorrenttest.TorrentOptions{PieceLength: 32 << 10, Announce: "http://tracker.test/announce", Private: true},
			wantFiles: []string{"options"}, wantPieceLen: 32 << 10, wantAnnounce: "http://tracker.test/announce", wantPrivate: true,
		},
		{
			name: "no-announce", size: 10, opts: &rtorrenttest.TorrentOptions{NoAnnounce: true, Announce: "ignored"},
			wantFiles: []string{"no-announce"}, wantPieceLen: 16 << 10,
		},
		{
			name: "multi", size: 50_003, opts: &rtorrenttest.TorrentOptions{Files: 4},
			wantFiles:    []string{"part-0000.bin", "part-0001.bin", "part-0002.bin", "part-0003.bin"},
			wantPieceLen: 16 << 10, wantAnnounce: "dht://", wantDirectory: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tr := rtorrenttest.MakeTorrent(t, dir, tc.name, tc.size, tc.opts)

			if tr.Name != tc.name || tr.Size != tc.size || tr.Path != filepath.Join(dir, tc.name) {
				t.Errorf("Name %q, Size %d, Path %q; want %q, %d, %q", tr.Name, tr.Size, tr.Path, tc.name, tc.size, filepath.Join(dir, tc.name))
			}
			if strings.Join(tr.Files, "|") != strings.Join(tc.wantFiles, "|") {
				t.Errorf("Files = %q, want %q", tr.Files, tc.wantFiles)
			}
			if len(tr.Hash) != 40 || strings.ToUpper(tr.Hash) != tr.Hash {
				t.Errorf("Hash = %q, want 40 uppercase hex digits", tr.Hash)
			}

			mi, err := metainfo.Load(bytes.NewReader(tr.Bytes))
			if err != nil {
				t.Fatal(err)
			}
			info, err := mi.UnmarshalInfo()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ToUpper(mi.HashInfoBytes().HexString()); got != tr.Hash {
				t.Errorf("Hash = %s, metainfo says %s", tr.Hash, got)
			}
			if mi.Announce != tc.wantAnnounce {
				t.Errorf("announce = %q, want %q", mi.Announce, tc.wantAnnounce)
			}
			if info.PieceLength != tc.wantPieceLen {
				t.Errorf("piece length = %d, want %d", info.PieceLength, tc.wantPieceLen)
			}
			if got := info.Private != nil && *info.Private; got != tc.wantPrivate {
				t.Errorf("private = %v, want %v", got, tc.wantPrivate)
			}
			if info.IsDir() != tc.wantDirectory || info.TotalLength() != tc.size {
				t.Errorf("IsDir %v, TotalLength %d; want %v, %d", info.IsDir(), info.TotalLength(), tc.wantDirectory, tc.size)
			}

			// The pieces must match the bytes on disk, in file order.
			var data []byte
			for _, f := range tr.Files {
				p := tr.Path
				if tc.wantDirectory {
					p = filepath.Join(tr.Path, f)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				data = append(data, b...)
			}
			if int64(len(data)) != tc.size {
				t.Fatalf("%d bytes on disk, want %d", len(data), tc.size)
			}
			for k := 0; k < info.NumPieces(); k++ {
				end := min(int64(k+1)*info.PieceLength, tc.size)
				sum := sha1.Sum(data[int64(k)*info.PieceLength : end])
				if !bytes.Equal(sum[:], info.Pieces[k*20:k*20+20]) {
					t.Fatalf("piece %d does not match the data", k)
				}
			}
		})
	}
}

func TestMakeTorrentIsDeterministic(t *testing.T) {
	t.Parallel()
	a := rtorrenttest.MakeTorrent(t, t.TempDir(), "same", 30_000, nil)
	b := rtorrenttest.MakeTorrent(t, t.TempDir(), "same", 30_000, nil)
	if a.Hash != b.Hash || !bytes.Equal(a.Bytes, b.Bytes) {
		t.Errorf("same name and size gave %s and %s", a.Hash, b.Hash)
	}
	if c := rtorrenttest.MakeTorrent(t, t.TempDir(), "other", 30_000, nil); c.Hash == a.Hash {
		t.Errorf("different names gave the same hash %s", c.Hash)
	}
	if p := rtorrenttest.MakeTorrent(t, t.TempDir(), "same", 30_000, &rtorrenttest.TorrentOptions{Private: true}); p.Hash == a.Hash {
		t.Errorf("private flag did not change the hash %s", p.Hash)
	}
}

func TestMakeTorrentBytesMatchesMakeTorrent(t *testing.T) {
	t.Parallel()
	for _, size := range []int64{1, 16 << 10, 16<<10 + 1, 100_000} {
		onDisk := rtorrenttest.MakeTorrent(t, t.TempDir(), "twin", size, nil)
		inMemory := rtorrenttest.MakeTorrentBytes(t, "twin", size)
		if inMemory.Hash != onDisk.Hash || !bytes.Equal(inMemory.Bytes, onDisk.Bytes) {
			t.Errorf("size %d: MakeTorrentBytes %s, MakeTorrent %s", size, inMemory.Hash, onDisk.Hash)
		}
		if inMemory.Path != "" || inMemory.Size != size || inMemory.Name != "twin" || len(inMemory.Files) != 1 {
			t.Errorf("size %d: MakeTorrentBytes = %+v", size, inMemory)
		}
	}
}

func TestBase64(t *testing.T) {
	t.Parallel()
	tr := rtorrenttest.MakeTorrentBytes(t, "b64", 100)
	got, err := base64.StdEncoding.DecodeString(tr.Base64())
	if err != nil || !bytes.Equal(got, tr.Bytes) {
		t.Errorf("Base64 does not decode to Bytes: %v", err)
	}
}

func TestMakeTorrentRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tname string
		size  int64
	}{
		{name: "empty name", tname: "", size: 1},
		{name: "dot", tname: "..", size: 1},
		{name: "slash", tname: "a/b", size: 1},
		{name: "zero size", tname: "z", size: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := expectExit(t, func(tb testing.TB) { rtorrenttest.MakeTorrent(tb, dir, tc.tname, tc.size, nil) })
			g := expectExit(t, func(tb testing.TB) { rtorrenttest.MakeTorrentBytes(tb, tc.tname, tc.size) })
			if f.fatal == "" || g.fatal == "" {
				t.Errorf("name %q size %d: MakeTorrent fatal %q, MakeTorrentBytes fatal %q; want both to fail", tc.tname, tc.size, f.fatal, g.fatal)
			}
		})
	}
}

// TestMakeTorrentBytesIsCheap guards the promise that thousands of torrents
// cost next to nothing. Wall time depends on the machine and on -race, so
// it is only logged (BenchmarkMakeTorrentBytes measures it); what is
// checked is that a tiny torrent takes a few dozen allocations.
// Not parallel, so that the logged time is this test's alone.
func TestMakeTorrentBytesIsCheap(t *testing.T) {
	const n = 10_000
	start := time.Now()
	for k := range n {
		rtorrenttest.MakeTorrentBytes(t, "cheap-"+strconv.Itoa(k), 1000)
	}
	took := time.Since(start)
	t.Logf("%d × MakeTorrentBytes(1000 bytes): %v (%v each)", n, took, took/n)

	allocs := testing.AllocsPerRun(100, func() { rtorrenttest.MakeTorrentBytes(t, "cheap", 1000) })
	if allocs > 64 {
		t.Errorf("MakeTorrentBytes of 1000 bytes: %v allocations, want at most 64", allocs)
	}
}

func BenchmarkMakeTorrentBytes(b *testing.B) {
	for _, size := range []int64{1000, 1 << 20} {
		b.Run(strconv.FormatInt(size, 10), func(b *testing.B) {
			b.SetBytes(size)
			k := 0
			for b.Loop() {
				rtorrenttest.MakeTorrentBytes(b, "bench-"+strconv.Itoa(k), size)
				k++
			}
		})
	}
}

func BenchmarkMakeTorrent(b *testing.B) {
	dir := b.TempDir()
	b.SetBytes(1 << 20)
	k := 0
	for b.Loop() {
		rtorrenttest.MakeTorrent(b, dir, "bench-"+strconv.Itoa(k), 1<<20, nil)
		k++
	}
}
