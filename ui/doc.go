// Package ui is rtgate's web page and its browser client of the WebSocket
// protocol, embedded in the binary: the page at "/", the client module at
// "/rtgate.js" (docs/ui.md is its API), the page's modules and styles
// under "/app/". Nothing is built: the files under static/ are served as
// they are, each with its Content-Type, an ETag, gzip when the browser
// takes it, and a Content-Security-Policy that allows scripts, styles and
// connections from the page's own origin only (no inline script or style,
// no string-to-DOM sinks).
//
//	mux.Handle("/RPC2", rpc)
//	mux.Handle("/ws", wsHandler)
//	mux.Handle("/", ui.Handler()) // every other path: the page, or 404
package ui
