package engine

import (
	"time"

	"github.com/anacrolix/torrent"
)

// The sampler reads every transferring download's totals once a second and
// turns them into the rates d.up.rate and d.down.rate answer (averaged
// over the last few seconds, as rTorrent's are), notices downloads that
// finish, and saves the session every few minutes so that totals survive
// a crash.

const (
	sampleEvery = time.Second
	rateSamples = 5 // the window: rates average over 4 s
	saveEvery   = 5 * time.Minute
)

// rateWindow holds the last samples of one counter pair.
type rateWindow struct {
	r        *running // the download's run sampled; a new run starts a new window
	at       [rateSamples]time.Time
	up, down [rateSamples]int64
	n, next  int
}

// add records a sample and returns the rates over the window.
func (w *rateWindow) add(at time.Time, up, down int64) (upRate, downRate int64) {
	w.at[w.next], w.up[w.next], w.down[w.next] = at, up, down
	w.next = (w.next + 1) % rateSamples
	w.n = min(w.n+1, rateSamples)
	if w.n < 2 {
		return 0, 0
	}
	oldest := (w.next - w.n + rateSamples) % rateSamples
	newest := (w.next - 1 + rateSamples) % rateSamples
	secs := w.at[newest].Sub(w.at[oldest]).Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return int64(float64(w.up[newest]-w.up[oldest]) / secs), int64(float64(w.down[newest]-w.down[oldest]) / secs)
}

// sampleLoop is the sampler's goroutine.
func (e *Engine) sampleLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	s := sampler{
		windows:     make(map[*download]*rateWindow),
		peerWindows: make(map[*torrent.PeerConn]*rateWindow),
		progress:    make(map[*torrent.PeerConn]*peerProgress),
		lastSave:    time.Now(),
	}
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
			e.sample(&s)
		}
	}
}

type sampler struct {
	windows     map[*download]*rateWindow
	peerWindows map[*torrent.PeerConn]*rateWindow
	progress    map[*torrent.PeerConn]*peerProgress
	global      rateWindow
	lastSave    time.Time
}

// peerRate is a connection's rates, as p.up_rate and p.down_rate answer
// them: anacrolix's own are of the last write burst and of the time the
// peer was expected to send, not per second of wall time.
type peerRate struct{ up, down int64 }

type peerSample struct {
	pc           *torrent.PeerConn
	up, down     int64
	written      int64 // every byte sent, messages included
	read         int64 // every byte received, messages included
	remotePieces int
}

// sample takes one round of samples. It reads anacrolix without the
// engine's lock and publishes with it.
func (e *Engine) sample(s *sampler) {
	type item struct {
		d          *download
		r          *running
		up, down   int64
		piecesDone int
		peers      []peerSample
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	var items []item
	for _, d := range e.order {
		if d.run != nil && d.run.active {
			items = append(items, item{d: d, r: d.run})
		}
	}
	e.mu.Unlock()

	for i := range items {
		st := items[i].r.t.Stats()
		items[i].up = st.BytesWrittenData.Int64()
		items[i].down = st.BytesReadData.Int64()
		items[i].piecesDone = st.PiecesComplete
		if st.ActivePeers > 0 {
			for _, pc := range items[i].r.t.PeerConns() {
				ps := pc.Stats()
				items[i].peers = append(items[i].peers, peerSample{pc, ps.BytesWrittenData.Int64(), ps.BytesReadData.Int64(),
					ps.BytesWritten.Int64(), ps.BytesRead.Int64(), ps.RemotePieceCount})
			}
		}
	}
	cs := e.cl.ConnStats()
	now := time.Now()

	var stalled []*torrent.PeerConn
	defer func() { e.closeStalled(stalled) }() // after the unlock below
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	seen := make(map[*download]bool, len(items))
	peerRates := make(map[*torrent.PeerConn]peerRate)
	for _, it := range items {
		for _, p := range it.peers {
			w := s.peerWindows[p.pc]
			if w == nil {
				w = &rateWindow{}
				s.peerWindows[p.pc] = w
			}
			up, down := w.add(now, p.up, p.down)
			peerRates[p.pc] = peerRate{up, down}
			pr := s.progress[p.pc]
			if pr == nil {
				pr = &peerProgress{}
				s.progress[p.pc] = pr
			}
			if pr.stalled(now, p.written, p.read, p.remotePieces, it.piecesDone) {
				stalled = append(stalled, p.pc)
				delete(s.progress, p.pc)
			}
		}
		d := it.d
		seen[d] = true
		w := s.windows[d]
		if w == nil || w.r != it.r {
			w = &rateWindow{r: it.r}
			s.windows[d] = w
		}
		up, down := w.add(now, it.up, it.down)
		if d.run != it.r || !it.r.active {
			continue
		}
		d.upRate, d.downRate = up, down
		if up > 0 || down > 0 {
			d.lastActive = now.Unix()
		}
		if d.info != nil && it.piecesDone == d.numPieces {
			e.noteFinished(d)
		}
	}
	for d := range s.windows {
		if !seen[d] {
			delete(s.windows, d)
		}
	}
	for pc := range s.peerWindows {
		if _, ok := peerRates[pc]; !ok {
			delete(s.peerWindows, pc)
		}
	}
	for pc := range s.progress {
		if _, ok := peerRates[pc]; !ok {
			delete(s.progress, pc)
		}
	}
	e.peerRates = peerRates
	e.upRate, e.downRate = s.global.add(now, cs.BytesWrittenData.Int64(), cs.BytesReadData.Int64())
	if now.Sub(s.lastSave) >= saveEvery {
		s.lastSave = now
		for _, it := range items {
			e.captureCompletion(it.d)
			e.markDirty(it.d)
		}
	}
	e.saveDirty()
}
