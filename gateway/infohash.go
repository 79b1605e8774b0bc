package gateway

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// infoHash returns the info hash of a .torrent file, as rTorrent prints it
// (40 uppercase hex digits): the SHA-1 of the bencoded "info" value, exactly
// as it appears in the file.
func infoHash(torrent string) (string, error) {
	if len(torrent) == 0 || torrent[0] != 'd' {
		return "", errBadTorrent
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
	return "", errBadTorrent
}

// bencodeString reads the string at b[i:] and returns it and the index after it.
func bencodeString(b string, i int) (string, int, error) {
	n := 0
	j := i
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		if n > len(b) {
			return "", 0, errBadTorrent
		}
		n = n*10 + int(b[j]-'0')
		j++
	}
	if j == i || j >= len(b) || b[j] != ':' || n > len(b)-j-1 {
		return "", 0, errBadTorrent
	}
	return b[j+1 : j+1+n], j + 1 + n, nil
}

// bencodeSkip returns the index after the value at b[i:].
func bencodeSkip(b string, i, depth int) (int, error) {
	if i >= len(b) || depth > 64 {
		return 0, errBadTorrent
	}
	switch c := b[i]; {
	case c == 'i':
		j := i + 1
		for j < len(b) && b[j] != 'e' {
			j++
		}
		if j >= len(b) {
			return 0, errBadTorrent
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
			return 0, errBadTorrent
		}
		return j + 1, nil
	case '0' <= c && c <= '9':
		_, j, err := bencodeString(b, i)
		return j, err
	}
	return 0, errBadTorrent
}
