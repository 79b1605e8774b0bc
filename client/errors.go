package client

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/coder/websocket"
)

// Error is a JSON-RPC error answered by rtgate: an rTorrent fault (Data
// holds its faultCode and faultString), a policy refusal (-507, Data names
// the method), an unknown topic (-32003), … — the table is in
// docs/protocol.md.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string {
	return "rtgate error " + strconv.Itoa(e.Code) + ": " + e.Message
}

// Error codes of docs/protocol.md that callers branch on.
const (
	CodeParse          = -32700 // the frame was not JSON
	CodeInvalidRequest = -32600 // not a JSON-RPC 2.0 request
	CodeMethodNotFound = -32601 // rTorrent has no such method (fault -506)
	CodeInvalidParams  = -32602 // params rTorrent cannot take (faults -501, -503)
	CodeFault          = -32000 // any other rTorrent fault (Data set), or rTorrent unreachable (no Data)
	CodeRefused        = -507   // refused by rtgate's method policy, as in XML-RPC
	CodeLimited        = -32002 // over a connection limit: call rate, calls in flight, topics
	CodeUnknownTopic   = -32003
	CodeSubscribed     = -32004 // already subscribed to the topic
	CodeNotSubscribed  = -32005
)

// rtgate's own close codes (docs/protocol.md), beside the standard ones:
// 1000 normal, 1001 shutting down, 1003 a binary frame, 1009 a frame over
// the read limit.
const (
	CloseAuth         = 4001 // the token was revoked
	CloseSlow         = 4008 // the client read too slowly: reconnect and resume
	CloseStalled      = 4009 // the client stopped reading, or answering pings
	CloseTooManyConns = 4013
)

// CloseCode returns the close code the server ended the connection with,
// as carried by Client.Err, or -1 if it did not send one.
func CloseCode(err error) int {
	return int(websocket.CloseStatus(err))
}

// HandshakeError is a refused WebSocket upgrade: 401 for a missing or wrong
// token, 403 for a refused Origin.
type HandshakeError struct {
	StatusCode int
	Status     string
}

func (e *HandshakeError) Error() string { return "handshake refused: " + e.Status }

// EndedError ends a subscription whose topic's producer stopped; Reason is
// rtgate's word for why. Subscribe again for a fresh snapshot.
type EndedError struct {
	Topic  string
	Reason string
}

func (e *EndedError) Error() string { return "client: topic " + e.Topic + " ended: " + e.Reason }

var (
	// ErrOverflow ends a subscription whose reader fell more than
	// Options.QueueLen messages behind. Resume from its Position.
	ErrOverflow = errors.New("client: subscription queue overflowed")
	// ErrUnsubscribed ends a subscription after Unsubscribe.
	ErrUnsubscribed = errors.New("client: unsubscribed")
)
