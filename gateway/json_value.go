package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rtgate/rtgate/xmlrpc"
)

// This file translates values between rTorrent's JSON-RPC dialect (jesec's
// rtorrent, rTorrent >= 0.15) and XML-RPC, both ways.
//
// JSON to XML-RPC, as jesec's json_to_object does: an integer is an Int,
// true and false are 1 and 0, a string is a String, an array an Array; a
// number with a fraction or exponent, and null, are invalid params. An
// object, which jesec refuses, becomes a Struct (sorted by key), so that
// system.multicall can be called by name as well as by batch.
//
// XML-RPC to JSON, as jesec's object_to_json does: Int is a number, String a
// string, Array an array, Struct an object; rTorrent has no booleans (Bool
// is 1 or 0) and no null (Nil is 0, as jesec answers a void command), so a
// result is never null, which Flood would take for an error. Base64 is a
// standard base64 string, Double a number (0 if not finite). Bytes that are
// not UTF-8 (torrent names can hold them) become U+FFFD, as JSON must be
// UTF-8.

// maxJSONDepth bounds array and object nesting in JSON params, as the XML
// decoder bounds it.
const maxJSONDepth = 32

// jsonToValues converts a JSON params array to XML-RPC values.
func jsonToValues(raw json.RawMessage) ([]xmlrpc.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var list []any
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%w: %v", errParams, err)
	}
	out := make([]xmlrpc.Value, len(list))
	for i, x := range list {
		v, err := jsonToValue(x, 1)
		if err != nil {
			return nil, fmt.Errorf("param %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

func jsonToValue(x any, depth int) (xmlrpc.Value, error) {
	switch x := x.(type) {
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			return xmlrpc.Value{}, fmt.Errorf("%w: %s is not an integer (rTorrent has no floating point)", errParams, s)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return xmlrpc.Value{}, fmt.Errorf("%w: %s does not fit 64 bits", errParams, s)
		}
		return xmlrpc.NewInt(n), nil
	case bool:
		if x {
			return xmlrpc.NewInt(1), nil
		}
		return xmlrpc.NewInt(0), nil
	case string:
		return xmlrpc.NewString(x), nil
	case []any:
		if depth >= maxJSONDepth {
			return xmlrpc.Value{}, fmt.Errorf("%w: nested more than %d deep", errParams, maxJSONDepth)
		}
		elems := make([]xmlrpc.Value, len(x))
		for i, e := range x {
			v, err := jsonToValue(e, depth+1)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			elems[i] = v
		}
		return xmlrpc.NewArray(elems...), nil
	case map[string]any:
		if depth >= maxJSONDepth {
			return xmlrpc.Value{}, fmt.Errorf("%w: nested more than %d deep", errParams, maxJSONDepth)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		members := make([]xmlrpc.Member, len(keys))
		for i, k := range keys {
			v, err := jsonToValue(x[k], depth+1)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			members[i] = xmlrpc.Member{Name: k, Value: v}
		}
		return xmlrpc.NewStruct(members...), nil
	case nil:
		return xmlrpc.Value{}, fmt.Errorf("%w: null (rTorrent has no null)", errParams)
	}
	return xmlrpc.Value{}, fmt.Errorf("%w: unexpected %T", errParams, x)
}

// appendJSON appends v as JSON, on one line.
func appendJSON(dst []byte, v xmlrpc.Value) []byte {
	switch v.Kind() {
	case xmlrpc.Int:
		return strconv.AppendInt(dst, v.Int(), 10)
	case xmlrpc.Bool:
		if v.Bool() {
			return append(dst, '1')
		}
		return append(dst, '0')
	case xmlrpc.String, xmlrpc.DateTime:
		return appendJSONString(dst, v.String())
	case xmlrpc.Base64:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, []byte(v.String()))
		return append(dst, '"')
	case xmlrpc.Double:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(dst, '0')
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case xmlrpc.Array:
		dst = append(dst, '[')
		for i, e := range v.Values() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, e)
		}
		return append(dst, ']')
	case xmlrpc.Struct:
		dst = append(dst, '{')
		first := true
		for name, m := range v.Members() {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, name)
			dst = append(dst, ':')
			dst = appendJSON(dst, m)
		}
		return append(dst, '}')
	}
	return append(dst, '0') // Nil: a void answer
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped (so the output never holds a newline), bytes
// that are not UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript source: escape as
			// encoding/json does.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
		default:
			i += size
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

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
	hash, err := infoHash(string(data))
	if err != nil {
		if throw {
			return "", nil, nil, fmt.Errorf("%w: the data URI does not hold a torrent file", errParams)
		}
		return raw, out, nil, nil
	}
	if throw {
		result := xmlrpc.NewString(hash)
		return raw, out, &result, nil
	}
	return raw, out, nil, nil
}
