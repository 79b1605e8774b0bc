// Package jsonrpc is rTorrent's JSON-RPC dialect (jesec's rTorrent,
// rTorrent >= 0.15) as rtgate's doors speak it: requests parsed and
// translated into the XML-RPC calls rTorrent 0.9.8 runs, answers written
// back in JSON, a batch sent as one system.multicall, and the error codes
// of package protocol.
//
//	reqs, batch, top := jsonrpc.Parse(body)
//	// check each request against the policy, then:
//	jsonrpc.CallBatch(ctx, backend, send, call, answer)
//	out = jsonrpc.AppendResult(out, req.ID, value)
//
// JSON-RPC 2.0 as jesec's rTorrent speaks it: positional params, params[0]
// the target; a batch is a JSON array; a request without an id is a
// notification, run and not answered. Answers are single lines with keys
// sorted (Flood parses what follows the reply's last newline).
//
// Params, JSON to XML-RPC:
//
//	integer                    int (i4/i8)
//	true, false                1, 0 (rTorrent has no booleans)
//	string                     string
//	array                      array
//	object                     struct, members sorted by key
//	1.5, 1e3, null             error -32602 (rTorrent has no float, no nil)
//	"data:...;base64,..."      base64, as load.*'s torrent (see below)
//
// Results, XML-RPC to JSON:
//
//	i4, i8                     number
//	string, dateTime.iso8601   string
//	array                      array
//	struct                     object, members in order
//	boolean                    1 or 0
//	base64                     standard base64 string
//	double                     number (0 if not finite)
//	nil, void answers          0, never null (Flood takes null for an error)
//
// Strings that are not UTF-8 become U+FFFD. Flood's JSON mode adds torrents
// with load.start_throw / load.throw and a data URI; 0.9.8 has neither
// command, so a data URI turns the call into load.raw_start / load.raw with
// the decoded bytes, and the answer is the torrent's info hash (what
// Flood collects); a data URI that is not a torrent is error -32602.
// load.throw and load.start_throw with a URL or path become load.normal and
// load.start.
//
// Errors: -32700 parse, -32600 invalid request, -32601 rTorrent's -506 (no
// such method), -32602 params the dialect cannot carry and rTorrent's -501
// and -503 (bad target, type, view or command), -32000 other faults with
// rTorrent's message, and -507 for a policy refusal: the code XML-RPC
// clients see, outside JSON-RPC's reserved range, so every door reports a
// refusal alike. Flood treats any error as an error.
package jsonrpc
