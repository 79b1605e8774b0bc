package gateway

import (
	"crypto/sha256"
	"net/http"
	"sync/atomic"
)

// TokenGuard guards the HTTP /RPC2 door: every request must present the
// token, as "Authorization: Bearer <token>", the "token" query parameter,
// or the password of HTTP Basic auth (what Python's xmlrpc.client sends for
// http://user:token@host/RPC2). Anything else is answered 401 before the
// body is read. The comparison is constant-time. With no token set the
// guard lets everything through; CheckListener says where that is safe.
// A TokenGuard is safe for concurrent use; SetToken rotates the token.
type TokenGuard struct {
	next http.Handler
	want atomic.Pointer[tokenHash] // nil: no token
}

// RequireToken returns a TokenGuard of h requiring token ("" for none).
func RequireToken(h http.Handler, token string) *TokenGuard {
	g := &TokenGuard{next: h}
	g.SetToken(token)
	return g
}

// SetToken replaces the token; requests after it must present the new one.
func (g *TokenGuard) SetToken(token string) {
	if token == "" {
		g.want.Store(nil)
		return
	}
	h := tokenHash(sha256.Sum256([]byte(token)))
	g.want.Store(&h)
}

func (g *TokenGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if want := g.want.Load(); want != nil {
		tok, ok := requestToken(r)
		if !ok {
			_, tok, ok = r.BasicAuth()
		}
		if !ok || !want.matches(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rtgate", Basic realm="rtgate"`)
			plainError(w, http.StatusUnauthorized, "rtgate: a valid token is required (Authorization: Bearer, or HTTP Basic with the token as password)")
			return
		}
	}
	g.next.ServeHTTP(w, r)
}
