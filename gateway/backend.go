package gateway

import (
	"context"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Caller is the backend the doors call: rTorrent's client, or the embedded
// engine. An XML-RPC fault must come back as an error wrapping
// *xmlrpc.Fault, which the doors pass on to the client unchanged.
type Caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

// RawCaller sends an encoded request to rTorrent and returns its reply
// unread, so that a door can pass a request's bytes upstream and stream the
// reply back without decoding and re-encoding it. *rtorrent.Client is one,
// with the same dialing and retries as its calls. The caller closes
// Response.Body.
type RawCaller interface {
	Do(ctx context.Context, contentType string, body []byte) (*scgi.Response, error)
}

var (
	_ Caller    = (*rtorrent.Client)(nil)
	_ RawCaller = (*rtorrent.Client)(nil)
	_ RawCaller = (*scgi.Client)(nil)
	_ Caller    = (*Coalescer)(nil)
)
