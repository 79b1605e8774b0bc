package engine

import (
	"context"
	"fmt"
	"path/filepath"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"github.com/anacrolix/torrent/types"
)

// This file maps rTorrent's state flags onto anacrolix, which has no
// "stopped" or "paused": a download is in the anacrolix client only while
// it transfers (open, started, not paused) or is being hash-checked, and is
// dropped otherwise. Announces are the engine's own (announce.go), so
// dropping and re-adding a torrent never confuses tracker state.

// optFalse turns anacrolix's part files off: rTorrent writes content under
// its final names, and so must the engine for the two to share data.
var optFalse = g.Some(false)

// running is a download's presence in the anacrolix client.
type running struct {
	t          *torrent.Torrent
	active     bool // data allowed, announcing
	announcing bool // the announcer runs (only when there are trackers)
	ctx        context.Context

	// Set from the first activation until announcing stops: stopping
	// the announcer (and the magnet's info waiter) and poking it. A hash
	// check of a started download pauses its transfers, not its
	// announces, as rTorrent's does.
	cancel    context.CancelFunc
	kick      chan struct{} // d.tracker_announce
	completed chan struct{} // the download just finished
	final     transferTotals

	// Set while the hash queue verifies this run's data: stopping the run
	// must cancel the check and wait for it before dropping the torrent,
	// as anacrolix v1.59.1's Piece.VerifyDataContext on a dropped torrent
	// returns with the client lock held, stopping the whole client.
	verifyCancel context.CancelFunc
	verifyDone   chan struct{}
}

// stopVerify cancels a running hash check of r and waits for it to end.
// The hash worker closes verifyDone before it takes the engine's lock, so
// this may wait with the lock held.
func (r *running) stopVerify() {
	if r.verifyDone != nil {
		r.verifyCancel()
		<-r.verifyDone
	}
}

// transferTotals are what an announce reports.
type transferTotals struct {
	up, down, left int64
}

// sync brings d's anacrolix side in line with its state flags. It runs
// with the engine's lock held.
func (e *Engine) sync(d *download) {
	if d.gone || !d.wantsRun() {
		if d.run != nil {
			e.stopRun(d)
		}
		return
	}
	if d.run == nil {
		if err := e.startRun(d); err != nil {
			d.message = err.Error()
			d.hashing, d.active = 0, false
			e.markDirty(d)
			return
		}
	}
	switch {
	case d.isActive() && !d.run.active:
		e.activate(d)
	case !d.isActive() && d.run.active:
		// Only a hash check of a started download keeps it announced.
		checking := d.hashing != 0 && d.open && d.state == 1 && d.active
		e.deactivate(d, !checking)
	}
}

// startRun adds d to the anacrolix client with data transfer disallowed
// and no connections, the state hash checks run in.
func (e *Engine) startRun(d *download) error {
	opts := torrent.AddTorrentOpts{
		InfoHash:                 d.ih,
		Storage:                  e.storageFor(d),
		DisableInitialPieceCheck: true, // the engine hash-checks where rTorrent would
		DisallowDataDownload:     true,
		DisallowDataUpload:       true,
	}
	if d.meta != nil {
		opts.InfoBytes = d.meta.InfoBytes
	}
	t, isNew := e.cl.AddTorrentOpt(opts)
	if !isNew {
		// A drop that has not finished; anacrolix would hand us the old one.
		t.Drop()
		t, _ = e.cl.AddTorrentOpt(opts)
	}
	if d.meta != nil && t.Info() == nil {
		t.Drop()
		//lint:ignore ST1005 rTorrent's own message, which clients see
		return fmt.Errorf("Storage error: could not open %s", d.contentPath())
	}
	t.SetMaxEstablishedConns(0)
	d.run = &running{t: t}
	if d.info != nil {
		e.applyFilePriorities(d)
	}
	return nil
}

// activate lets d transfer and starts announcing it.
func (e *Engine) activate(d *download) {
	r := d.run
	r.t.AllowDataDownload()
	r.t.AllowDataUpload()
	r.t.SetMaxEstablishedConns(e.maxPeers())
	r.active = true
	if r.cancel != nil {
		// Still announced: a hash check paused it and dropped its
		// connections. Ask the trackers for peers again.
		select {
		case r.kick <- struct{}{}:
		default:
		}
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	r.ctx, r.cancel = ctx, cancel
	r.kick = make(chan struct{}, 1)
	r.completed = make(chan struct{}, 1)
	e.startAnnouncer(d)
	if d.info == nil {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.waitInfo(ctx, d, r)
		}()
	}
}

// startAnnouncer starts announcing an active d if it has trackers and is
// not announced yet: a download without trackers costs no goroutine.
func (e *Engine) startAnnouncer(d *download) {
	r := d.run
	if r == nil || r.ctx == nil || r.announcing || len(d.trackerGroups()) == 0 {
		return
	}
	r.announcing = true
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.announceLoop(r.ctx, d, r)
	}()
}

// deactivate stops d's transfers, keeping it in the client (for a hash
// check), and with stopAnnouncing its announces ("stopped" is sent).
func (e *Engine) deactivate(d *download, stopAnnouncing bool) {
	r := d.run
	if stopAnnouncing && r.cancel != nil {
		r.final = e.totalsOf(d)
		r.cancel()
		r.ctx, r.cancel, r.announcing = nil, nil, false
	}
	r.active = false
	r.t.DisallowDataDownload()
	r.t.DisallowDataUpload()
	r.t.SetMaxEstablishedConns(0)
	d.upRate, d.downRate = 0, 0
}

// stopRun drops d from the anacrolix client, keeping its totals and
// completion for when it is not running.
func (e *Engine) stopRun(d *download) {
	r := d.run
	if r.active || r.cancel != nil {
		e.deactivate(d, true)
	}
	r.stopVerify()
	e.captureCompletion(d)
	st := r.t.Stats()
	d.upBase += st.BytesWrittenData.Int64()
	d.downBase += st.BytesReadData.Int64()
	r.t.Drop()
	d.run = nil
	d.upRate, d.downRate = 0, 0
	e.markDirty(d)
}

// captureCompletion records what d has while it runs, for the times it
// does not.
func (e *Engine) captureCompletion(d *download) {
	r := d.run
	if r == nil || d.info == nil || r.t.Info() == nil {
		return
	}
	bits := newBitfield(d.numPieces)
	i := 0
	for _, run := range r.t.PieceStateRuns() {
		for j := 0; j < run.Length; j++ {
			if run.Complete {
				bits.set(i)
			}
			i++
		}
	}
	d.donePieces = bits
	d.doneChunks = bits.countRange(0, d.numPieces)
	d.doneBytes = r.t.BytesCompleted()
}

// totalsOf returns d's transfer totals for an announce.
func (e *Engine) totalsOf(d *download) transferTotals {
	r := d.run
	if r == nil {
		return transferTotals{}
	}
	st := r.t.Stats()
	tt := transferTotals{up: st.BytesWrittenData.Int64(), down: st.BytesReadData.Int64()}
	if d.info != nil {
		tt.left = d.size - r.t.BytesCompleted()
	} else {
		tt.left = -1
	}
	return tt
}

// applyFilePriorities hands d's f.priority values to anacrolix: off files
// are not downloaded, high ones first.
func (e *Engine) applyFilePriorities(d *download) {
	r := d.run
	if r == nil || r.t.Info() == nil {
		return
	}
	for i, f := range r.t.Files() {
		if i >= len(d.filePrio) {
			break
		}
		prio := types.PiecePriorityNormal
		switch d.filePrio[i] {
		case 0:
			prio = types.PiecePriorityNone
		case 2:
			prio = types.PiecePriorityHigh
		}
		f.SetPriority(prio)
	}
}

// maxPeers is the per-download connection limit.
func (e *Engine) maxPeers() int {
	n := int(e.settings.maxPeersNormal)
	if n <= 0 {
		n = 50
	}
	return n
}

// storageFor returns file storage that puts d's content where rTorrent
// would: <directory>/<name> for a single file, <directory>/<path> for the
// files of a multi-file torrent. Completion is recorded in the engine's
// piece completion store, shared by all downloads.
func (e *Engine) storageFor(d *download) storage.ClientImpl {
	base, isBase := d.dirBase, d.dirIsBase
	return storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: base,
		TorrentDirMaker: func(base string, info *metainfo.Info, _ metainfo.Hash) string {
			if info.IsDir() && !isBase {
				return filepath.Join(base, info.BestName())
			}
			return base
		},
		FilePathMaker: func(o storage.FilePathMakerOpts) string {
			if !o.Info.IsDir() {
				return o.Info.BestName()
			}
			return filepath.Join(o.File.BestPath()...)
		},
		PieceCompletion: e.completion,
		UsePartFiles:    optFalse,
		Logger:          e.anacrolixLog,
	})
}

// waitInfo waits for a magnet's metadata and then makes the download a
// real one, hash-checked like a freshly loaded torrent.
func (e *Engine) waitInfo(ctx context.Context, d *download, r *running) {
	select {
	case <-r.t.GotInfo():
	case <-ctx.Done():
		return
	case <-r.t.Closed():
		return
	}
	mi := r.t.Metainfo()
	info := r.t.Info()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || d.gone || d.run != r || d.info != nil {
		return
	}
	mi.AnnounceList = nil
	for _, tr := range d.trackers {
		for len(mi.AnnounceList) <= tr.group {
			mi.AnnounceList = append(mi.AnnounceList, nil)
		}
		mi.AnnounceList[tr.group] = append(mi.AnnounceList[tr.group], tr.url)
	}
	if len(mi.AnnounceList) > 0 && len(mi.AnnounceList[0]) > 0 {
		mi.Announce = mi.AnnounceList[0][0]
	}
	d.meta = &mi
	d.setInfo(info)
	d.checked = false
	if err := e.writeTorrentFile(d); err != nil {
		e.log.Warn("engine: saving metainfo", "hash", d.hash, "err", err)
	}
	e.applyFilePriorities(d)
	e.queueHash(d, 1)
	e.markDirty(d)
	e.saveDirty()
}
