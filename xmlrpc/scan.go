package xmlrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The scanner is the byte level of the decoder: a sliding window over an
// io.Reader and the few XML productions XML-RPC needs (tags, text with
// entities and CDATA, comments, processing instructions). It never reads
// the whole input first: bytes before pos are dropped at the next fill, and
// the window only grows when a single token does not fit in it.

const (
	defaultBufSize = 64 << 10
	// maxKeptBuf is the largest window or scratch buffer Reset keeps for
	// the next document; a bigger one, grown for an unusual token, is
	// dropped so that a pooled Decoder does not pin it.
	maxKeptBuf = 1 << 20
	// maxEmptyReads bounds the reads returning 0, nil in a row before the
	// scanner gives up with io.ErrNoProgress, as bufio does.
	maxEmptyReads = 100
)

var errBadRead = errors.New("xmlrpc: reader returned an invalid count")

type tagKind uint8

const (
	startTag tagKind = iota // <name>
	endTag                  // </name>
	emptyTag                // <name/>
)

type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	end  int   // end of the buffered input
	base int64 // input offset of buf[0]
	rerr error // sticky error of r; io.EOF at the end of input

	// scratch holds text that could not be returned as a window slice:
	// it had entities, CDATA, comments or carriage returns.
	scratch []byte
}

func (s *scanner) reset(r io.Reader) {
	s.r = r
	if cap(s.buf) == 0 || cap(s.buf) > maxKeptBuf {
		s.buf = make([]byte, defaultBufSize)
	}
	s.buf = s.buf[:cap(s.buf)]
	if cap(s.scratch) > maxKeptBuf {
		s.scratch = nil
	}
	s.pos, s.end, s.base = 0, 0, 0
	s.rerr = nil
	if r == nil {
		s.rerr = io.EOF
	}
}

// fill reads more input behind buf[pos:end], moving the unread bytes to
// the front of the window first and growing it when they fill it. It
// reports whether bytes were added. Slices of the window are invalid after
// fill.
func (s *scanner) fill() bool {
	if s.rerr != nil {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range maxEmptyReads {
		n, err := s.r.Read(s.buf[s.end:])
		if n < 0 || n > len(s.buf)-s.end {
			s.rerr = errBadRead
			return false
		}
		s.end += n
		if err != nil {
			s.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.rerr = io.ErrNoProgress
	return false
}

// need reports whether at least n unread bytes are buffered, reading more
// if needed.
func (s *scanner) need(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// at reports whether the buffered input continues with t; it reads
// nothing. It is small enough to be inlined, where comparing with a
// constant t compiles to a few loads: the hot paths try it before lit.
func (s *scanner) at(t string) bool {
	rest := s.buf[s.pos:s.end]
	return len(rest) >= len(t) && string(rest[:len(t)]) == t
}

// A word8 is a literal of 8 to 24 bytes held as three overlapping
// little-endian words, so that matching it costs three loads and compares
// where comparing strings would call memequal.
type word8 struct {
	w   [3]uint64
	n   int
	str string
}

func newWord8(t string) word8 {
	if len(t) < 8 || len(t) > 24 {
		panic("xmlrpc: word8 literal of " + strconv.Itoa(len(t)) + " bytes")
	}
	n := len(t)
	return word8{
		w:   [3]uint64{le64(t), le64(t[(n-8)/2:]), le64(t[n-8:])},
		n:   n,
		str: t,
	}
}

func le64(t string) uint64 {
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// atWord is at for a word8 literal.
func (s *scanner) atWord(t *word8) bool {
	rest := s.buf[s.pos:s.end]
	n := t.n
	return len(rest) >= n && n >= 8 &&
		binary.LittleEndian.Uint64(rest) == t.w[0] &&
		binary.LittleEndian.Uint64(rest[(n-8)/2:]) == t.w[1] &&
		binary.LittleEndian.Uint64(rest[n-8:]) == t.w[2]
}

// lit consumes t if the input continues with it.
func (s *scanner) lit(t string) bool {
	if !s.need(len(t)) || string(s.buf[s.pos:s.pos+len(t)]) != t {
		return false
	}
	s.pos += len(t)
	return true
}

// offset returns the input offset of buf[i].
func (s *scanner) offset(i int) int64 { return s.base + int64(i) }

func (s *scanner) syntaxError(at int64, format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrSyntax, at, fmt.Sprintf(format, args...))
}

// endError is the error for input that stopped where more was required: a
// syntax error wrapping io.ErrUnexpectedEOF at the end of input, or the
// reader's own error.
func (s *scanner) endError() error {
	if s.rerr == nil || s.rerr == io.EOF {
		return fmt.Errorf("%w: at byte %d: unexpected end of input (%w)", ErrSyntax, s.offset(s.end), io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("xmlrpc: read: %w", s.rerr)
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func isAllSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// skipMisc skips whitespace, comments and processing instructions and stops
// at the '<' of a tag.
func (s *scanner) skipMisc() error {
	for s.pos+1 < s.end {
		c := s.buf[s.pos]
		if c == '<' {
			if c1 := s.buf[s.pos+1]; c1 != '!' && c1 != '?' {
				return nil
			}
			break
		}
		if !isSpace(c) {
			break
		}
		s.pos++
	}
	atEnd, err := s.skipMiscSlow()
	if atEnd {
		return s.endError()
	}
	return err
}

// skipMiscSlow is skipMisc across window refills; it reports atEnd when the
// input ends instead of a tag coming.
func (s *scanner) skipMiscSlow() (atEnd bool, err error) {
	for {
		if !s.need(1) {
			return true, nil
		}
		c := s.buf[s.pos]
		switch {
		case isSpace(c):
			s.pos++
		case c != '<':
			return false, s.syntaxError(s.offset(s.pos), "unexpected text %s", s.peekText())
		case !s.need(2):
			return false, s.endError()
		case s.buf[s.pos+1] == '?':
			if err := s.skipPI(); err != nil {
				return false, err
			}
		case s.buf[s.pos+1] == '!':
			if !s.lit("<!--") {
				return false, s.badMarkup()
			}
			if err := s.skipPast("-->", "comment", s.offset(s.pos-4)); err != nil {
				return false, err
			}
		default:
			return false, nil
		}
	}
}

// epilog checks that only whitespace, comments and processing
// instructions follow the root element.
func (s *scanner) epilog() error {
	atEnd, err := s.skipMiscSlow()
	if err != nil {
		return err
	}
	if !atEnd {
		return s.syntaxError(s.offset(s.pos), "data after the root element")
	}
	if s.rerr != io.EOF {
		return s.endError()
	}
	return nil
}

// badMarkup reports the "<!" markup at pos that is neither a comment nor,
// where text is allowed, a CDATA section.
func (s *scanner) badMarkup() error {
	s.need(9)
	rest := s.buf[s.pos:s.end]
	if len(rest) < 9 && (strings.HasPrefix("<!--", string(rest)) || strings.HasPrefix("<![CDATA[", string(rest))) {
		return s.endError() // the input stops inside "<!--" or "<![CDATA["
	}
	switch {
	case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
		return s.syntaxError(s.offset(s.pos), "DOCTYPE is not allowed")
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		return s.syntaxError(s.offset(s.pos), "unexpected CDATA section")
	}
	return s.syntaxError(s.offset(s.pos), "unexpected markup %s", s.peekText())
}

// skipPI skips the processing instruction (or XML declaration) at pos.
func (s *scanner) skipPI() error {
	s.pos += 2
	return s.skipPast("?>", "processing instruction", s.offset(s.pos-2))
}

// skipPast consumes input up to and including term, in the markup that
// starts at input offset start. The bytes it passes are dropped from the
// window, so a long comment costs no memory.
func (s *scanner) skipPast(term, what string, start int64) error {
	for {
		if i := bytes.Index(s.buf[s.pos:s.end], []byte(term)); i >= 0 {
			s.pos += i + len(term)
			return nil
		}
		// Keep a possible prefix of term for the next round.
		s.pos = max(s.pos, s.end-len(term)+1)
		if !s.fill() {
			if s.rerr == io.EOF {
				return fmt.Errorf("%w: at byte %d: unterminated %s (%w)", ErrSyntax, start, what, io.ErrUnexpectedEOF)
			}
			return s.endError()
		}
	}
}

// peekText quotes a little of the input at pos for an error message.
func (s *scanner) peekText() string {
	s.need(16)
	b := s.buf[s.pos:min(s.end, s.pos+16)]
	if len(b) == 0 {
		return "end of input"
	}
	if i := bytes.IndexByte(b[1:], '<'); i >= 0 {
		b = b[:i+1]
	}
	return strconv.Quote(string(b))
}

// tag consumes the tag at pos, which is a '<' that starts neither a comment
// nor a processing instruction, and returns its kind and name. The name is
// a slice of the window: it is valid until the next scanner call.
// Attributes are skipped.
func (s *scanner) tag() (tagKind, []byte, error) {
	start := s.offset(s.pos)
	// Find the closing '>', skipping over quoted attribute values.
	i := 1
	var quote byte
	for {
		if s.pos+i >= s.end {
			if !s.fill() {
				return 0, nil, s.endError()
			}
			continue
		}
		c := s.buf[s.pos+i]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
		} else if c == '>' {
			break
		} else if c == '"' || c == '\'' {
			quote = c
		} else if c == '<' {
			return 0, nil, s.syntaxError(s.offset(s.pos+i), "'<' inside a tag")
		}
		i++
	}
	body := s.buf[s.pos+1 : s.pos+i]
	s.pos += i + 1

	kind := startTag
	if len(body) > 0 && body[0] == '/' {
		kind = endTag
		body = body[1:]
		if n := nameLen(body); n == 0 || !isAllSpace(body[n:]) {
			return 0, nil, s.syntaxError(start, "malformed end tag")
		}
		return kind, body[:nameLen(body)], nil
	}
	if len(body) > 0 && body[len(body)-1] == '/' {
		kind = emptyTag
		body = body[:len(body)-1]
	}
	n := nameLen(body)
	if n == 0 || n < len(body) && !isSpace(body[n]) {
		return 0, nil, s.syntaxError(start, "malformed tag")
	}
	return kind, body[:n], nil
}

// nameLen returns the length of the tag name at the start of b.
func nameLen(b []byte) int {
	for i, c := range b {
		if isSpace(c) || c == '/' || c == '>' || c == '=' || c == '"' || c == '\'' {
			return i
		}
	}
	return len(b)
}

// text reads character data up to the next start or end tag and leaves pos
// at its '<'. Entities are decoded, CDATA sections included, comments and
// processing instructions dropped and line ends normalised to '\n', as XML
// requires. The result is a slice of the window or of the scratch buffer:
// valid until the next scanner call.
func (s *scanner) text() ([]byte, error) {
	i := 0 // bytes after pos known to hold no '<'
	for {
		j := bytes.IndexByte(s.buf[s.pos+i:s.end], '<')
		if j < 0 {
			i = s.end - s.pos
			if !s.fill() {
				return nil, s.endError()
			}
			continue
		}
		i += j
		if s.pos+i+1 >= s.end {
			if !s.fill() {
				return nil, s.endError()
			}
			continue
		}
		if c := s.buf[s.pos+i+1]; c == '!' || c == '?' {
			break
		}
		seg := s.buf[s.pos : s.pos+i]
		if bytes.IndexByte(seg, '&') >= 0 || bytes.IndexByte(seg, '\r') >= 0 {
			break
		}
		s.pos += i
		return seg, nil
	}
	return s.textSlow()
}

// textSlow is text for character data that needs decoding into scratch.
func (s *scanner) textSlow() ([]byte, error) {
	s.scratch = s.scratch[:0]
	for {
		// Copy the run of plain bytes.
		rest := s.buf[s.pos:s.end]
		n := 0
		for n < len(rest) && rest[n] != '<' && rest[n] != '&' && rest[n] != '\r' {
			n++
		}
		s.scratch = append(s.scratch, rest[:n]...)
		s.pos += n
		if !s.need(1) {
			return nil, s.endError()
		}
		switch s.buf[s.pos] {
		case '\r':
			s.pos++
			s.scratch = append(s.scratch, '\n')
			if s.need(1) && s.buf[s.pos] == '\n' {
				s.pos++
			}
		case '&':
			if err := s.entity(); err != nil {
				return nil, err
			}
		case '<':
			if !s.need(2) {
				return nil, s.endError()
			}
			switch s.buf[s.pos+1] {
			case '?':
				if err := s.skipPI(); err != nil {
					return nil, err
				}
			case '!':
				switch {
				case s.lit("<!--"):
					if err := s.skipPast("-->", "comment", s.offset(s.pos-4)); err != nil {
						return nil, err
					}
				case s.lit("<![CDATA["):
					if err := s.cdata(); err != nil {
						return nil, err
					}
				default:
					return nil, s.badMarkup()
				}
			default:
				return s.scratch, nil
			}
		}
	}
}

// cdata appends the content of the CDATA section whose "<![CDATA[" has
// been consumed, normalising line ends.
func (s *scanner) cdata() error {
	start := s.offset(s.pos - len("<![CDATA["))
	for {
		rest := s.buf[s.pos:s.end]
		if i := bytes.Index(rest, []byte("]]>")); i >= 0 {
			s.appendNormalized(rest[:i])
			s.pos += i + 3
			return nil
		}
		// Keep a possible "]]", and a '\r' whose '\n' may come next,
		// for the next round.
		keep := min(len(rest), 2)
		if len(rest) > keep && rest[len(rest)-keep-1] == '\r' {
			keep++
		}
		s.appendNormalized(rest[:len(rest)-keep])
		s.pos = s.end - keep
		if !s.fill() {
			if s.rerr == io.EOF {
				return fmt.Errorf("%w: at byte %d: unterminated CDATA section (%w)", ErrSyntax, start, io.ErrUnexpectedEOF)
			}
			return s.endError()
		}
	}
}

// appendNormalized appends b to scratch with "\r\n" and '\r' as '\n'.
func (s *scanner) appendNormalized(b []byte) {
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			s.scratch = append(s.scratch, b...)
			return
		}
		s.scratch = append(s.scratch, b[:i]...)
		s.scratch = append(s.scratch, '\n')
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		}
	}
}

// entity decodes the entity or character reference at pos into scratch.
func (s *scanner) entity() error {
	start := s.offset(s.pos)
	s.need(32)
	rest := s.buf[s.pos+1 : min(s.end, s.pos+32)]
	semi := bytes.IndexByte(rest, ';')
	if semi < 0 {
		if len(rest) < 31 && isEntityName(rest) {
			return s.endError() // the input stops inside the entity
		}
		return s.syntaxError(start, "invalid entity %s", s.peekText())
	}
	name := rest[:semi]
	switch string(name) {
	case "lt":
		s.scratch = append(s.scratch, '<')
	case "gt":
		s.scratch = append(s.scratch, '>')
	case "amp":
		s.scratch = append(s.scratch, '&')
	case "quot":
		s.scratch = append(s.scratch, '"')
	case "apos":
		s.scratch = append(s.scratch, '\'')
	default:
		r, ok := charRef(name)
		if !ok {
			return s.syntaxError(start, "invalid entity %q", "&"+string(name)+";")
		}
		s.scratch = utf8.AppendRune(s.scratch, r)
	}
	s.pos += semi + 2
	return nil
}

// isEntityName reports whether b could begin an entity or character
// reference body.
func isEntityName(b []byte) bool {
	for _, c := range b {
		if c != '#' && !('0' <= c && c <= '9') && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// charRef parses the body of a character reference, "#65" or "#x41". Any
// Unicode scalar value is accepted, including the control characters XML
// 1.0 forbids, which the Encoder writes this way.
func charRef(b []byte) (rune, bool) {
	if len(b) < 2 || b[0] != '#' {
		return 0, false
	}
	b = b[1:]
	base := rune(10)
	if b[0] == 'x' {
		base, b = 16, b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var r rune
	for _, c := range b {
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*base + d
		if r > utf8.MaxRune {
			return 0, false
		}
	}
	if 0xD800 <= r && r <= 0xDFFF {
		return 0, false
	}
	return r, true
}
