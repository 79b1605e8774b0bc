package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/anacrolix/torrent/bencode"
)

// The session directory holds, per download, rTorrent's "<HASH>.torrent"
// (the metainfo as loaded, which Flood's tracker editor rewrites in place)
// and the engine's own "<HASH>.torrent.rtgate" (JSON: state, custom fields,
// directory, priorities, trackers, totals, completion), plus anacrolix's
// piece completion store (.torrent.bolt.db) and, between a clean Close and
// the next New, the marker "rtgate.clean". Without the marker, New
// hash-checks every download again before it transfers, as rTorrent may
// after a crash.

const (
	recordSuffix = ".torrent.rtgate"
	cleanMarker  = "rtgate.clean"
)

// record is a download's session state on disk.
type record struct {
	Version        int               `json:"version"`
	Seq            int64             `json:"seq"`
	Magnet         string            `json:"magnet,omitempty"`
	State          int64             `json:"state"`
	Open           bool              `json:"open"`
	Active         bool              `json:"active"`
	Checked        bool              `json:"checked"`
	Custom         map[string]string `json:"custom,omitempty"`
	CustomN        [5]string         `json:"customN"`
	Priority       int64             `json:"priority"`
	DirBase        string            `json:"dirBase"`
	DirIsBase      bool              `json:"dirIsBase,omitempty"`
	BasePath       string            `json:"basePath,omitempty"`
	TiedToFile     string            `json:"tiedToFile,omitempty"`
	ConnectionSeed string            `json:"connectionSeed,omitempty"`
	Message        string            `json:"message,omitempty"`
	LoadDate       int64             `json:"loadDate"`
	Started        int64             `json:"started,omitempty"`
	Finished       int64             `json:"finished,omitempty"`
	LastActive     int64             `json:"lastActive,omitempty"`
	FilePrio       []int64           `json:"filePriorities,omitempty"`
	Trackers       []recordTracker   `json:"trackers,omitempty"`
	UpTotal        int64             `json:"upTotal"`
	DownTotal      int64             `json:"downTotal"`
	DoneBytes      int64             `json:"doneBytes"`
	DoneChunks     int64             `json:"doneChunks"`
	DonePieces     []byte            `json:"donePieces,omitempty"`
}

type recordTracker struct {
	URL     string `json:"url"`
	Group   int    `json:"group"`
	Enabled bool   `json:"enabled"`
	Extra   bool   `json:"extra,omitempty"`
}

func (e *Engine) torrentPath(d *download) string {
	return filepath.Join(e.opts.SessionDir, d.hash+".torrent")
}

func (e *Engine) recordPath(d *download) string {
	return filepath.Join(e.opts.SessionDir, d.hash+recordSuffix)
}

// saveDirty writes the session state of every download changed since the
// last save, logging failures.
func (e *Engine) saveDirty() {
	if err := e.saveDirtyErr(); err != nil {
		e.log.Warn("engine: saving session", "err", err)
	}
}

func (e *Engine) saveDirtyErr() error {
	if len(e.dirty) == 0 {
		return nil
	}
	var errs []error
	if e.opts.SessionDir != "" {
		for d := range e.dirty {
			if err := e.saveRecord(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	clear(e.dirty)
	return errors.Join(errs...)
}

// saveRecord writes d's record, with the totals of its current run.
func (e *Engine) saveRecord(d *download) error {
	up, down := d.upBase, d.downBase
	if r := d.run; r != nil {
		st := r.t.Stats()
		up += st.BytesWrittenData.Int64()
		down += st.BytesReadData.Int64()
	}
	rec := record{
		Version:        1,
		Seq:            d.seq,
		Magnet:         d.magnet,
		State:          d.state,
		Open:           d.open,
		Active:         d.active,
		Checked:        d.checked && d.hashing == 0,
		Custom:         d.custom,
		CustomN:        d.customN,
		Priority:       d.priority,
		DirBase:        d.dirBase,
		DirIsBase:      d.dirIsBase,
		BasePath:       d.basePath,
		TiedToFile:     d.tiedToFile,
		ConnectionSeed: d.connectionSeed,
		Message:        d.message,
		LoadDate:       d.loadDate,
		Started:        d.tsStarted,
		Finished:       d.tsFinished,
		LastActive:     d.lastActive,
		FilePrio:       d.filePrio,
		UpTotal:        up,
		DownTotal:      down,
		DoneBytes:      d.doneBytes,
		DoneChunks:     d.doneChunks,
		DonePieces:     d.donePieces,
	}
	for _, tr := range d.trackers {
		rec.Trackers = append(rec.Trackers, recordTracker{URL: tr.url, Group: tr.group, Enabled: tr.enabled, Extra: tr.extra})
	}
	b, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("encode %s: %w", d.hash, err)
	}
	return writeFileAtomic(e.recordPath(d), b)
}

// writeTorrentFile writes d's metainfo as "<HASH>.torrent".
func (e *Engine) writeTorrentFile(d *download) error {
	if e.opts.SessionDir == "" || d.meta == nil {
		return nil
	}
	b, err := bencode.Marshal(d.meta)
	if err != nil {
		return err
	}
	return writeFileAtomic(e.torrentPath(d), b)
}

// removeSession deletes d's session files.
func (e *Engine) removeSession(d *download) {
	if e.opts.SessionDir == "" {
		return
	}
	for _, p := range []string{e.torrentPath(d), e.recordPath(d)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.log.Warn("engine: removing session file", "path", p, "err", err)
		}
	}
}

// loadSession restores the downloads of the session directory. After an
// unclean shutdown every download is hash-checked again before it
// transfers.
func (e *Engine) loadSession(unclean bool) error {
	paths, err := filepath.Glob(filepath.Join(e.opts.SessionDir, "*"+recordSuffix))
	if err != nil {
		return fmt.Errorf("engine: session: %w", err)
	}
	for _, p := range paths {
		d, err := e.restore(p, unclean)
		if err != nil {
			e.log.Warn("engine: skipping session entry", "path", p, "err", err)
			continue
		}
		if e.downloads[d.hash] != nil {
			continue
		}
		e.downloads[d.hash] = d
		e.order = append(e.order, d)
		e.nextSeq = max(e.nextSeq, d.seq+1)
	}
	slices.SortFunc(e.order, func(a, b *download) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return strings.Compare(a.hash, b.hash)
	})
	return nil
}

// restore reads one download's record and metainfo.
func (e *Engine) restore(recPath string, unclean bool) (*download, error) {
	b, err := os.ReadFile(recPath)
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	hash := strings.TrimSuffix(filepath.Base(recPath), recordSuffix)
	var d *download
	torrentBytes, err := os.ReadFile(filepath.Join(e.opts.SessionDir, hash+".torrent"))
	switch {
	case err == nil:
		d, err = e.downloadFromTorrent(torrentBytes)
	case rec.Magnet != "":
		d, err = e.downloadFromMagnet(rec.Magnet)
	}
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errors.New("no metainfo and no magnet URI")
	}
	if d.hash != strings.ToUpper(hash) {
		return nil, fmt.Errorf("metainfo is of %s", d.hash)
	}
	d.seq = rec.Seq
	d.magnet = rec.Magnet
	d.state, d.open, d.active = rec.State, rec.Open, rec.Active && rec.Open && rec.State == 1
	d.checked = rec.Checked && !unclean
	if rec.Custom != nil {
		d.custom = rec.Custom
	}
	d.customN = rec.CustomN
	d.priority = rec.Priority
	d.dirBase, d.dirIsBase = rec.DirBase, rec.DirIsBase
	d.basePath = rec.BasePath
	d.tiedToFile = rec.TiedToFile
	d.connectionSeed = rec.ConnectionSeed
	d.message = rec.Message
	d.loadDate, d.tsStarted, d.tsFinished, d.lastActive = rec.LoadDate, rec.Started, rec.Finished, rec.LastActive
	if len(rec.FilePrio) == len(d.files) {
		d.filePrio = rec.FilePrio
	}
	if rec.Trackers != nil {
		d.trackers = nil
		for _, t := range rec.Trackers {
			tr := newTracker(t.URL, t.Group)
			tr.enabled, tr.extra = t.Enabled, t.Extra
			d.trackers = append(d.trackers, tr)
		}
	}
	d.upBase, d.downBase = rec.UpTotal, rec.DownTotal
	if len(rec.DonePieces) == len(d.donePieces) {
		d.donePieces = rec.DonePieces
		d.doneBytes, d.doneChunks = rec.DoneBytes, rec.DoneChunks
	}
	return d, nil
}

// resumeDownload starts what a restored download was doing.
func (e *Engine) resumeDownload(d *download) {
	if d.isActive() && !d.checked && d.info != nil {
		e.queueHash(d, 1)
		return
	}
	e.sync(d)
}

// takeCleanMarker reports whether the last Close was clean, and removes
// the marker so that a crash from now on is noticed.
func (e *Engine) takeCleanMarker() bool {
	err := os.Remove(filepath.Join(e.opts.SessionDir, cleanMarker))
	return err == nil
}

func (e *Engine) putCleanMarker() error {
	return writeFileAtomic(filepath.Join(e.opts.SessionDir, cleanMarker), []byte("clean\n"))
}

// writeFileAtomic replaces path with data, so that a crash leaves either
// the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
