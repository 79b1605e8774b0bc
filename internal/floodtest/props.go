package floodtest

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
)

// TorrentProps is one torrent as Flood 4.11.0's GET /api/torrents reports
// it: every field Flood sends (Torrents fails on any other), computed by
// Flood from one row of its d.multicall2.
//
// Fields that move with time, so that two reads of an unchanged torrent
// may differ: DownRate, UpRate, ETA, DateActive (-1 while either rate is
// non-zero) and the "active"/"inactive" entry of Status. Stable clears
// them. While a torrent exchanges data with peers, the traffic counters
// (DownTotal, UpTotal, Ratio, BytesDone, PercentComplete) and the peer
// counts move too; the torrents of an rtorrenttest instance have no peers,
// so Stable keeps those, and a comparison still notices a wrong value.
type TorrentProps struct {
	Hash      string `json:"hash"`      // d.hash, 40 uppercase hex digits
	Name      string `json:"name"`      // d.name
	Directory string `json:"directory"` // d.directory
	Message   string `json:"message"`   // d.message; non-empty adds "error" to Status
	// Comment is the .torrent's comment, which Flood stores in d.custom2
	// behind the prefix "VRS24mrker" when it adds a torrent.
	Comment string `json:"comment"`
	// Status is Flood's summary of d.hashing, d.complete, d.is_open,
	// d.state, d.message and the rates, in this order: "checking", or
	// "complete"/"seeding"/"stopped"/"downloading" as they apply; then
	// "error" if Message is set; then "active" or "inactive".
	Status          []string `json:"status"`
	SizeBytes       int64    `json:"sizeBytes"`       // d.size_bytes
	BytesDone       int64    `json:"bytesDone"`       // d.bytes_done
	PercentComplete float64  `json:"percentComplete"` // BytesDone/SizeBytes × 100, truncated
	Priority        int      `json:"priority"`        // d.priority: 0 off, 1 low, 2 normal, 3 high
	IsPrivate       bool     `json:"isPrivate"`       // d.is_private
	// IsInitialSeeding is d.connection_seed == "initial_seed".
	IsInitialSeeding bool `json:"isInitialSeeding"`
	// IsSequential is d.down.sequential, which rTorrent 0.9.8 lacks: Flood
	// then asks for false= and reports false.
	IsSequential bool     `json:"isSequential"`
	Tags         []string `json:"tags"` // d.custom1, comma-separated and URI-encoded, sorted
	// TrackerURIs are the host names of the enabled trackers' URLs.
	TrackerURIs []string `json:"trackerURIs"`
	// DateAdded is d.custom=addtime, the Unix time Flood set when it added
	// the torrent (0 for torrents added otherwise).
	DateAdded    int64 `json:"dateAdded"`
	DateCreated  int64 `json:"dateCreated"`  // d.creation_date, from the .torrent
	DateFinished int64 `json:"dateFinished"` // d.timestamp.finished
	// DateActive is d.timestamp.last_active, or -1 while a rate is
	// non-zero. rTorrent 0.9.8 lacks the command, so it is 0 there.
	DateActive int64   `json:"dateActive"`
	DownRate   int64   `json:"downRate"`  // d.down.rate, bytes/s
	UpRate     int64   `json:"upRate"`    // d.up.rate, bytes/s
	DownTotal  int64   `json:"downTotal"` // d.down.total
	UpTotal    int64   `json:"upTotal"`   // d.up.total
	Ratio      float64 `json:"ratio"`     // d.ratio / 1000
	// ETA is the seconds left at the current download rate, or -1.
	ETA            float64 `json:"eta"`
	PeersConnected int     `json:"peersConnected"` // d.peers_accounted
	PeersTotal     int     `json:"peersTotal"`     // first tracker's scrape_incomplete
	SeedsConnected int     `json:"seedsConnected"` // d.peers_complete
	SeedsTotal     int     `json:"seedsTotal"`     // first tracker's scrape_complete
}

// HasStatus reports whether Status holds s ("seeding", "stopped", ...).
func (p TorrentProps) HasStatus(s string) bool { return slices.Contains(p.Status, s) }

// Stable returns p with the fields that move with time cleared: DownRate,
// UpRate, ETA, DateActive set to 0 and the "active"/"inactive" entry
// dropped from Status. Two reads of an idle torrent, through the same or
// different Floods, give equal Stable values.
func (p TorrentProps) Stable() TorrentProps {
	p.DownRate, p.UpRate, p.ETA, p.DateActive = 0, 0, 0, 0
	p.Status = slices.DeleteFunc(slices.Clone(p.Status), func(s string) bool {
		return s == "active" || s == "inactive"
	})
	return p
}

// DiffTorrents compares two torrent lists field by field after Stable and
// returns one line per difference, sorted, or nil if they agree:
//
//	ABCD…: name: "a" != "b"
//	ABCD…: only in first
func DiffTorrents(a, b map[string]TorrentProps) []string {
	var diffs []string
	for hash, pa := range a {
		pb, ok := b[hash]
		if !ok {
			diffs = append(diffs, hash+": only in first")
			continue
		}
		diffs = append(diffs, diffProps(hash, pa.Stable(), pb.Stable())...)
	}
	for hash := range b {
		if _, ok := a[hash]; !ok {
			diffs = append(diffs, hash+": only in second")
		}
	}
	sort.Strings(diffs)
	return diffs
}

func diffProps(hash string, a, b TorrentProps) []string {
	var diffs []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	typ := va.Type()
	for i := range typ.NumField() {
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(normalize(fa), normalize(fb)) {
			diffs = append(diffs, fmt.Sprintf("%s: %s: %#v != %#v", hash, typ.Field(i).Tag.Get("json"), fa, fb))
		}
	}
	return diffs
}

// normalize makes an empty slice equal a nil one: Flood sends [] for both.
func normalize(v any) any {
	if s, ok := v.([]string); ok && len(s) == 0 {
		return []string(nil)
	}
	return v
}
