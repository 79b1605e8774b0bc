package ws

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/rtgate/rtgate/auth"
	"github.com/rtgate/rtgate/protocol"
)

// requestToken returns the token a handshake presents: an Authorization
// bearer token or the token query parameter (auth.RequestToken), or else
// a Sec-WebSocket-Protocol entry protocol.BearerSubprotocolPrefix+base64url,
// the one way a browser can send a token outside the URL (a browser may
// also send the Basic credentials of a proxy in front: they do not hide
// the entry). ok is false when it presents none, or an entry that is not
// valid base64url.
func requestToken(r *http.Request) (string, bool) {
	if tok, ok := auth.RequestToken(r); ok {
		return tok, true
	}
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			enc, found := strings.CutPrefix(strings.TrimSpace(p), protocol.BearerSubprotocolPrefix)
			if !found {
				continue
			}
			tok, err := base64.RawURLEncoding.DecodeString(enc)
			if err != nil {
				return "", false
			}
			return string(tok), true
		}
	}
	return "", false
}
