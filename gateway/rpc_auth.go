package gateway

import (
	"crypto/sha256"
	"net/http"
)

// RequireToken wraps the HTTP /RPC2 door so that every request must present
// token: as "Authorization: Bearer <token>", the "token" query parameter,
// or the password of HTTP Basic auth (what Python's xmlrpc.client sends for
// http://user:token@host/RPC2). Anything else is answered 401 before the
// body is read. The comparison is constant-time. An empty token returns h
// unchanged; CheckListener says where that is safe.
func RequireToken(h http.Handler, token string) http.Handler {
	if token == "" {
		return h
	}
	want := tokenHash(sha256.Sum256([]byte(token)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := requestToken(r)
		if !ok {
			_, tok, ok = r.BasicAuth()
		}
		if !ok || !want.matches(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rtgate", Basic realm="rtgate"`)
			plainError(w, http.StatusUnauthorized, "rtgate: a valid token is required (Authorization: Bearer, or HTTP Basic with the token as password)")
			return
		}
		h.ServeHTTP(w, r)
	})
}
