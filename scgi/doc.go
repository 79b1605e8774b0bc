// Package scgi speaks SCGI, the framing rTorrent uses for its XML-RPC
// interface, in both directions: a Client that calls rTorrent, and a Server
// that puts an http.Handler in front of legacy SCGI clients (Flood,
// ruTorrent, rtxmlrpc scripts) so the same handler serves HTTP and SCGI.
//
// # Framing
//
// A request is a netstring of NUL-separated header pairs, then the body:
//
//	65:CONTENT_LENGTH\x0013\x00SCGI\x001\x00CONTENT_TYPE\x00text/xml\x00REQUEST_URI\x00/RPC2\x00,<methodCall/>
//
// CONTENT_LENGTH comes first, as rTorrent compares those bytes literally.
// AppendRequest writes requests and ReadRequest parses them within Limits.
// A response is CGI-style: "Status: 200 OK", header lines, a blank line, the
// body; ReadResponse parses it. One connection carries one request.
//
// ReadRequest accepts a request without the SCGI=1 header, as rTorrent 0.9.8
// does and some old clients need; an SCGI header with another value is
// malformed.
//
// # Client
//
// Client.Do dials (unix or TCP), writes the request, half-closes, and
// returns the response as soon as its header block is read. Connection
// failures (refused, socket missing, backlog full, connect timeout) are
// retried with backoff, since a busy rTorrent drops RPC connections; nothing
// is retried once the request may have been sent.
//
// # Server
//
// Server.Serve answers each connection with its Handler, building the
// request from the SCGI headers with defaults for the few that Flood and
// rtxmlrpc send (see Server). Request.RemoteAddr comes from the connection,
// never from the client's REMOTE_ADDR: host:port for TCP, "unix:" and the
// server's socket path for a unix socket.
//
// Responses up to Server.BufferBytes go out with a Content-Length; larger
// ones, or flushed ones, stream without and end when the connection closes,
// which is how SCGI clients read anyway. A missing Content-Type is sniffed
// as net/http does (XML bodies become "text/xml; charset=utf-8"). Requests
// that cannot be read get an immediate plain-text 400 (413 when too large)
// naming the reason, and a closed connection.
package scgi
