package xmlrpc

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// DecodeOptions tunes a Decoder. The zero value, and a nil pointer, mean
// the defaults.
type DecodeOptions struct {
	// MaxDepth is how deeply arrays and structs may nest: a top-level
	// array counts 1, an array inside it 2. Deeper documents fail with an
	// error wrapping ErrTooDeep. Zero means 32; values above 10000 mean
	// 10000, to bound the decoder's recursion.
	MaxDepth int
}

const (
	defaultMaxDepth = 32
	limitMaxDepth   = 10000

	// slabSize is the number of Values in one chunk that the elements of
	// small arrays and structs are carved from; bigger ones get their own
	// allocation. 512 Values stay below the runtime's 32 KiB small-object
	// limit.
	slabSize = 512

	// The string cache is direct-mapped: cacheSize slots, strings up to
	// maxCached bytes. It turns the strings a poll repeats on every row
	// (directories, tracker messages, member names) into one allocation per
	// Decoder instead of one per value.
	cacheSize = 1024
	maxCached = 128
)

// The literals of rTorrent's layout that the hot path matches word-wise.
var (
	wValueString = newWord8("<value><string>")
	wEndString   = newWord8("</string></value>")
	wValueI8     = newWord8("<value><i8>")
	wEndI8       = newWord8("</i8></value>")
)

// noValues is the list of empty arrays and structs: shared, never appended
// to in place because its capacity is zero.
var noValues = make([]Value, 0)

// A Decoder reads XML-RPC documents from an io.Reader: one document per
// NewDecoder or Reset. It reads the input in chunks through its own buffer
// and keeps its buffers across Reset, so a Decoder reused for every
// response allocates little beyond the decoded strings and lists.
//
// A Decoder is not safe for concurrent use. The Values it returns share
// nothing with it and stay valid after Reset.
type Decoder struct {
	scanner
	maxDepth int

	stack []Value // elements of the open arrays and structs
	slab  []Value // unused rest of the current slab chunk
	ws    []byte  // whitespace seen in a <value> before its type tag
	b64   []byte  // base64 text without whitespace
	bin   []byte  // decoded base64

	cache [cacheSize]string
}

// NewDecoder returns a Decoder reading from r. A nil opts means the
// defaults.
func NewDecoder(r io.Reader, opts *DecodeOptions) *Decoder {
	d := &Decoder{maxDepth: defaultMaxDepth}
	if opts != nil && opts.MaxDepth > 0 {
		d.maxDepth = min(opts.MaxDepth, limitMaxDepth)
	}
	d.Reset(r)
	return d
}

// Reset makes d read a new document from r, keeping its options and
// buffers.
func (d *Decoder) Reset(r io.Reader) {
	d.scanner.reset(r)
	if cap(d.stack) > maxKeptBuf/64 {
		d.stack = nil
	}
}

var decoderPool = sync.Pool{New: func() any { return NewDecoder(nil, nil) }}

// DecodeResponse decodes one methodResponse from r with a pooled Decoder
// and the default options. See Decoder.DecodeResponse.
func DecodeResponse(r io.Reader) (Value, error) {
	d := decoderPool.Get().(*Decoder)
	d.Reset(r)
	v, err := d.DecodeResponse()
	d.Reset(nil)
	decoderPool.Put(d)
	return v, err
}

// DecodeCall decodes one methodCall from r with a pooled Decoder and the
// default options. See Decoder.DecodeCall.
func DecodeCall(r io.Reader) (method string, params []Value, err error) {
	d := decoderPool.Get().(*Decoder)
	d.Reset(r)
	method, params, err = d.DecodeCall()
	d.Reset(nil)
	decoderPool.Put(d)
	return method, params, err
}

// DecodeResponse reads a methodResponse to the end of the input and
// returns the value of its single param. A <fault> is returned as a
// *Fault error (match it with errors.As) once the whole document has been
// checked. A malformed document gives an error wrapping ErrSyntax (and
// io.ErrUnexpectedEOF when it is cut short), one nested beyond MaxDepth an
// error wrapping ErrTooDeep; an error of the reader is returned wrapped.
func (d *Decoder) DecodeResponse() (Value, error) {
	defer d.release()
	if err := d.prolog("<methodResponse>"); err != nil {
		return Value{}, err
	}
	if err := d.skipMisc(); err != nil {
		return Value{}, err
	}
	at := d.pos
	kind, name, err := d.tag()
	if err != nil {
		return Value{}, err
	}
	var v Value
	var fault *Fault
	switch {
	case kind == startTag && string(name) == "params":
		if v, err = d.responseParams(); err != nil {
			return Value{}, err
		}
	case kind == emptyTag && string(name) == "params":
		return Value{}, d.syntaxError(at, "response has no param")
	case kind == startTag && string(name) == "fault":
		if fault, err = d.fault(); err != nil {
			return Value{}, err
		}
	default:
		return Value{}, d.unexpected(at, "<params> or <fault>", kind, name)
	}
	if err := d.close("</methodResponse>"); err != nil {
		return Value{}, err
	}
	if err := d.epilog(); err != nil {
		return Value{}, err
	}
	if fault != nil {
		return Value{}, fault
	}
	return v, nil
}

// responseParams parses the inside of a response's <params> through its
// end tag: exactly one param.
func (d *Decoder) responseParams() (Value, error) {
	if err := d.skipMisc(); err != nil {
		return Value{}, err
	}
	at := d.pos
	kind, name, err := d.tag()
	if err != nil {
		return Value{}, err
	}
	if kind != startTag || string(name) != "param" {
		if kind == endTag && string(name) == "params" {
			return Value{}, d.syntaxError(at, "response has no param")
		}
		return Value{}, d.unexpected(at, "<param>", kind, name)
	}
	v, err := d.param()
	if err != nil {
		return Value{}, err
	}
	if err := d.skipMisc(); err != nil {
		return Value{}, err
	}
	if d.lit("</params>") {
		return v, nil
	}
	at = d.pos
	kind, name, err = d.tag()
	if err != nil {
		return Value{}, err
	}
	if kind != endTag || string(name) != "params" {
		if kind != endTag && string(name) == "param" {
			return Value{}, d.syntaxError(at, "response has more than one param")
		}
		return Value{}, d.unexpected(at, "</params>", kind, name)
	}
	return v, nil
}

// param parses the inside of a <param> through its end tag.
func (d *Decoder) param() (Value, error) {
	empty, err := d.open("<value>")
	if err != nil {
		return Value{}, err
	}
	v := Value{kind: String}
	if !empty {
		if v, err = d.value(0); err != nil {
			return Value{}, err
		}
	}
	return v, d.close("</param>")
}

// fault parses the inside of <fault> through its end tag.
func (d *Decoder) fault() (*Fault, error) {
	at := d.pos
	empty, err := d.open("<value>")
	if err != nil {
		return nil, err
	}
	var v Value
	if !empty {
		if v, err = d.value(0); err != nil {
			return nil, err
		}
	}
	if err := d.close("</fault>"); err != nil {
		return nil, err
	}
	code, okCode := v.Member("faultCode")
	msg, okMsg := v.Member("faultString")
	if !okCode || code.kind != Int || !okMsg || msg.kind != String {
		return nil, d.syntaxError(at, "malformed fault: want a struct of faultCode int and faultString string")
	}
	return &Fault{Code: code.num, Message: msg.str}, nil
}

// DecodeCall reads a methodCall to the end of the input and returns its
// method name and params. Missing <params>, <params/> and <params></params>
// all mean no params. Errors are as for DecodeResponse.
func (d *Decoder) DecodeCall() (method string, params []Value, err error) {
	defer d.release()
	if err := d.prolog("<methodCall>"); err != nil {
		return "", nil, err
	}
	empty, err := d.open("<methodName>")
	if err != nil {
		return "", nil, err
	}
	if !empty {
		text, err := d.text()
		if err != nil {
			return "", nil, err
		}
		method = d.str(text)
		if err := d.close("</methodName>"); err != nil {
			return "", nil, err
		}
	}
	if err := d.skipMisc(); err != nil {
		return "", nil, err
	}
	if !d.lit("</methodCall>") {
		at := d.pos
		kind, name, err := d.tag()
		if err != nil {
			return "", nil, err
		}
		switch {
		case kind == endTag && string(name) == "methodCall":
		case kind == emptyTag && string(name) == "params":
			err = d.close("</methodCall>")
		case kind == startTag && string(name) == "params":
			if params, err = d.callParams(); err == nil {
				err = d.close("</methodCall>")
			}
		default:
			err = d.unexpected(at, "<params> or </methodCall>", kind, name)
		}
		if err != nil {
			return "", nil, err
		}
	}
	if err := d.epilog(); err != nil {
		return "", nil, err
	}
	return method, params, nil
}

// callParams parses the inside of a call's <params> through its end tag.
func (d *Decoder) callParams() ([]Value, error) {
	mark := len(d.stack)
	for {
		if err := d.skipMisc(); err != nil {
			return nil, err
		}
		at := d.pos
		kind, name, err := d.tag()
		if err != nil {
			return nil, err
		}
		if kind == endTag && string(name) == "params" {
			break
		}
		if kind != startTag || string(name) != "param" {
			return nil, d.unexpected(at, "<param> or </params>", kind, name)
		}
		v, err := d.param()
		if err != nil {
			return nil, err
		}
		d.stack = append(d.stack, v)
	}
	if len(d.stack) == mark {
		return nil, nil
	}
	params := make([]Value, len(d.stack)-mark)
	copy(params, d.stack[mark:])
	d.stack = d.stack[:mark]
	return params, nil
}

// prolog skips what may come before the root element and consumes its
// start tag, root.
func (d *Decoder) prolog(root string) error {
	d.stack = d.stack[:0]
	_ = d.lit("\xEF\xBB\xBF") // a UTF-8 byte order mark is allowed
	if err := d.skipMisc(); err != nil {
		return err
	}
	if d.lit(root) {
		return nil
	}
	at := d.pos
	kind, name, err := d.tag()
	if err != nil {
		return err
	}
	return d.unexpected(at, root, kind, name)
}

// release drops the references the stack holds into the returned values,
// so that a Decoder kept in a pool does not pin them.
func (d *Decoder) release() {
	clear(d.stack[:cap(d.stack)])
	d.stack = d.stack[:0]
}

// open consumes the start tag lit ("<name>") or its empty form, after
// optional whitespace, and reports whether it was empty.
func (d *Decoder) open(lit string) (empty bool, err error) {
	if err := d.skipMisc(); err != nil {
		return false, err
	}
	if d.lit(lit) {
		return false, nil
	}
	at := d.pos
	kind, name, err := d.tag()
	if err != nil {
		return false, err
	}
	if kind == endTag || string(name) != lit[1:len(lit)-1] {
		return false, d.unexpected(at, lit, kind, name)
	}
	return kind == emptyTag, nil
}

// close consumes the end tag lit ("</name>"), after optional whitespace.
func (d *Decoder) close(lit string) error {
	if d.at(lit) {
		d.pos += len(lit)
		return nil
	}
	return d.closeSlow(lit)
}

func (d *Decoder) closeSlow(lit string) error {
	if err := d.skipMisc(); err != nil {
		return err
	}
	if d.lit(lit) {
		return nil
	}
	at := d.pos
	kind, name, err := d.tag()
	if err != nil {
		return err
	}
	if kind != endTag || string(name) != lit[2:len(lit)-1] {
		return d.unexpected(at, lit, kind, name)
	}
	return nil
}

func (d *Decoder) unexpected(at int, want string, kind tagKind, name []byte) error {
	var found string
	switch kind {
	case startTag:
		found = "<" + string(name) + ">"
	case endTag:
		found = "</" + string(name) + ">"
	default:
		found = "<" + string(name) + "/>"
	}
	return d.syntaxError(at, "expected %s, found %s", want, found)
}

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
	at := d.pos
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

func (d *Decoder) tooDeep(at int) error {
	return fmt.Errorf("%w: at byte %d: more than %d levels", ErrTooDeep, d.offset(at), d.maxDepth)
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
func (d *Decoder) intTag(at int, empty bool, end string) (Value, error) {
	if empty {
		return Value{}, d.syntaxError(at, "empty %s>", end[1:len(end)-1])
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
	at := d.pos
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
func (d *Decoder) scalar(at int, empty bool, end string, kind Kind) (Value, error) {
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
	at := d.pos
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
		at := d.pos
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
			at := d.pos
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

// carve moves the values above mark on the stack into a list of their own:
// a piece of the current slab chunk, or its own allocation when large.
// The full slice expression keeps an append to one list from overwriting
// the next.
func (d *Decoder) carve(mark int) []Value {
	n := len(d.stack) - mark
	if n == 0 {
		return noValues
	}
	var out []Value
	switch {
	case n > slabSize/4:
		out = make([]Value, n)
	case n <= len(d.slab):
		out = d.slab[:n:n]
		d.slab = d.slab[n:]
	default:
		d.slab = make([]Value, slabSize)
		out = d.slab[:n:n]
		d.slab = d.slab[n:]
	}
	copy(out, d.stack[mark:])
	d.stack = d.stack[:mark]
	return out
}

// str returns b as a string, from the cache when it holds the same text.
func (d *Decoder) str(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > maxCached {
		return string(b)
	}
	slot := &d.cache[hashBytes(b)%cacheSize]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	return s
}

// hashBytes is a cheap hash of a short byte string for the string cache:
// its length and its first and last eight bytes.
func hashBytes(b []byte) uint64 {
	var h uint64
	if len(b) >= 8 {
		h = binary.LittleEndian.Uint64(b) ^ binary.LittleEndian.Uint64(b[len(b)-8:])*0x9E3779B97F4A7C15
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h ^= uint64(len(b))
	h *= 0xFF51AFD7ED558CCD
	return h >> 40
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
