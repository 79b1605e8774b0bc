package client

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/coder/websocket"
)

// Error is a JSON-RPC error answered by rtgate: an rTorrent fault (Data
// holds its faultCode and faultString), a policy refusal (-507, Data names
// the method), an unknown topic (-32003), … Its codes are package
// protocol's (protocol.CodeRefused, …); the table is in docs/protocol.md.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string {
	return "rtgate error " + strconv.Itoa(e.Code) + ": " + e.Message
}

// CloseCode returns the close code the server ended the connection with,
// as carried by Client.Err, or -1 if it did not send one: one of package
// protocol's Close* codes (protocol.CloseSlow, …) or a standard one.
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
