package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
)

// An Encoder writes XML-RPC documents. Its zero value writes only what
// Flood's parser accepts (int as <i4> or <i8>, boolean, string, array,
// struct) plus base64, which rTorrent's load.raw needs; a Double or Nil
// value is an error wrapping ErrUnsupported unless allowed.
//
// The output is canonical: an XML declaration without a newline after it,
// every value typed (strings in an explicit <string>), no whitespace
// between tags, empty elements written with open and close tags. Text is
// escaped so that the Decoder gives back exactly the same Value:
// '&', '<' and '>' as entities, '\r' as "&#13;" (a literal one would be
// read back as '\n'), and the control characters U+0000 to U+001F other
// than tab and newline as "&#xN;". XML 1.0 cannot carry those control
// characters at all, so a strict XML parser rejects a document holding
// them; rTorrent's torrent names can contain them, and this package's
// Decoder reads them back. Bytes that are not valid UTF-8 are written as
// they are.
//
// An Encoder is a plain value, safe for concurrent use.
type Encoder struct {
	AllowDouble bool // write Double values as <double>
	AllowNil    bool // write Nil values as <nil/>
}

// maxEncodeDepth bounds the nesting the Encoder follows, so that a Value
// made cyclic by modifying a slice after NewArray fails instead of
// overflowing the stack.
const maxEncodeDepth = 1000

const xmlDecl = `<?xml version="1.0"?>`

// AppendCall appends a methodCall of method with params to dst. On error
// it returns dst unchanged in length, and the error names the param.
func (e Encoder) AppendCall(dst []byte, method string, params []Value) ([]byte, error) {
	n := len(dst)
	dst = append(dst, xmlDecl+"<methodCall><methodName>"...)
	dst = appendEscaped(dst, method)
	dst = append(dst, "</methodName><params>"...)
	for i, p := range params {
		var err error
		dst = append(dst, "<param><value>"...)
		if dst, err = e.appendValue(dst, p, 0); err != nil {
			return dst[:n], fmt.Errorf("param %d: %w", i, err)
		}
		dst = append(dst, "</value></param>"...)
	}
	return append(dst, "</params></methodCall>"...), nil
}

// AppendResponse appends a methodResponse whose single param is v to dst.
// On error it returns dst unchanged in length.
func (e Encoder) AppendResponse(dst []byte, v Value) ([]byte, error) {
	n := len(dst)
	dst = append(dst, xmlDecl+"<methodResponse><params><param><value>"...)
	dst, err := e.appendValue(dst, v, 0)
	if err != nil {
		return dst[:n], err
	}
	return append(dst, "</value></param></params></methodResponse>"...), nil
}

// AppendFault appends a methodResponse carrying f to dst, with faultCode
// as <i4> as rTorrent writes it (as <i8> if it does not fit 32 bits). A
// nil f is written as the zero Fault.
func AppendFault(dst []byte, f *Fault) []byte {
	if f == nil {
		f = &Fault{}
	}
	dst = append(dst, xmlDecl+"<methodResponse><fault><value><struct><member><name>faultCode</name><value>"...)
	dst = appendInt(dst, f.Code)
	dst = append(dst, "</value></member><member><name>faultString</name><value><string>"...)
	dst = appendEscaped(dst, f.Message)
	return append(dst, "</string></value></member></struct></value></fault></methodResponse>"...)
}

// appendValue appends the inside of a <value> element.
func (e Encoder) appendValue(dst []byte, v Value, depth int) ([]byte, error) {
	switch v.kind {
	case Nil:
		if !e.AllowNil {
			return dst, fmt.Errorf("%w: nil", ErrUnsupported)
		}
		return append(dst, "<nil/>"...), nil
	case Int:
		return appendInt(dst, v.num), nil
	case Bool:
		if v.num != 0 {
			return append(dst, "<boolean>1</boolean>"...), nil
		}
		return append(dst, "<boolean>0</boolean>"...), nil
	case String:
		dst = append(dst, "<string>"...)
		dst = appendEscaped(dst, v.str)
		return append(dst, "</string>"...), nil
	case Double:
		if !e.AllowDouble {
			return dst, fmt.Errorf("%w: double", ErrUnsupported)
		}
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return dst, fmt.Errorf("%w: double %v has no XML-RPC form", ErrUnsupported, f)
		}
		// Plain decimal notation, as the XML-RPC specification asks; -1
		// precision gives the shortest text that reads back exactly.
		dst = append(dst, "<double>"...)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		return append(dst, "</double>"...), nil
	case Base64:
		dst = append(dst, "<base64>"...)
		dst = base64.StdEncoding.AppendEncode(dst, []byte(v.str))
		return append(dst, "</base64>"...), nil
	case DateTime:
		dst = append(dst, "<dateTime.iso8601>"...)
		dst = appendEscaped(dst, v.str)
		return append(dst, "</dateTime.iso8601>"...), nil
	case Array:
		if depth >= maxEncodeDepth {
			return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxEncodeDepth)
		}
		dst = append(dst, "<array><data>"...)
		for _, elem := range v.list {
			var err error
			dst = append(dst, "<value>"...)
			if dst, err = e.appendValue(dst, elem, depth+1); err != nil {
				return dst, err
			}
			dst = append(dst, "</value>"...)
		}
		return append(dst, "</data></array>"...), nil
	case Struct:
		if depth >= maxEncodeDepth {
			return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxEncodeDepth)
		}
		dst = append(dst, "<struct>"...)
		for i := 0; i+1 < len(v.list); i += 2 {
			var err error
			dst = append(dst, "<member><name>"...)
			dst = appendEscaped(dst, v.list[i].str)
			dst = append(dst, "</name><value>"...)
			if dst, err = e.appendValue(dst, v.list[i+1], depth+1); err != nil {
				return dst, fmt.Errorf("member %q: %w", v.list[i].str, err)
			}
			dst = append(dst, "</value></member>"...)
		}
		return append(dst, "</struct>"...), nil
	}
	return dst, fmt.Errorf("%w: %v", ErrUnsupported, v.kind)
}

// appendInt writes n as <i4> when it fits 32 bits, as <i8> otherwise.
func appendInt(dst []byte, n int64) []byte {
	if n == int64(int32(n)) {
		dst = append(dst, "<i4>"...)
		dst = strconv.AppendInt(dst, n, 10)
		return append(dst, "</i4>"...)
	}
	dst = append(dst, "<i8>"...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "</i8>"...)
}

// needsEscape marks the bytes appendEscaped replaces.
var needsEscape = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t' && c != '\n'
	}
	t['&'], t['<'], t['>'] = true, true, true
	return t
}()

// appendEscaped appends s as XML text that decodes back to s exactly.
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !needsEscape[c] {
			continue
		}
		dst = append(dst, s[last:i]...)
		last = i + 1
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '\r':
			dst = append(dst, "&#13;"...)
		default:
			if c >= 0x10 {
				dst = append(dst, "&#x1"...)
			} else {
				dst = append(dst, "&#x"...)
			}
			dst = append(dst, "0123456789ABCDEF"[c&0xF], ';')
		}
	}
	return append(dst, s[last:]...)
}
