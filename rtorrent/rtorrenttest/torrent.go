package rtorrenttest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// DefaultPieceLength is the piece length MakeTorrent and MakeTorrentBytes
// use when none is given: 16 KiB, small enough that test files of a few
// hundred kilobytes still have several pieces.
const DefaultPieceLength = 16 << 10

// PlaceholderAnnounce is the announce URL torrents get by default. rTorrent
// 0.9.8 refuses a torrent with no announce URL when DHT is off, so every
// torrent needs one; this one it takes as the DHT pseudo-tracker, lists no
// tracker for (t.multicall is empty), sets no d.message, and, with DHT
// off, never contacts anything. Use a real URL when a test needs tracker
// rows.
const PlaceholderAnnounce = "dht://"

// TorrentOptions tunes MakeTorrent. A nil *TorrentOptions means all defaults.
type TorrentOptions struct {
	// PieceLength is the metainfo piece length in bytes. Zero means
	// DefaultPieceLength.
	PieceLength int64
	// Announce is the tracker URL. Zero means PlaceholderAnnounce, which
	// rTorrent accepts without ever contacting a tracker.
	Announce string
	// NoAnnounce leaves the "announce" key out altogether, making a
	// trackerless torrent. rTorrent 0.9.8 with DHT disabled (as Start runs
	// it) refuses such a torrent silently: load.raw_start still answers 0
	// and nothing is added; only the load.*_verbose commands write "Could
	// not create download: Could not find any trackers" to rTorrent's log.
	NoAnnounce bool
	// Private sets the BEP 27 private flag in the info dictionary, which
	// changes the info hash.
	Private bool
	// Files is the number of files. Zero or one means a single-file torrent
	// whose content is the file <dir>/<name>; more means a multi-file torrent
	// whose content is the directory <dir>/<name> holding that many files,
	// the size split between them (the last takes the remainder).
	Files int
}

// Torrent is a torrent built by MakeTorrent or MakeTorrentBytes.
type Torrent struct {
	// Name is the torrent's name (the info dictionary's "name").
	Name string
	// Hash is the info hash as 40 uppercase hex digits, the form rTorrent
	// reports in d.hash and expects as a download target.
	Hash string
	// Bytes is the bencoded .torrent file.
	Bytes []byte
	// Path is the content on disk: the file for a single-file torrent, the
	// directory for a multi-file one. Empty for MakeTorrentBytes.
	Path string
	// Size is the total content length in bytes.
	Size int64
	// Files lists the torrent's files in metainfo order, which is the index
	// order of f.multicall, each as rTorrent's f.path reports it: relative
	// to the torrent's directory and slash-separated (for a single-file
	// torrent, just Name).
	Files []string
}

// Base64 returns the .torrent file in standard base64, for building
// <base64> XML-RPC values by hand (load.raw_start and friends).
func (tr Torrent) Base64() string {
	return base64.StdEncoding.EncodeToString(tr.Bytes)
}

// MakeTorrent writes deterministic pseudo-random content of size bytes
// (seeded by name, so the same name and size always give the same bytes and
// the same Hash) under dir and returns the torrent describing it. Pass an
// Instance's DownloadDir as dir and rTorrent finds the data complete after
// its hash check. It fails the test on any error.
func MakeTorrent(t testing.TB, dir, name string, size int64, opts *TorrentOptions) Torrent {
	t.Helper()
	if opts == nil {
		opts = &TorrentOptions{}
	}
	if err := checkName(name, size); err != nil {
		t.Fatalf("rtorrenttest: make torrent: %v", err)
	}
	root := filepath.Join(dir, name)
	files, err := writeContent(root, name, size, opts.Files)
	if err != nil {
		t.Fatalf("rtorrenttest: make torrent %q: %v", name, err)
	}
	info := metainfo.Info{PieceLength: pieceLength(opts.PieceLength), Private: private(opts.Private)}
	if err := info.BuildFromFilePath(root); err != nil {
		t.Fatalf("rtorrenttest: make torrent %q: build info: %v", name, err)
	}
	announce := opts.Announce
	switch {
	case opts.NoAnnounce:
		announce = ""
	case announce == "":
		announce = PlaceholderAnnounce
	}
	tr, err := encode(info, announce)
	if err != nil {
		t.Fatalf("rtorrenttest: make torrent %q: %v", name, err)
	}
	tr.Path = root
	tr.Files = files
	return tr
}

// MakeTorrentBytes returns a single-file torrent with default options for
// size bytes of the same content MakeTorrent would write for name, without
// touching the disk: it equals MakeTorrent(t, dir, name, size, nil) but for
// Path. It is cheap (a few microseconds for tiny sizes), for loading
// thousands of torrents; unless the data is put in place, rTorrent finds
// none and leaves them incomplete.
func MakeTorrentBytes(t testing.TB, name string, size int64) Torrent {
	t.Helper()
	if err := checkName(name, size); err != nil {
		t.Fatalf("rtorrenttest: make torrent: %v", err)
	}
	info := metainfo.Info{PieceLength: DefaultPieceLength, Name: name, Length: size}
	pieces, err := metainfo.GeneratePieces(io.LimitReader(content(name), size), info.PieceLength, nil)
	if err != nil {
		t.Fatalf("rtorrenttest: make torrent %q: hash pieces: %v", name, err)
	}
	info.Pieces = pieces
	tr, err := encode(info, PlaceholderAnnounce)
	if err != nil {
		t.Fatalf("rtorrenttest: make torrent %q: %v", name, err)
	}
	tr.Files = []string{name}
	return tr
}

// checkName rejects names rTorrent would turn into a different path, or
// that would escape dir.
func checkName(name string, size int64) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("invalid name %q", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("name %q must be a single path element", name)
	case size < 1:
		return fmt.Errorf("size %d must be positive", size)
	}
	return nil
}

// content returns the deterministic byte stream for name.
func content(name string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256([]byte(name)))
}

// writeContent writes content(name) to root, as one file or as n files in
// the directory root, and returns the torrent-relative file paths.
func writeContent(root, name string, size int64, n int) ([]string, error) {
	src := io.LimitReader(content(name), size)
	if n <= 1 {
		return []string{name}, writeFile(root, src, size)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	files := make([]string, n)
	each := size / int64(n)
	for k := range n {
		// Zero-padded so that BuildFromFilePath's lexical sort keeps this order.
		files[k] = fmt.Sprintf("part-%04d.bin", k)
		length := each
		if k == n-1 {
			length = size - each*int64(n-1)
		}
		if err := writeFile(filepath.Join(root, files[k]), src, length); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func writeFile(path string, src io.Reader, length int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.CopyN(f, src, length)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func pieceLength(n int64) int64 {
	if n == 0 {
		return DefaultPieceLength
	}
	return n
}

func private(p bool) *bool {
	if !p {
		return nil
	}
	return &p
}

// encode bencodes info into a metainfo. It sets no creation date, so the
// .torrent bytes are as deterministic as the info hash.
func encode(info metainfo.Info, announce string) (Torrent, error) {
	infoBytes, err := bencode.Marshal(info)
	if err != nil {
		return Torrent{}, fmt.Errorf("encode info: %w", err)
	}
	mi := metainfo.MetaInfo{InfoBytes: infoBytes, Announce: announce, CreatedBy: "rtgate rtorrenttest"}
	var buf bytes.Buffer
	if err := mi.Write(&buf); err != nil {
		return Torrent{}, fmt.Errorf("encode metainfo: %w", err)
	}
	return Torrent{
		Name:  info.Name,
		Hash:  strings.ToUpper(mi.HashInfoBytes().HexString()),
		Bytes: buf.Bytes(),
		Size:  info.TotalLength(),
	}, nil
}

// MakeSparseTorrent writes a file of size zero bytes as <dir>/<name>, sparse
// (it takes no disk space), and returns a single-file torrent of it. A hash
// check of it still reads every byte: rTorrent checks a few GiB for
// seconds, long enough for a test to act while the check runs.
func MakeSparseTorrent(t testing.TB, dir, name string, size int64) Torrent {
	t.Helper()
	if err := checkName(name, size); err != nil {
		t.Fatalf("rtorrenttest: %v", err)
	}
	const pieceLen = 4 << 20
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("rtorrenttest: %v", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("rtorrenttest: %v", err)
	}
	zero := sha1.Sum(make([]byte, pieceLen))
	n := (size + pieceLen - 1) / pieceLen
	pieces := bytes.Repeat(zero[:], int(n))
	if last := size % pieceLen; last != 0 {
		h := sha1.Sum(make([]byte, last))
		copy(pieces[len(pieces)-len(h):], h[:])
	}
	tr, err := encode(metainfo.Info{Name: name, Length: size, PieceLength: pieceLen, Pieces: pieces}, PlaceholderAnnounce)
	if err != nil {
		t.Fatalf("rtorrenttest: %v", err)
	}
	return tr
}
