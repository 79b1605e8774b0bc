// Package auth is who may use rtgate's doors: tokens (kept as hashes,
// compared in constant time, presented as a bearer token, a query
// parameter or an HTTP Basic password), the HTTP guard that asks for them,
// and which listeners need one at all.
//
//	if err := auth.CheckListener(l.Addr(), token); err != nil {
//		return err // a listener off loopback needs a token
//	}
//	mux.Handle("/RPC2", auth.RequireToken(rpcHandler, token))
package auth
