package engine

import (
	"time"

	"github.com/anacrolix/torrent"
)

// Transfers that anacrolix v1.59.1 stops: rarely, a connection keeps a
// peer's requests queued and sends nothing more (the peer, rTorrent among
// them, waits for them forever), or stops asking a peer that has what we
// lack. Seen in the seeding and magnet tests under load, about once in
// sixty runs; the cause inside anacrolix is not found. The sampler closes
// such a connection, so that a new one is made (anacrolix dials the peers
// it knows again, and announces bring them back); the transfer resumes
// where it stopped.

// stallAfter is how long a connection may stay silent both ways, while one
// side has pieces the other lacks, before it is taken for stalled. A
// healthy transfer moves bytes every second; an idle one costs a reconnect.
const stallAfter = 20 * time.Second

// peerProgress is what the sampler remembers of a connection.
type peerProgress struct {
	written, read int64     // bytes sent and received, messages included
	since         time.Time // when either last moved
}

// stalled updates p with a sample and reports whether the connection is a
// transfer gone silent: the two sides' piece counts differ (one has what
// the other lacks) and not a byte moved either way for stallAfter.
func (p *peerProgress) stalled(now time.Time, written, read int64, remotePieces, ourPieces int) bool {
	if p.since.IsZero() || written != p.written || read != p.read {
		p.written, p.read, p.since = written, read, now
		return false
	}
	return remotePieces != ourPieces && now.Sub(p.since) >= stallAfter
}

// closeStalled closes the connections the sampler found stalled. It runs
// without the engine's lock: Close takes anacrolix's.
func (e *Engine) closeStalled(conns []*torrent.PeerConn) {
	for _, pc := range conns {
		e.log.Warn("closing a stalled peer connection; the transfer resumes on a new one",
			"peer", pc.RemoteAddr.String())
		pc.Close()
	}
}
