package gateway

import (
	"errors"
)

// The gateway's protocol error codes, in one table.
//
// XML-RPC faults rtgate writes itself (rTorrent's own faults pass through
// unchanged):
//
//	-503  xmlrpc.FaultParse     the request is not a well-formed methodCall
//	-507  xmlrpc.FaultRefused   the policy refuses a command in the call
//	-500  xmlrpc.FaultInternal  rTorrent could not be reached or did not answer
//
// JSON-RPC error codes:
//
//	-32700  CodeParseError      the body is not JSON
//	-32600  CodeInvalidRequest  not a JSON-RPC 2.0 request object
//	-32601  CodeMethodNotFound  rTorrent's -506 (no such method)
//	-32602  CodeInvalidParams   params rTorrent's JSON dialect cannot carry, and
//	                            rTorrent's -501 and -503 (bad target, type or command)
//	-32000  CodeServerError     any other rTorrent fault (message kept), or
//	                            rTorrent unreachable
//	  -507  xmlrpc.FaultRefused the policy refuses a command, as in XML-RPC
//
// HTTP statuses (SCGI carries them in its Status header):
//
//	200  every answer in the client's protocol, faults and errors included
//	400  the body ended before its Content-Length
//	405  a method other than POST
//	413  a body over HandlerOptions.MaxBodyBytes
//	502  rTorrent could not be reached or broke off (body: a fault or error)
//	504  rTorrent did not answer in time (body: a fault or error)
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeServerError    = -32000
)

// Unexported sentinels, wrapped with context where they occur.
var (
	// errParams: JSON params the dialect cannot carry (answered -32602).
	errParams = errors.New("invalid parameters")
	// errBadTorrent: bytes that are not a bencoded torrent with an info dictionary.
	errBadTorrent = errors.New("not a bencoded torrent")
	// errNoSlot: a caller's context ended while it waited for an upstream slot.
	errNoSlot = errors.New("gave up waiting for an upstream slot")
	// errUpstreamStatus: rTorrent (or whatever listens) answered a status other than 200.
	errUpstreamStatus = errors.New("rtorrent answered with an unexpected status")
	// errBadUpstreamValue: a reply rtgate cannot pass on (a value Flood's dialect lacks, a
	// system.multicall answer of the wrong shape).
	errBadUpstreamValue = errors.New("rtorrent's reply cannot be passed on")
)
