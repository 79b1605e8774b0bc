package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"strconv"
)

// This file parses the inside of a <value>: the typed scalars, arrays and
// structs.

// The literals of rTorrent's layout that the hot path matches word-wise.
var (
	wValueString = newWord8("<value><string>")
	wEndString   = newWord8("</string></value>")
	wValueI8     = newWord8("<value><i8>")
	wEndI8       = newWord8("</i8></value>")
)

// value parses the inside of a <value> whose start tag has been consumed,
// through its end tag. depth is the number of arrays and structs around
// it.
func (d *Decoder) value(depth int) (Value, error) {
	// rTorrent writes every value typed, without whitespace: try its two
	// layouts before the general path.
	if d.at("<string>") {
		d.pos += len("<string>")
		v, err := d.stringText()
		if err != nil {
			return Value{}, err
		}
		return v, d.close("</value>")
	}
	if d.at("<i8>") {
		d.pos += len("<i8>")
		v, err := d.intText("</i8>")
		if err != nil {
			return Value{}, err
		}
		return v, d.close("</value>")
	}

	text, err := d.text()
	if err != nil {
		return Value{}, err
	}
	if !isAllSpace(text) {
		// Untyped: the text is the string, and </value> must follow.
		v := Value{kind: String, str: d.str(text)}
		return v, d.close("</value>")
	}
	d.ws = append(d.ws[:0], text...)
	at := d.offset(d.pos)
	kind, name, err := d.tag()
	if err != nil {
		return Value{}, err
	}
	if kind == endTag {
		if string(name) != "value" {
			return Value{}, d.unexpected(at, "</value>", kind, name)
		}
		return Value{kind: String, str: d.str(d.ws)}, nil
	}
	empty := kind == emptyTag
	var v Value
	switch string(name) {
	case "string":
		v.kind = String
		if !empty {
			v, err = d.stringText()
		}
	case "i4":
		v, err = d.intTag(at, empty, "</i4>")
	case "i8":
		v, err = d.intTag(at, empty, "</i8>")
	case "int":
		v, err = d.intTag(at, empty, "</int>")
	case "boolean":
		v, err = d.scalar(at, empty, "</boolean>", Bool)
	case "double":
		v, err = d.scalar(at, empty, "</double>", Double)
	case "base64":
		v.kind = Base64
		if !empty {
			v, err = d.base64Text()
		}
	case "dateTime.iso8601":
		v.kind = DateTime
		if !empty {
			v, err = d.scalar(at, empty, "</dateTime.iso8601>", DateTime)
		}
	case "nil":
		if !empty {
			err = d.close("</nil>")
		}
	case "array":
		if depth >= d.maxDepth {
			return Value{}, d.tooDeep(at)
		}
		if empty {
			return Value{}, d.syntaxError(at, "<array/> has no <data>")
		}
		v, err = d.array(depth + 1)
	case "struct":
		if depth >= d.maxDepth {
			return Value{}, d.tooDeep(at)
		}
		v = Value{kind: Struct, list: noValues}
		if !empty {
			v, err = d.structure(depth + 1)
		}
	default:
		return Value{}, d.syntaxError(at, "unknown type <%s>", name)
	}
	if err != nil {
		return Value{}, err
	}
	return v, d.close("</value>")
}

func (d *Decoder) tooDeep(at int64) error {
	return fmt.Errorf("%w: at byte %d: more than %d levels", ErrTooDeep, at, d.maxDepth)
}

// stringText parses the text of a <string> through its end tag.
func (d *Decoder) stringText() (Value, error) {
	text, err := d.text()
	if err != nil {
		return Value{}, err
	}
	v := Value{kind: String, str: d.str(text)}
	return v, d.close("</string>")
}

// intTag parses an integer element whose start tag has been consumed.
func (d *Decoder) intTag(at int64, empty bool, end string) (Value, error) {
	if empty {
		return Value{}, d.syntaxError(at, "empty <%s>", end[2:len(end)-1])
	}
	return d.intText(end)
}

// digits parses an integer written the way rTorrent writes them, digits
// with an optional '-' directly followed by a tag, and consumes it. It
// reports false, consuming nothing, for anything else, including
// numbers that might overflow and those crossing the window's end.
func (d *Decoder) digits() (int64, bool) {
	b := d.buf[d.pos:d.end]
	neg := len(b) > 0 && b[0] == '-'
	i := 0
	if neg {
		i++
	}
	var u uint64
	for j := i; j < len(b); j++ {
		c := b[j] - '0'
		if c > 9 {
			if b[j] != '<' || j == i || j-i > 18 {
				return 0, false
			}
			d.pos += j
			if neg {
				return -int64(u), true
			}
			return int64(u), true
		}
		u = u*10 + uint64(c)
	}
	return 0, false
}

// intText parses the text of an integer element through its end tag end.
func (d *Decoder) intText(end string) (Value, error) {
	if n, ok := d.digits(); ok {
		return Value{kind: Int, num: n}, d.close(end)
	}
	at := d.offset(d.pos)
	text, err := d.text()
	if err != nil {
		return Value{}, err
	}
	n, ok := parseInt(text)
	if !ok {
		return Value{}, d.syntaxError(at, "invalid integer %s", quoteShort(text))
	}
	return Value{kind: Int, num: n}, d.close(end)
}

// scalar parses the text of a boolean, double or dateTime element through
// its end tag.
func (d *Decoder) scalar(at int64, empty bool, end string, kind Kind) (Value, error) {
	var text []byte
	if !empty {
		var err error
		if text, err = d.text(); err != nil {
			return Value{}, err
		}
	}
	v := Value{kind: kind}
	switch kind {
	case Bool:
		switch string(trimSpace(text)) {
		case "1":
			v.num = 1
		case "0":
		default:
			return Value{}, d.syntaxError(at, "invalid boolean %s", quoteShort(text))
		}
	case Double:
		f, ok := parseDouble(text)
		if !ok {
			return Value{}, d.syntaxError(at, "invalid double %s", quoteShort(text))
		}
		v = NewDouble(f)
	case DateTime:
		v.str = d.str(text)
	}
	if empty {
		return v, nil
	}
	return v, d.close(end)
}

// base64Text parses the text of a <base64> through its end tag.
// Whitespace inside is ignored and padding is optional.
func (d *Decoder) base64Text() (Value, error) {
	at := d.offset(d.pos)
	text, err := d.text()
	if err != nil {
		return Value{}, err
	}
	d.b64 = d.b64[:0]
	for _, c := range text {
		if !isSpace(c) {
			d.b64 = append(d.b64, c)
		}
	}
	enc := base64.StdEncoding
	if len(d.b64)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	if n := enc.DecodedLen(len(d.b64)); cap(d.bin) < n {
		d.bin = make([]byte, n)
	}
	n, err := enc.Decode(d.bin[:cap(d.bin)], d.b64)
	if err != nil {
		return Value{}, d.syntaxError(at, "invalid base64: %v", err)
	}
	v := Value{kind: Base64, str: string(d.bin[:n])}
	return v, d.close("</base64>")
}

// array parses the inside of an <array> through its end tag. depth
// counts the array itself.
func (d *Decoder) array(depth int) (Value, error) {
	empty, err := d.open("<data>")
	if err != nil {
		return Value{}, err
	}
	mark := len(d.stack)
	for done := empty; !done; {
		if err := d.skipMisc(); err != nil {
			return Value{}, err
		}
		// rTorrent's layouts first. Near the end of the window they fall
		// through to the general path, which reads on.
		if d.atWord(&wValueString) {
			d.pos += len("<value><string>")
			text, err := d.text()
			if err != nil {
				return Value{}, err
			}
			d.stack = append(d.stack, Value{kind: String, str: d.str(text)})
			if d.atWord(&wEndString) {
				d.pos += len("</string></value>")
				continue
			}
			if err := d.closeSlow("</string>"); err != nil {
				return Value{}, err
			}
			if err := d.close("</value>"); err != nil {
				return Value{}, err
			}
			continue
		}
		if d.atWord(&wValueI8) {
			d.pos += len("<value><i8>")
			n, ok := d.digits()
			if ok && d.atWord(&wEndI8) {
				d.pos += len("</i8></value>")
				d.stack = append(d.stack, Value{kind: Int, num: n})
				continue
			}
			v, err := Value{kind: Int, num: n}, error(nil)
			if ok {
				err = d.close("</i8>")
			} else {
				v, err = d.intText("</i8>")
			}
			if err != nil {
				return Value{}, err
			}
			d.stack = append(d.stack, v)
			if err := d.close("</value>"); err != nil {
				return Value{}, err
			}
			continue
		}
		if d.lit("<value>") {
			v, err := d.value(depth)
			if err != nil {
				return Value{}, err
			}
			d.stack = append(d.stack, v)
			continue
		}
		at := d.offset(d.pos)
		kind, name, err := d.tag()
		if err != nil {
			return Value{}, err
		}
		switch {
		case kind == endTag && string(name) == "data":
			done = true
		case kind == emptyTag && string(name) == "value":
			d.stack = append(d.stack, Value{kind: String})
		case kind == startTag && string(name) == "value":
			v, err := d.value(depth)
			if err != nil {
				return Value{}, err
			}
			d.stack = append(d.stack, v)
		default:
			return Value{}, d.unexpected(at, "<value> or </data>", kind, name)
		}
	}
	if err := d.close("</array>"); err != nil {
		return Value{}, err
	}
	return Value{kind: Array, list: d.carve(mark)}, nil
}

// structure parses the inside of a <struct> through its end tag. depth
// counts the struct itself.
func (d *Decoder) structure(depth int) (Value, error) {
	mark := len(d.stack)
	for {
		if err := d.skipMisc(); err != nil {
			return Value{}, err
		}
		if !d.lit("<member>") {
			at := d.offset(d.pos)
			kind, name, err := d.tag()
			if err != nil {
				return Value{}, err
			}
			if kind == endTag && string(name) == "struct" {
				break
			}
			if kind != startTag || string(name) != "member" {
				return Value{}, d.unexpected(at, "<member> or </struct>", kind, name)
			}
		}
		empty, err := d.open("<name>")
		if err != nil {
			return Value{}, err
		}
		var name string
		if !empty {
			text, err := d.text()
			if err != nil {
				return Value{}, err
			}
			name = d.str(text)
			if err := d.close("</name>"); err != nil {
				return Value{}, err
			}
		}
		if empty, err = d.open("<value>"); err != nil {
			return Value{}, err
		}
		v := Value{kind: String}
		if !empty {
			if v, err = d.value(depth); err != nil {
				return Value{}, err
			}
		}
		if err := d.close("</member>"); err != nil {
			return Value{}, err
		}
		d.stack = append(d.stack, Value{kind: String, str: name}, v)
	}
	return Value{kind: Struct, list: d.carve(mark)}, nil
}

// parseInt parses a decimal int64 with optional sign and surrounding
// whitespace, without allocating.
func parseInt(b []byte) (int64, bool) {
	b = trimSpace(b)
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit = 1 << 63
	}
	var u uint64
	for _, c := range b {
		digit := uint64(c - '0')
		if digit > 9 || u > (limit-digit)/10 {
			return 0, false
		}
		u = u*10 + digit
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// parseDouble parses a decimal number: optional sign, digits with an
// optional fraction, an optional exponent. Infinities, NaN, hexadecimal
// and values out of range are rejected.
func parseDouble(b []byte) (float64, bool) {
	b = trimSpace(b)
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i]-'0' <= 9 {
			i++
			n++
		}
		return n
	}
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	n := digits()
	if i < len(b) && b[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	if i != len(b) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// quoteShort quotes up to 32 bytes of b for an error message.
func quoteShort(b []byte) string {
	if len(b) > 32 {
		return strconv.Quote(string(b[:32])) + "..."
	}
	return strconv.Quote(string(b))
}
