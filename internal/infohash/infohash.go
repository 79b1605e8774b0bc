// Package infohash reads info hashes: of a .torrent file (the SHA-1 of its
// bencoded info dictionary, as rTorrent prints it), and at the start of an
// rTorrent target ("HASH", "HASH:f0", ...).
package infohash

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrNotTorrent is returned by Of for bytes that are not a bencoded
// dictionary with an info key.
var ErrNotTorrent = errors.New("not a bencoded torrent")

// IsHex reports whether s is made of hex digits only, either case.
func IsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Valid reports whether h is an info hash: 40 hex digits, either case.
func Valid(h string) bool { return len(h) == 40 && IsHex(h) }

// OfTarget returns the info hash an rTorrent target starts with, in
// uppercase: "HASH", "HASH:f3", "HASH:t0", "HASH:p<id>" all name HASH.
func OfTarget(target string) (string, bool) {
	if len(target) < 40 || !IsHex(target[:40]) {
		return "", false
	}
	return strings.ToUpper(target[:40]), true
}

// Of returns the info hash of a .torrent file, as rTorrent prints it
// (40 uppercase hex digits): the SHA-1 of the bencoded "info" value, exactly
// as it appears in the file.
func Of(torrent string) (string, error) {
	if len(torrent) == 0 || torrent[0] != 'd' {
		return "", ErrNotTorrent
	}
	i := 1
	for i < len(torrent) && torrent[i] != 'e' {
		key, next, err := bencodeString(torrent, i)
		if err != nil {
			return "", err
		}
		end, err := bencodeSkip(torrent, next, 0)
		if err != nil {
			return "", err
		}
		if key == "info" {
			sum := sha1.Sum([]byte(torrent[next:end]))
			return strings.ToUpper(hex.EncodeToString(sum[:])), nil
		}
		i = end
	}
	return "", ErrNotTorrent
}

// bencodeString reads the string at b[i:] and returns it and the index after it.
func bencodeString(b string, i int) (string, int, error) {
	n := 0
	j := i
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		if n > len(b) {
			return "", 0, ErrNotTorrent
		}
		n = n*10 + int(b[j]-'0')
		j++
	}
	if j == i || j >= len(b) || b[j] != ':' || n > len(b)-j-1 {
		return "", 0, ErrNotTorrent
	}
	return b[j+1 : j+1+n], j + 1 + n, nil
}

// bencodeSkip returns the index after the value at b[i:].
func bencodeSkip(b string, i, depth int) (int, error) {
	if i >= len(b) || depth > 64 {
		return 0, ErrNotTorrent
	}
	switch c := b[i]; {
	case c == 'i':
		j := i + 1
		for j < len(b) && b[j] != 'e' {
			j++
		}
		if j >= len(b) {
			return 0, ErrNotTorrent
		}
		return j + 1, nil
	case c == 'l' || c == 'd':
		j := i + 1
		for j < len(b) && b[j] != 'e' {
			var err error
			if j, err = bencodeSkip(b, j, depth+1); err != nil {
				return 0, err
			}
		}
		if j >= len(b) {
			return 0, ErrNotTorrent
		}
		return j + 1, nil
	case '0' <= c && c <= '9':
		_, j, err := bencodeString(b, i)
		return j, err
	}
	return 0, ErrNotTorrent
}
