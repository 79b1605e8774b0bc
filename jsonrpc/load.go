package jsonrpc

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/xmlrpc"
)

// dataURIBytes returns the bytes of a base64 data URI ("data:base64,...",
// "data:application/x-bittorrent;base64,..."), the JSON dialect's way of
// passing a torrent file.
func dataURIBytes(s string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return nil, false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok || !(meta == "base64" || strings.HasSuffix(meta, ";base64")) {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, false
	}
	return b, true
}

// loadRaw maps the load commands that take a file, URL or magnet to the
// ones that take the torrent's bytes; load.throw and load.start_throw are
// jesec's (0.9.8 lacks them).
var loadRaw = map[string]string{
	"load.normal":        "load.raw",
	"load.throw":         "load.raw",
	"load.verbose":       "load.raw_verbose",
	"load.start":         "load.raw_start",
	"load.start_throw":   "load.raw_start",
	"load.start_verbose": "load.raw_start_verbose",
}

// translateLoad rewrites a JSON call adding a torrent for an XML-RPC
// rTorrent. Flood's JSON mode sends load.start_throw / load.throw with
// ["", "data:applications/x-bittorrent;base64,...", commands...]; a data
// URI becomes load.raw_start / load.raw with the decoded bytes as base64,
// and the result (0 from rTorrent) becomes the torrent's info hash, which
// Flood collects. Without a data URI, load.throw and load.start_throw
// become load.normal and load.start. A data URI passed to load.raw* is
// decoded the same way.
//
// result is the value to answer instead of rTorrent's, if any; err is for
// a data URI that is not a torrent, which a *_throw command must refuse.
func translateLoad(method string, params []xmlrpc.Value) (string, []xmlrpc.Value, *xmlrpc.Value, error) {
	if !strings.HasPrefix(method, "load.") || len(params) < 2 || params[1].Kind() != xmlrpc.String {
		return method, params, nil, nil
	}
	data, isData := dataURIBytes(params[1].String())
	throw := strings.HasSuffix(method, "_throw") || method == "load.throw"
	if !isData {
		switch method {
		case "load.throw":
			method = "load.normal"
		case "load.start_throw":
			method = "load.start"
		}
		return method, params, nil, nil
	}
	raw, ok := loadRaw[method]
	if !ok {
		if !strings.HasPrefix(method, "load.raw") {
			return method, params, nil, nil
		}
		raw = method
	}
	out := append([]xmlrpc.Value(nil), params...)
	out[1] = xmlrpc.NewBase64(data)
	hash, err := infohash.Of(string(data))
	if err != nil {
		if throw {
			return "", nil, nil, fmt.Errorf("%w: the data URI does not hold a torrent file", ErrParams)
		}
		return raw, out, nil, nil
	}
	if throw {
		result := xmlrpc.NewString(hash)
		return raw, out, &result, nil
	}
	return raw, out, nil, nil
}
