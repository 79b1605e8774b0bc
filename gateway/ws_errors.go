package gateway

import (
	"errors"

	"github.com/coder/websocket"
)

// The WebSocket door's own JSON-RPC error codes. Calls to rTorrent are
// answered with the JSON-RPC door's codes (errors.go): -32700, -32600,
// -32601, -32602, -32000 and -507 for a policy refusal. docs/protocol.md
// has the whole table.
const (
	// CodeLimited: over one of the connection's limits (call rate, calls in
	// flight, subscriptions); the message says which. Nothing was done.
	CodeLimited = -32002
	// CodeUnknownTopic: rtgate.subscribe named no topic the hub has.
	CodeUnknownTopic = -32003
	// CodeSubscribed: rtgate.subscribe of a topic the connection already has.
	CodeSubscribed = -32004
	// CodeNotSubscribed: rtgate.unsubscribe of a topic the connection does
	// not have (any more: an ended topic is gone).
	CodeNotSubscribed = -32005
)

// The WebSocket close codes rtgate sends, beside the standard ones it also
// uses: 1000 (normal), 1001 (shutting down), 1003 (a binary frame),
// 1009 (a frame over the read limit, sent by the websocket library) and
// 1011 (an internal error).
const (
	// StatusAuth: the token the connection authenticated with is no longer
	// valid (WSHandler.SetToken). A wrong token at the upgrade is answered
	// with HTTP 401 instead, before any WebSocket exists.
	StatusAuth websocket.StatusCode = 4001
	// StatusSlow: the connection did not read fast enough and its queue of
	// topic messages or answers overflowed. Reconnect and resume.
	StatusSlow websocket.StatusCode = 4008
	// StatusStalled: the peer stopped reading altogether (a write made no
	// way within WSOptions.WriteTimeout) or answered no ping within
	// WSOptions.PongTimeout. A peer that does not read seldom receives it.
	StatusStalled websocket.StatusCode = 4009
	// StatusTooManyConns: the handler already serves WSOptions.MaxConns
	// connections. Sent right after the upgrade, so that browsers see it.
	StatusTooManyConns websocket.StatusCode = 4013
)

// ErrTokenRequired is wrapped by CheckListener's error for a listener that
// is reachable from other hosts while no token is set.
var ErrTokenRequired = errors.New("gateway: a token is required on a listener that is not loopback or a unix socket")
