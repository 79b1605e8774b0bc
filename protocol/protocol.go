// Package protocol holds the wire constants of rtgate's API that its
// servers and clients share: the JSON-RPC error codes of every door and
// the close codes of the WebSocket door. docs/protocol.md documents them
// with the messages that carry them.
package protocol

// JSON-RPC error codes. The first five are JSON-RPC 2.0's, as rTorrent's
// own JSON-RPC (jesec's, rTorrent >= 0.15) answers them; the rest are
// rtgate's.
const (
	// CodeParseError: the body or frame is not JSON.
	CodeParseError = -32700
	// CodeInvalidRequest: not a JSON-RPC 2.0 request object.
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: rTorrent's fault -506 (no such method), or an
	// rtgate.* method the door does not have.
	CodeMethodNotFound = -32601
	// CodeInvalidParams: params rTorrent's JSON dialect cannot carry, and
	// rTorrent's faults -501 and -503 (bad target, type, view or command).
	CodeInvalidParams = -32602
	// CodeServerError: any other rTorrent fault (its message kept), or
	// rTorrent unreachable.
	CodeServerError = -32000

	// CodeLimited: over one of a connection's limits (call rate, calls in
	// flight, subscriptions); the message says which. Nothing was done.
	CodeLimited = -32002
	// CodeUnknownTopic: rtgate.subscribe named no topic the hub has.
	CodeUnknownTopic = -32003
	// CodeSubscribed: rtgate.subscribe of a topic the connection already has.
	CodeSubscribed = -32004
	// CodeNotSubscribed: rtgate.unsubscribe of a topic the connection does
	// not have (any more: an ended topic is gone).
	CodeNotSubscribed = -32005

	// CodeRefused: rtgate's method policy refuses a command of the call.
	// It is the fault code XML-RPC clients see too (rTorrent's own word
	// for a refused command), outside JSON-RPC's reserved range, so that
	// every door reports a refusal alike.
	CodeRefused = -507
)

// WebSocket close codes rtgate sends, beside the standard ones it also
// uses: 1000 (normal), 1001 (shutting down), 1003 (a binary frame), 1009
// (a frame over the read limit) and 1011 (an internal error).
const (
	// CloseAuth: the token the connection authenticated with is no longer
	// valid. A wrong token at the upgrade is answered HTTP 401 instead.
	CloseAuth = 4001
	// CloseSlow: the connection did not read fast enough and its queue
	// overflowed. Reconnect and resume.
	CloseSlow = 4008
	// CloseStalled: the peer stopped reading altogether, or answered no
	// ping in time.
	CloseStalled = 4009
	// CloseTooManyConns: the server already serves its maximum of
	// connections. Sent right after the upgrade, so that browsers see it.
	CloseTooManyConns = 4013
)
