package xmlrpc

import (
	"io"
	"sync"
)

// DecodeOptions tunes a Decoder. The zero value, and a nil pointer, mean
// the defaults.
type DecodeOptions struct {
	// MaxDepth is how deeply arrays and structs may nest: a top-level
	// array counts 1, an array inside it 2. Deeper documents fail with an
	// error wrapping ErrTooDeep. Zero or less means 32; values above
	// 10000 mean 10000, to bound the decoder's recursion.
	MaxDepth int
}

const (
	defaultMaxDepth = 32
	limitMaxDepth   = 10000

	// maxKeptStack is the largest value stack Reset keeps: enough for
	// a multicall over 60,000 downloads.
	maxKeptStack = 1 << 16
)

// A Decoder reads XML-RPC documents from an io.Reader: one document per
// NewDecoder or Reset, read to the end of the input, which must hold
// nothing after the root element but whitespace, comments and processing
// instructions. It pulls the input in chunks through its own 64 KiB window
// (grown only for a longer token) and keeps its buffers across Reset, so a
// Decoder reused for every response allocates little beyond the decoded
// strings and lists. A short string it has decoded recently is shared
// rather than allocated again.
//
// A Decoder is not safe for concurrent use. The Values it returns share no
// memory the Decoder writes again: they stay valid after Reset.
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
	// Keep the buffers a big poll needs, not those an unusual document
	// grew: a pooled Decoder would pin them.
	if cap(d.stack) > maxKeptStack {
		d.stack = nil
	}
	// Nothing of the last document may stay reachable from d: stale stack
	// entries and the rest of the slab chunk its lists were carved from
	// would pin it whole, and with pooled Decoders chain every document
	// to the one before (TestPooledDecoderPinsNothing).
	clear(d.stack[:cap(d.stack)])
	d.slab = nil
	if cap(d.b64) > maxKeptBuf || cap(d.bin) > maxKeptBuf || cap(d.ws) > maxKeptBuf {
		d.b64, d.bin, d.ws = nil, nil, nil
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
	at := d.offset(d.pos)
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
	at := d.offset(d.pos)
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
	at = d.offset(d.pos)
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
	at := d.offset(d.pos)
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
		at := d.offset(d.pos)
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
		at := d.offset(d.pos)
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
	at := d.offset(d.pos)
	kind, name, err := d.tag()
	if err != nil {
		return err
	}
	if kind != startTag || string(name) != root[1:len(root)-1] {
		return d.unexpected(at, root, kind, name)
	}
	return nil
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
	at := d.offset(d.pos)
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
	at := d.offset(d.pos)
	kind, name, err := d.tag()
	if err != nil {
		return err
	}
	if kind != endTag || string(name) != lit[2:len(lit)-1] {
		return d.unexpected(at, lit, kind, name)
	}
	return nil
}

func (d *Decoder) unexpected(at int64, want string, kind tagKind, name []byte) error {
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
