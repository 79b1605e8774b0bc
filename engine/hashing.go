package engine

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/anacrolix/torrent"
)

// Hash checks run one at a time, in the order they were asked for, as in
// rTorrent's hash queue. A download waiting in the queue already has its
// d.hashing set (1 for the first check of a new download, 3 for
// d.check_hash) and does not transfer until its check is done.

// queueHash marks d for a hash check of the given kind and queues it.
func (e *Engine) queueHash(d *download, kind int64) {
	if d.info == nil || d.hashing != 0 {
		return
	}
	d.hashing = kind
	e.hashQueue = append(e.hashQueue, d)
	e.sync(d)
	select {
	case e.hashWake <- struct{}{}:
	default:
	}
}

// hashLoop is the hash queue's worker. It runs VerifyData without the
// engine's lock, so that calls keep being answered during a long check.
func (e *Engine) hashLoop() {
	defer e.wg.Done()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-e.hashWake:
		}
		for {
			d, r, ctx := e.nextHash()
			if d == nil {
				break
			}
			err := verify(ctx, r.t)
			close(r.verifyDone)
			e.mu.Lock()
			r.verifyCancel()
			r.verifyCancel, r.verifyDone = nil, nil
			if !e.closed && !d.gone && d.run == r && d.hashing != 0 {
				d.hashing = 0
				if err == nil {
					d.checked = true
					e.captureCompletion(d)
					if d.doneChunks == int64(d.numPieces) && d.tsFinished == 0 {
						d.tsFinished = e.now()
					}
				} else if ctx.Err() == nil {
					d.message = "Hash check failed: " + err.Error()
				}
				e.markDirty(d)
				e.sync(d)
				e.saveDirty()
			}
			e.mu.Unlock()
		}
	}
}

// nextHash pops the next download to check, skipping ones that went away
// or stopped hashing (closed, erased) while they waited, and marks its run
// as being verified, with a context that stopping the run cancels.
func (e *Engine) nextHash() (*download, *running, context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for !e.closed && len(e.hashQueue) > 0 {
		d := e.hashQueue[0]
		e.hashQueue = slices.Delete(e.hashQueue, 0, 1)
		if d.gone || d.hashing == 0 {
			continue
		}
		if d.run == nil {
			d.hashing = 0
			continue
		}
		r := d.run
		ctx, cancel := context.WithCancel(e.ctx)
		r.verifyCancel, r.verifyDone = cancel, make(chan struct{})
		return d, r, ctx
	}
	e.hashQueue = nil
	return nil, nil, nil
}

// verifyWorkers is how many pieces are queued for hashing at once:
// anacrolix's VerifyData queues one at a time, which leaves its hashers
// idle between pieces.
const verifyWorkers = 4

// verify hashes every piece of t and waits until anacrolix has recorded
// the results: a piece's check counts as done before its completion is
// marked.
func verify(ctx context.Context, t *torrent.Torrent) error {
	n := t.NumPieces()
	var wg sync.WaitGroup
	errs := make([]error, verifyWorkers)
	for w := range verifyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += verifyWorkers {
				if err := t.Piece(i).VerifyDataContext(ctx); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for {
		busy := false
		for _, run := range t.PieceStateRuns() {
			if run.Hashing || run.QueuedForHash || run.Marking {
				busy = true
				break
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.Closed():
			return context.Canceled
		case <-time.After(5 * time.Millisecond):
		}
	}
}
