package client

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Error is a JSON-RPC error answered by rtgate: an rTorrent fault (-32000,
// Data holds faultCode and faultString), a policy refusal (-32001), an
// unknown topic (-32003), … — the table is in docs/protocol.md.
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
	CodeParse          = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeFault          = -32000
	CodeRefused        = -32001
	CodeRateLimited    = -32002
	CodeUnknownTopic   = -32003
	CodeSubscribed     = -32004
	CodeNotSubscribed  = -32005
	CodeUnavailable    = -32006
)

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
