package jsonrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/internal/jsonenc"
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

// ToValues converts a JSON params array to XML-RPC values; see the package
// documentation for the mapping. The error wraps ErrParams.
func ToValues(raw json.RawMessage) ([]xmlrpc.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var list []any
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParams, err)
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
			return xmlrpc.Value{}, fmt.Errorf("%w: %s is not an integer (rTorrent has no floating point)", ErrParams, s)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return xmlrpc.Value{}, fmt.Errorf("%w: %s does not fit 64 bits", ErrParams, s)
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
			return xmlrpc.Value{}, fmt.Errorf("%w: nested more than %d deep", ErrParams, maxJSONDepth)
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
			return xmlrpc.Value{}, fmt.Errorf("%w: nested more than %d deep", ErrParams, maxJSONDepth)
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
		return xmlrpc.Value{}, fmt.Errorf("%w: null (rTorrent has no null)", ErrParams)
	}
	return xmlrpc.Value{}, fmt.Errorf("%w: unexpected %T", ErrParams, x)
}

// AppendValue appends v as JSON, on one line; see the package documentation
// for the mapping.
func AppendValue(dst []byte, v xmlrpc.Value) []byte {
	switch v.Kind() {
	case xmlrpc.Int:
		return strconv.AppendInt(dst, v.Int(), 10)
	case xmlrpc.Bool:
		if v.Bool() {
			return append(dst, '1')
		}
		return append(dst, '0')
	case xmlrpc.String, xmlrpc.DateTime:
		return jsonenc.AppendString(dst, v.String())
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
			dst = AppendValue(dst, e)
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
			dst = jsonenc.AppendString(dst, name)
			dst = append(dst, ':')
			dst = AppendValue(dst, m)
		}
		return append(dst, '}')
	}
	return append(dst, '0') // Nil: a void answer
}
