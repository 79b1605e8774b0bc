package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// TokenRequired reports whether a listener at addr needs a token: true
// unless it is a unix socket or a loopback TCP address. An unspecified
// address (0.0.0.0, [::]) listens on every interface and needs one.
//
// The WebSocket handler cannot tell by itself: behind a reverse proxy on
// the same host every peer looks like loopback. The binary calls this (or
// CheckListener) with each listener's address before serving.
func TokenRequired(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return false
	case *net.TCPAddr:
		return !a.IP.IsLoopback()
	}
	if addr.Network() == "unix" || addr.Network() == "unixpacket" {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return true
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// CheckListener returns an error wrapping ErrTokenRequired when token is
// empty and a listener at addr needs one (TokenRequired).
func CheckListener(addr net.Addr, token string) error {
	if token == "" && TokenRequired(addr) {
		return fmt.Errorf("listen %s %s: %w", addr.Network(), addr, ErrTokenRequired)
	}
	return nil
}

// tokenHash is what a handler keeps of its token: comparing fixed-size
// hashes in constant time does not leak the token's length either.
type tokenHash [sha256.Size]byte

// requestToken returns the token a request presents: the bearer token of
// its Authorization header, or else its "token" query parameter (browsers
// cannot set headers on a WebSocket).
func requestToken(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), true
		}
		return "", false
	}
	if q := r.URL.Query(); q.Has("token") {
		return q.Get("token"), true
	}
	return "", false
}

// matches reports, in constant time, whether tok hashes to h.
func (h *tokenHash) matches(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], h[:]) == 1
}
