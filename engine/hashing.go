package engine

import "slices"

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
			d, r := e.nextHash()
			if d == nil {
				break
			}
			err := r.t.VerifyDataContext(e.ctx)
			e.mu.Lock()
			if !d.gone && d.run == r && d.hashing != 0 {
				d.hashing = 0
				if err == nil {
					d.checked = true
					e.captureCompletion(d)
					if d.doneChunks == int64(d.numPieces) && d.tsFinished == 0 {
						d.tsFinished = e.now()
					}
				} else if e.ctx.Err() == nil {
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
// or stopped hashing (closed, erased) while they waited.
func (e *Engine) nextHash() (*download, *running) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.hashQueue) > 0 {
		d := e.hashQueue[0]
		e.hashQueue = slices.Delete(e.hashQueue, 0, 1)
		if d.gone || d.hashing == 0 {
			continue
		}
		if d.run == nil {
			d.hashing = 0
			continue
		}
		return d, d.run
	}
	e.hashQueue = nil
	return nil, nil
}
