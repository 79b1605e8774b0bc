package poller

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/internal/jsonenc"
	"github.com/rtgate/rtgate/xmlrpc"
)

// The torrent column "trackers" holds trackerSummaryCmd's text as rTorrent
// returns it, one "<enabled>|<scrape complete>|<scrape incomplete>|<url>|||"
// per tracker, and is published as three JSON fields, as Flood shows them:
//
//	trackerURIs   the URLs of the enabled trackers, in rTorrent's order
//	seedsTotal    the first tracker's scrape_complete
//	peersTotal    the first tracker's scrape_incomplete
//
// Comparing the raw text finds a change without parsing; only a changed
// summary is parsed, to publish just the fields that differ.

// trackerSummary is the parsed form of the "trackers" column.
type trackerSummary struct {
	urls       []string
	seedsTotal int64
	peersTotal int64
}

// parseTrackers parses the trackers column's text. A URL holding "|||"
// cannot be told apart and is cut there, as Flood cuts it.
func parseTrackers(s string) trackerSummary {
	var ts trackerSummary
	first := true
	for entry := range strings.SplitSeq(s, "|||") {
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, "|", 4)
		if len(parts) != 4 {
			continue
		}
		if first {
			ts.seedsTotal, ts.peersTotal = parseDecimal(parts[1]), parseDecimal(parts[2])
			first = false
		}
		if parts[0] != "0" {
			ts.urls = append(ts.urls, parts[3])
		}
	}
	return ts
}

// appendTrackers appends the three JSON fields of the trackers column's
// text s, as parseTrackers reads it but without allocating (a snapshot
// writes one per download).
func appendTrackers(dst []byte, s string) []byte {
	dst = appendKey(dst, "trackerURIs")
	dst = append(dst, '[')
	var seeds, peers string
	first, n := true, 0
	for entry := range strings.SplitSeq(s, "|||") {
		enabled, rest, ok1 := strings.Cut(entry, "|")
		complete, rest, ok2 := strings.Cut(rest, "|")
		incomplete, url, ok3 := strings.Cut(rest, "|")
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		if first {
			seeds, peers, first = complete, incomplete, false
		}
		if enabled != "0" {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = jsonenc.AppendString(dst, url)
			n++
		}
	}
	dst = append(dst, ']')
	dst = appendKey(dst, "seedsTotal")
	dst = strconv.AppendInt(dst, parseDecimal(seeds), 10)
	dst = appendKey(dst, "peersTotal")
	return strconv.AppendInt(dst, parseDecimal(peers), 10)
}

// trackerCallCmds are the t.multicall fields that give, per tracker, what
// trackerSummaryCmd gives per row, for a refresh of one download.
var trackerCallCmds = []string{"t.is_enabled=", "t.scrape_complete=", "t.scrape_incomplete=", "t.url="}

// summarizeTrackers builds the trackers column's text from the rows of
// t.multicall(hash, "", trackerCallCmds...), exactly as rTorrent's cat
// would have written it.
func summarizeTrackers(v xmlrpc.Value) (string, error) {
	if v.Kind() != xmlrpc.Array {
		return "", fmt.Errorf("%w: t.multicall returned %v", ErrBadReply, v.Kind())
	}
	var b []byte
	for _, tr := range v.Values() {
		if tr.Kind() != xmlrpc.Array || tr.Len() != len(trackerCallCmds) {
			return "", fmt.Errorf("%w: t.multicall row is %v of %d values", ErrBadReply, tr.Kind(), tr.Len())
		}
		f := tr.Values()
		for i, x := range f {
			switch x.Kind() {
			case xmlrpc.Int:
				b = strconv.AppendInt(b, x.Int(), 10)
			case xmlrpc.String:
				b = append(b, x.String()...)
			default:
				return "", fmt.Errorf("%w: t.multicall value %v", ErrBadReply, x.Kind())
			}
			if i < len(f)-1 {
				b = append(b, '|')
			}
		}
		b = append(b, "|||"...)
	}
	return string(b), nil
}

// equal reports whether two summaries publish the same fields.
func (ts trackerSummary) equalURLs(o trackerSummary) bool { return slices.Equal(ts.urls, o.urls) }
