// Package ws is rtgate's WebSocket door: JSON-RPC calls to rTorrent in its
// JSON dialect (package jsonrpc) through a Caller and the method policy,
// and topic subscriptions from a topics.Hub — a snapshot, then ordered
// changes, with exact resume — in two dialects: rtgate's at /ws and
// rtorrent-ws's at /rtorrent-ws. docs/protocol.md is the protocol.
//
//	up := gateway.NewCoalescer(client, nil)  // or any Caller
//	h := ws.New(up, hub, &ws.Options{Token: token, Policy: pol})
//	mux.Handle(ws.DefaultPath, h)
//	mux.Handle(ws.DefaultCompatPath, h)
//	defer h.Close() // hijacked connections are not the http.Server's
package ws
