package protocol

// WebSocket subprotocols of rtgate's WebSocket door. A browser cannot set
// an Authorization header on a WebSocket, and a token in the URL ends up
// in history, logs and Referer headers; so a client may carry its token
// in the Sec-WebSocket-Protocol header instead, as Kubernetes does:
//
//	new WebSocket(url, ["rtgate", "base64url.bearer.rtgate." + base64url(token)])
//
// The server selects Subprotocol and never echoes the token's entry.
const (
	// Subprotocol is the subprotocol the server selects when a client
	// offers it. A client that sends a token as a subprotocol must offer
	// it too: a browser fails a handshake whose answer selects none of
	// the subprotocols it offered.
	Subprotocol = "rtgate"
	// BearerSubprotocolPrefix, followed by the token in unpadded base64url
	// (RFC 4648 §5), is the subprotocol entry that carries a token.
	BearerSubprotocolPrefix = "base64url.bearer.rtgate."
)
