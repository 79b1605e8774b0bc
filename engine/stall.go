package engine

import (
	"time"

	"github.com/anacrolix/torrent"
)

// Uploads that anacrolix v1.59.1 stops serving: rarely, a connection keeps
// a peer's requests queued and sends nothing more, and the peer (rTorrent
// among them) waits for them forever. Seen about once in sixty runs of the
// seeding test, cause not found in anacrolix. The sampler closes such a
// connection so that the next announce connects afresh; the transfer then
// resumes where it stopped.

// stallAfter is how long a connection may stay silent both ways, while we
// were uploading to a peer that still lacks pieces we have, before it is
// taken for stalled. rTorrent sends a request or a keepalive well within
// it while a transfer is healthy.
const stallAfter = 20 * time.Second

// peerProgress is what the sampler remembers of a connection.
type peerProgress struct {
	written, read int64     // bytes of data we sent, bytes of anything we received
	since         time.Time // when either last moved
}

// stalled updates p with a sample and reports whether the connection is
// an upload gone silent: data was sent on it before, the peer has fewer
// pieces than we do, and nothing moved either way for stallAfter.
func (p *peerProgress) stalled(now time.Time, written, read int64, remotePieces, ourPieces int) bool {
	if p.since.IsZero() || written != p.written || read != p.read {
		p.written, p.read, p.since = written, read, now
		return false
	}
	return written > 0 && remotePieces < ourPieces && now.Sub(p.since) >= stallAfter
}

// closeStalled closes the connections the sampler found stalled. It runs
// without the engine's lock: Close takes anacrolix's.
func (e *Engine) closeStalled(conns []*torrent.PeerConn) {
	for _, pc := range conns {
		e.log.Warn("closing a stalled upload connection; it reconnects at the next announce",
			"peer", pc.RemoteAddr.String())
		pc.Close()
	}
}
