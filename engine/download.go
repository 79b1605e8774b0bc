package engine

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
)

// download is one torrent as rTorrent models it. Every field is guarded by
// the engine's lock; run's anacrolix torrent has its own (the client's).
type download struct {
	hash string // 40 uppercase hex digits
	ih   metainfo.Hash
	seq  int64 // position in the main view, kept across restarts

	// What the torrent is. info is nil for a magnet whose metadata has not
	// arrived; the download then looks as rTorrent shows one: a single
	// file "<HASH>.meta" of one byte.
	meta      *metainfo.MetaInfo // the .torrent as loaded (nil for a magnet until its info arrives)
	info      *metainfo.Info
	magnet    string // the magnet URI it was loaded from, if any
	files     []fileEntry
	size      int64
	pieceLen  int64
	numPieces int

	// rTorrent's state flags. active implies open and state 1; d.is_active
	// also needs hashing to be 0.
	state   int64 // d.state: 1 started, 0 stopped
	open    bool  // d.is_open
	active  bool  // not paused
	hashing int64 // d.hashing: 0, 1 (first check), 3 (d.check_hash)
	checked bool  // hash-checked once: the piece completion store can be trusted

	custom         map[string]string // d.custom
	customN        [5]string         // d.custom1 … d.custom5
	priority       int64             // d.priority: 0 off, 1 low, 2 normal, 3 high
	dirBase        string            // directory given at load or by d.directory(_base).set
	dirIsBase      bool              // set by d.directory_base.set: no name appended for a multi-file torrent
	basePath       string            // d.base_path: set when the download is opened
	tiedToFile     string
	connectionSeed string
	message        string
	loadDate       int64
	tsStarted      int64
	tsFinished     int64
	lastActive     int64
	filePrio       []int64 // f.priority per file: 0 off, 1 normal, 2 high
	trackers       []*trackerEntry

	// Totals of finished runs (the current run's are read from anacrolix).
	upBase, downBase int64
	// Completion while not running, as last seen.
	doneBytes  int64
	doneChunks int64
	donePieces bitfield

	run      *running // in the anacrolix client; nil while closed or stopped
	upRate   int64    // bytes/s, published by the sampler
	downRate int64
	gone     bool // erased
}

// fileEntry is one file of a download, in metainfo order.
type fileEntry struct {
	path       string   // f.path: relative, slash-separated
	components []string // f.path_components
	length     int64
	offset     int64
	firstPiece int // f.range_first
	endPiece   int // f.range_second (exclusive)
}

// setInfo fills in what the info dictionary says.
func (d *download) setInfo(info *metainfo.Info) {
	d.info = info
	d.pieceLen = info.PieceLength
	d.numPieces = info.NumPieces()
	d.size = info.TotalLength()
	d.files = d.files[:0]
	var off int64
	for _, fi := range info.UpvertedFiles() {
		comps := fi.BestPath()
		p := path.Join(comps...)
		if !info.IsDir() {
			p, comps = info.BestName(), []string{info.BestName()}
		}
		fe := fileEntry{path: p, components: comps, length: fi.Length, offset: off}
		if d.pieceLen > 0 {
			fe.firstPiece = int(off / d.pieceLen)
			fe.endPiece = int((off + fi.Length + d.pieceLen - 1) / d.pieceLen)
			if fi.Length == 0 {
				fe.endPiece = fe.firstPiece
			}
		}
		d.files = append(d.files, fe)
		off += fi.Length
	}
	if len(d.filePrio) != len(d.files) {
		d.filePrio = make([]int64, len(d.files))
		for i := range d.filePrio {
			d.filePrio[i] = 1
		}
	}
	if len(d.donePieces) != (d.numPieces+7)/8 {
		d.donePieces = newBitfield(d.numPieces)
	}
}

// setMetaPlaceholder makes d look like rTorrent's magnet download before
// its metadata arrives.
func (d *download) setMetaPlaceholder() {
	name := d.hash + ".meta"
	d.pieceLen, d.numPieces, d.size = 1, 1, 1
	d.files = []fileEntry{{path: name, components: []string{name}, length: 1, endPiece: 1}}
	d.filePrio = []int64{1}
	d.donePieces = newBitfield(1)
}

// name is d.name.
func (d *download) name() string {
	if d.info != nil {
		return d.info.BestName()
	}
	return d.hash + ".meta"
}

// isMulti is d.is_multi_file.
func (d *download) isMulti() bool { return d.info != nil && d.info.IsDir() }

// directory is d.directory: where the content lives. For a multi-file
// torrent it includes the torrent's name unless d.directory_base.set put
// the content somewhere explicitly.
func (d *download) directory() string {
	if d.isMulti() && !d.dirIsBase {
		return filepath.Join(d.dirBase, d.name())
	}
	if d.dirBase == "" {
		return "."
	}
	return d.dirBase
}

// contentPath is where d.base_path points once the download is open: the
// file of a single-file torrent, the directory of a multi-file one.
func (d *download) contentPath() string {
	if d.isMulti() {
		return d.directory()
	}
	return filepath.Join(d.directory(), d.name())
}

// isActive is d.is_active: open, started, not paused, not hashing.
func (d *download) isActive() bool {
	return d.open && d.state == 1 && d.active && d.hashing == 0
}

// wantsRun reports whether d belongs in the anacrolix client: while it
// transfers or is being hash-checked.
func (d *download) wantsRun() bool { return d.hashing != 0 || d.isActive() }

// trackerURLs returns the enabled trackers' URLs by group, for announces.
func (d *download) trackerGroups() [][]*trackerEntry {
	var groups [][]*trackerEntry
	for _, tr := range d.trackers {
		if !tr.enabled {
			continue
		}
		for len(groups) <= tr.group {
			groups = append(groups, nil)
		}
		groups[tr.group] = append(groups[tr.group], tr)
	}
	return groups
}

// bitfield is a set of piece indexes, packed as in BitTorrent's bitfield
// message (piece 0 is the high bit of byte 0).
type bitfield []byte

func newBitfield(n int) bitfield { return make(bitfield, (n+7)/8) }

func (b bitfield) has(i int) bool {
	return i >= 0 && i/8 < len(b) && b[i/8]&(0x80>>(i%8)) != 0
}

func (b bitfield) set(i int) {
	if i >= 0 && i/8 < len(b) {
		b[i/8] |= 0x80 >> (i % 8)
	}
}

// countRange counts the pieces of [first, end) in b.
func (b bitfield) countRange(first, end int) int64 {
	var n int64
	for i := first; i < end; i++ {
		if b.has(i) {
			n++
		}
	}
	return n
}

// matchGlob reports whether name matches rTorrent's f.multicall pattern:
// "*" matches any run of characters, "?" any one. rTorrent matches against
// the path with a leading "/", so a pattern must start with "*" to match
// anything (measured on 0.9.8: "*1.bin" matches f1.bin, "f1.bin" does not).
func matchGlob(pattern, name string) bool {
	if pattern == "" {
		return true
	}
	return globMatch(pattern, "/"+name)
}

func globMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			p = strings.TrimLeft(p, "*")
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}
