package rtorrent

import "errors"

// ErrBadReply is wrapped by errors about replies that decoded but do not
// have the shape the method promises (a multicall row of the wrong width,
// a version that is not a string).
var ErrBadReply = errors.New("rtorrent: unexpected reply")

// ErrHTTPStatus is wrapped when rTorrent (or whatever listens on the
// socket) answers with an SCGI status other than 200.
var ErrHTTPStatus = errors.New("rtorrent: unexpected status")
