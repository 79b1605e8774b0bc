package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Secret is what a door keeps of a token: its SHA-256. Comparing
// fixed-size hashes in constant time does not leak the token's length
// either.
type Secret [sha256.Size]byte

// NewSecret returns the secret of token, or nil for the empty token (none).
func NewSecret(token string) *Secret {
	if token == "" {
		return nil
	}
	s := Secret(sha256.Sum256([]byte(token)))
	return &s
}

// Matches reports, in constant time, whether tok is the token of s.
func (s *Secret) Matches(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], s[:]) == 1
}

// RequestToken returns the token a request presents: the bearer token of
// its Authorization header, or else its "token" query parameter (browsers
// cannot set headers on a WebSocket). ok is false when it presents none,
// or an Authorization header of another scheme.
func RequestToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
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
