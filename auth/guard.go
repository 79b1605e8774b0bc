package auth

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
)

// TokenGuard guards an HTTP handler (the /RPC2 door): every request must
// present the token, as "Authorization: Bearer <token>", the "token" query
// parameter, or the password of HTTP Basic auth (what Python's
// xmlrpc.client sends for http://user:token@host/RPC2). Anything else is
// answered 401 before the body is read. The comparison is constant-time.
// With no token set the guard lets everything through; CheckListener says
// where that is safe. A TokenGuard is safe for concurrent use; SetToken
// rotates the token.
type TokenGuard struct {
	next http.Handler
	want atomic.Pointer[Secret] // nil: no token
}

// RequireToken returns a TokenGuard of h requiring token ("" for none).
func RequireToken(h http.Handler, token string) *TokenGuard {
	g := &TokenGuard{next: h}
	g.SetToken(token)
	return g
}

// SetToken replaces the token; requests after it must present the new one.
func (g *TokenGuard) SetToken(token string) {
	g.want.Store(NewSecret(token))
}

func (g *TokenGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if want := g.want.Load(); want != nil {
		tok, ok := RequestToken(r)
		if !ok {
			_, tok, ok = r.BasicAuth()
		}
		if !ok || !want.Matches(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rtgate", Basic realm="rtgate"`)
			const msg = "rtgate: a valid token is required (Authorization: Bearer, or HTTP Basic with the token as password)\n"
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, msg)
			return
		}
	}
	g.next.ServeHTTP(w, r)
}
