package poller

import (
	"errors"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

var (
	// ErrBadReply is wrapped by errors about replies that decoded but do not
	// have the shape the poller asked for: a row of the wrong width, a string
	// where an integer belongs. The poll that got one is dropped whole; the
	// backend stays connected.
	ErrBadReply = errors.New("poller: unexpected reply")

	// ErrNotConnected is returned by Refresh while the poller has no
	// connection to its backend (before the first, or while reconnecting).
	ErrNotConnected = errors.New("poller: backend not connected")

	// ErrInvalidHash is wrapped by Refresh when a hash is not 40 hex digits.
	ErrInvalidHash = errors.New("poller: invalid info hash")

	// ErrRunning is returned by a second call of Run.
	ErrRunning = errors.New("poller: already running")

	// ErrStopped ends the topics of a poller whose Run has returned: their
	// subscribers get an Ended message carrying it.
	ErrStopped = errors.New("poller: stopped")

	// errRestarted says a poll found the backend restarted behind the
	// poller's back (another system.pid, totals gone down): it resyncs.
	errRestarted = errors.New("poller: backend restarted")
)

// isTransport reports whether err means the backend could not be reached
// or did not answer in time, as opposed to an answer the poller did not
// like (a fault, a malformed reply).
func isTransport(err error) bool {
	var f *xmlrpc.Fault
	return !errors.As(err, &f) && !errors.Is(err, ErrBadReply) && !errors.Is(err, rtorrent.ErrBadReply)
}

// isNotFound reports whether a fault is rTorrent's answer for a download
// that does not exist (any more), in any version's form.
func isNotFound(f *xmlrpc.Fault) bool {
	return f != nil && rtorrent.IsUnknownHash(f)
}
