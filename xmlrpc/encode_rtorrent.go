package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// RTorrentLayout is how rTorrent writes a reply (0.9.8 and 0.16.17 alike:
// both write through xmlrpc-c). Answering a call the way rTorrent would,
// byte for byte, takes this layout:
//
//	<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n
//	<param><value><array><data>\r\n<value><i8>1</i8></value>\r\n</data></array></value></param>\r\n
//	</params>\r\n</methodResponse>\r\n
//
// Every integer is an <i8>, array elements and struct members end their
// line with CRLF, base64 is wrapped in lines of 76 characters, and only
// '&', '<' and '>' are escaped. xmlrpc-c writes '?' for a control
// character other than tab and newline and for a byte that is not UTF-8,
// and a newline for a carriage return; so does this layout, so that a
// string read from rTorrent is written back exactly as rTorrent wrote it.
type RTorrentLayout struct{}

const rtorrentDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"

// AppendResponse appends a methodResponse whose single param is v to dst,
// in rTorrent's layout. Doubles and nils are written as <double> and
// <nil/>, which rTorrent never sends. On error it returns dst unchanged in
// length.
func (RTorrentLayout) AppendResponse(dst []byte, v Value) ([]byte, error) {
	n := len(dst)
	dst = append(dst, rtorrentDecl+"<methodResponse>\r\n<params>\r\n<param><value>"...)
	dst, err := appendValueRT(dst, v, 0)
	if err != nil {
		return dst[:n], err
	}
	return append(dst, "</value></param>\r\n</params>\r\n</methodResponse>\r\n"...), nil
}

// AppendFault appends a methodResponse carrying f to dst, in rTorrent's
// layout (faultCode as <i4>).
func (RTorrentLayout) AppendFault(dst []byte, f *Fault) []byte {
	if f == nil {
		f = &Fault{}
	}
	dst = append(dst, rtorrentDecl+"<methodResponse>\r\n<fault>\r\n<value><struct>\r\n<member><name>faultCode</name>\r\n<value><i4>"...)
	dst = strconv.AppendInt(dst, f.Code, 10)
	dst = append(dst, "</i4></value></member>\r\n<member><name>faultString</name>\r\n<value><string>"...)
	dst = appendEscapedRT(dst, f.Message)
	return append(dst, "</string></value></member>\r\n</struct></value>\r\n</fault>\r\n</methodResponse>\r\n"...)
}

func appendValueRT(dst []byte, v Value, depth int) ([]byte, error) {
	switch v.kind {
	case Nil:
		return append(dst, "<nil/>"...), nil
	case Int:
		dst = append(dst, "<i8>"...)
		dst = strconv.AppendInt(dst, v.num, 10)
		return append(dst, "</i8>"...), nil
	case Bool:
		if v.num != 0 {
			return append(dst, "<boolean>1</boolean>"...), nil
		}
		return append(dst, "<boolean>0</boolean>"...), nil
	case String:
		dst = append(dst, "<string>"...)
		dst = appendEscapedRT(dst, v.str)
		return append(dst, "</string>"...), nil
	case Double:
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return dst, fmt.Errorf("%w: double %v has no XML-RPC form", ErrUnsupported, f)
		}
		dst = append(dst, "<double>"...)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		return append(dst, "</double>"...), nil
	case Base64:
		dst = append(dst, "<base64>\r\n"...)
		enc := base64.StdEncoding.AppendEncode(nil, []byte(v.str))
		for len(enc) > 0 {
			k := min(len(enc), 76)
			dst = append(dst, enc[:k]...)
			dst = append(dst, "\r\n"...)
			enc = enc[k:]
		}
		return append(dst, "</base64>"...), nil
	case DateTime:
		dst = append(dst, "<dateTime.iso8601>"...)
		dst = appendEscapedRT(dst, v.str)
		return append(dst, "</dateTime.iso8601>"...), nil
	case Array:
		if depth >= maxEncodeDepth {
			return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxEncodeDepth)
		}
		dst = append(dst, "<array><data>\r\n"...)
		for _, elem := range v.list {
			var err error
			dst = append(dst, "<value>"...)
			if dst, err = appendValueRT(dst, elem, depth+1); err != nil {
				return dst, err
			}
			dst = append(dst, "</value>\r\n"...)
		}
		return append(dst, "</data></array>"...), nil
	case Struct:
		if depth >= maxEncodeDepth {
			return dst, fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxEncodeDepth)
		}
		dst = append(dst, "<struct>\r\n"...)
		for i := 0; i+1 < len(v.list); i += 2 {
			var err error
			dst = append(dst, "<member><name>"...)
			dst = appendEscapedRT(dst, v.list[i].str)
			dst = append(dst, "</name>\r\n<value>"...)
			if dst, err = appendValueRT(dst, v.list[i+1], depth+1); err != nil {
				return dst, fmt.Errorf("member %q: %w", v.list[i].str, err)
			}
			dst = append(dst, "</value></member>\r\n"...)
		}
		return append(dst, "</struct>"...), nil
	}
	return dst, fmt.Errorf("%w: %v", ErrUnsupported, v.kind)
}

// appendEscapedRT appends s as xmlrpc-c writes it; see RTorrentLayout.
func appendEscapedRT(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				dst = append(dst, '?')
				i++
				continue
			}
			dst = append(dst, s[i:i+size]...)
			i += size
			continue
		}
		switch {
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>':
			dst = append(dst, "&gt;"...)
		case c == '\r':
			dst = append(dst, '\n')
		case c < 0x20 && c != '\t' && c != '\n':
			dst = append(dst, '?')
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}
