package gateway

import "errors"

// What the legacy doors answer themselves. rTorrent's own faults pass
// through unchanged; JSON-RPC error codes are package protocol's.
//
// XML-RPC faults rtgate writes:
//
//	-503  xmlrpc.FaultParse     the request is not a well-formed methodCall
//	-507  xmlrpc.FaultRefused   the policy refuses a command in the call
//	-500  xmlrpc.FaultInternal  rTorrent could not be reached or did not answer
//
// HTTP statuses (SCGI carries them in its Status header):
//
//	200  every answer in the client's protocol, faults and errors included
//	400  the body ended before its Content-Length
//	405  a method other than POST
//	413  a body over HandlerOptions.MaxBodyBytes
//	502  rTorrent could not be reached or broke off (body: a fault or error)
//	504  rTorrent did not answer in time (body: a fault or error)

// Unexported sentinels, wrapped with context where they occur.
var (
	// errNoSlot: a caller's context ended while it waited for an upstream slot.
	errNoSlot = errors.New("gave up waiting for an upstream slot")
	// errUpstreamStatus: rTorrent (or whatever listens) answered a status other than 200.
	errUpstreamStatus = errors.New("rtorrent answered with an unexpected status")
	// errBadUpstreamValue: a reply rtgate cannot pass on (a value Flood's
	// dialect lacks).
	errBadUpstreamValue = errors.New("rtorrent's reply cannot be passed on")
)
