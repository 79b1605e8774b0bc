package ws

import (
	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/protocol"
)

// The close codes the door sends (package protocol's, as the websocket
// library types them), beside the standard ones it also uses: 1000
// (normal), 1001 (shutting down), 1003 (a binary frame), 1009 (a frame
// over the read limit, sent by the websocket library) and 1011 (an
// internal error). Its JSON-RPC error codes are package protocol's too;
// docs/protocol.md has the whole table.
const (
	// StatusAuth: the token the connection authenticated with is no longer
	// valid (Handler.SetToken). A wrong token at the upgrade is answered
	// with HTTP 401 instead, before any WebSocket exists.
	StatusAuth websocket.StatusCode = protocol.CloseAuth
	// StatusSlow: the connection did not read fast enough and its queue of
	// topic messages or answers overflowed. Reconnect and resume.
	StatusSlow websocket.StatusCode = protocol.CloseSlow
	// StatusStalled: the peer stopped reading altogether (a write made no
	// way within Options.WriteTimeout) or answered no ping within
	// Options.PongTimeout. A peer that does not read seldom receives it.
	StatusStalled websocket.StatusCode = protocol.CloseStalled
	// StatusTooManyConns: the handler already serves Options.MaxConns
	// connections. Sent right after the upgrade, so that browsers see it.
	StatusTooManyConns websocket.StatusCode = protocol.CloseTooManyConns
)
