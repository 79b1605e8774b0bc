package scgi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Header is one SCGI request header: a CGI variable such as CONTENT_TYPE or
// REQUEST_URI. Names are case-sensitive and never empty; neither part may
// contain a NUL byte.
type Header struct {
	Name, Value string
}

// Limits bounds what ReadRequest accepts.
type Limits struct {
	// MaxHeaderBytes caps the header block, the netstring's payload.
	// Zero or negative means 64 KiB. (rTorrent itself accepts at most 2000.)
	MaxHeaderBytes int
	// MaxBodyBytes caps CONTENT_LENGTH. Zero or negative means 16 MiB.
	MaxBodyBytes int64
}

const (
	defaultMaxHeaderBytes = 64 << 10
	defaultMaxBodyBytes   = 16 << 20
)

func (l Limits) maxHeaderBytes() int {
	if l.MaxHeaderBytes <= 0 {
		return defaultMaxHeaderBytes
	}
	return l.MaxHeaderBytes
}

func (l Limits) maxBodyBytes() int64 {
	if l.MaxBodyBytes <= 0 {
		return defaultMaxBodyBytes
	}
	return l.MaxBodyBytes
}

// AppendRequest appends an SCGI request to dst and returns the extended
// slice: the netstring of headers, then body.
//
// The header block always starts with CONTENT_LENGTH (computed from body),
// then SCGI=1, as rTorrent requires, then headers in order. Headers that would
// break that framing are dropped: ones named CONTENT_LENGTH or SCGI, ones with
// an empty name, and ones with a NUL byte in the name or value.
func AppendRequest(dst []byte, headers []Header, body []byte) []byte {
	dst = appendRequestHeader(dst, headers, int64(len(body)))
	return append(dst, body...)
}

// appendRequestHeader appends everything of a request but its body.
func appendRequestHeader(dst []byte, headers []Header, contentLength int64) []byte {
	var clBuf [20]byte
	cl := strconv.AppendInt(clBuf[:0], contentLength, 10)
	n := len("CONTENT_LENGTH\x00") + len(cl) + len("\x00SCGI\x001\x00")
	for _, h := range headers {
		if sendable(h) {
			n += len(h.Name) + len(h.Value) + 2
		}
	}
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ":CONTENT_LENGTH\x00"...)
	dst = append(dst, cl...)
	dst = append(dst, "\x00SCGI\x001\x00"...)
	for _, h := range headers {
		if sendable(h) {
			dst = append(dst, h.Name...)
			dst = append(dst, 0)
			dst = append(dst, h.Value...)
			dst = append(dst, 0)
		}
	}
	return append(dst, ',')
}

// sendable reports whether AppendRequest writes h.
func sendable(h Header) bool {
	return checkHeader(h) == nil && h.Name != "CONTENT_LENGTH" && h.Name != "SCGI"
}

// checkHeader reports why h cannot be framed, if it cannot.
func checkHeader(h Header) error {
	switch {
	case h.Name == "":
		return errors.New("empty header name")
	case strings.IndexByte(h.Name, 0) >= 0:
		return fmt.Errorf("header name %s contains a NUL byte", quote(h.Name))
	case strings.IndexByte(h.Value, 0) >= 0:
		return fmt.Errorf("header %s: value contains a NUL byte", h.Name)
	}
	return nil
}

// ReadRequest reads an SCGI request's header block from br and leaves br
// positioned at the first byte of the body, of which the caller may read
// exactly contentLength bytes. headers holds every header in wire order,
// CONTENT_LENGTH first.
//
// ReadRequest reads at most the netstring length, ':', lim.MaxHeaderBytes
// and ','. It checks that the length is a decimal number without a leading
// zero, that the block ends with ',' and holds an even number of
// NUL-terminated fields, that no name is empty or repeated, that the first
// header is CONTENT_LENGTH with a non-negative decimal value, and that SCGI,
// if present, is "1". A missing SCGI header is accepted, as rTorrent 0.9.8
// does.
//
// Errors wrap ErrMalformed (with io.ErrUnexpectedEOF for a request cut
// short), ErrHeaderTooLarge or ErrBodyTooLarge; read errors are returned
// wrapped. If br yields no byte at all, the error is io.EOF itself: the peer
// sent nothing.
func ReadRequest(br *bufio.Reader, lim Limits) (headers []Header, contentLength int64, err error) {
	n, err := readNetstringLength(br, lim.maxHeaderBytes())
	if err != nil {
		return nil, 0, err
	}
	block := make([]byte, n+1)
	if _, err := io.ReadFull(br, block); err != nil {
		return nil, 0, readRequestErr(err)
	}
	if block[n] != ',' {
		return nil, 0, malformed("header block does not end with ','")
	}
	return parseHeaderBlock(block[:n], lim.maxBodyBytes())
}

// readNetstringLength reads "<digits>:" and returns the number.
func readNetstringLength(br *bufio.Reader, max int) (int, error) {
	n, digits := 0, 0
	for {
		c, err := br.ReadByte()
		if err != nil {
			if err == io.EOF && digits == 0 {
				return 0, io.EOF
			}
			return 0, readRequestErr(err)
		}
		if c == ':' {
			if digits == 0 {
				return 0, malformed("netstring length is empty")
			}
			return n, nil
		}
		if c < '0' || c > '9' {
			return 0, malformed(fmt.Sprintf("netstring length: unexpected byte %q", c))
		}
		if digits == 1 && n == 0 {
			return 0, malformed("netstring length has a leading zero")
		}
		d := int(c - '0')
		if n > max/10 || n*10 > max-d {
			return 0, fmt.Errorf("%w: longer than %d bytes", ErrHeaderTooLarge, max)
		}
		n = n*10 + d
		digits++
	}
}

func readRequestErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("scgi: read request: %w", err)
}

func parseHeaderBlock(block []byte, maxBody int64) ([]Header, int64, error) {
	if len(block) == 0 {
		return nil, 0, malformed("empty header block")
	}
	if block[len(block)-1] != 0 {
		return nil, 0, malformed("header block does not end with a NUL byte")
	}
	fields := 0
	for _, c := range block {
		if c == 0 {
			fields++
		}
	}
	if fields%2 != 0 {
		return nil, 0, malformed("odd number of header fields")
	}
	s := string(block) // one allocation backs every name and value
	headers := make([]Header, 0, fields/2)
	for len(s) > 0 {
		i := strings.IndexByte(s, 0)
		name := s[:i]
		s = s[i+1:]
		j := strings.IndexByte(s, 0)
		headers = append(headers, Header{Name: name, Value: s[:j]})
		s = s[j+1:]
	}
	if headers[0].Name != "CONTENT_LENGTH" {
		return nil, 0, malformed(fmt.Sprintf("first header is %s, not CONTENT_LENGTH", quote(headers[0].Name)))
	}
	cl, ok := parseDecimal(headers[0].Value)
	if !ok {
		return nil, 0, malformed(fmt.Sprintf("invalid CONTENT_LENGTH %s", quote(headers[0].Value)))
	}
	if err := checkNames(headers); err != nil {
		return nil, 0, err
	}
	if cl > maxBody {
		return nil, 0, fmt.Errorf("%w: CONTENT_LENGTH %d exceeds %d bytes", ErrBodyTooLarge, cl, maxBody)
	}
	return headers, cl, nil
}

// checkNames rejects empty and repeated names (the SCGI specification forbids
// duplicates) and an SCGI header other than "1".
func checkNames(headers []Header) error {
	var seen map[string]struct{}
	if len(headers) > 16 {
		seen = make(map[string]struct{}, len(headers))
	}
	for i, h := range headers {
		if h.Name == "" {
			return malformed("empty header name")
		}
		dup := false
		if seen != nil {
			_, dup = seen[h.Name]
			seen[h.Name] = struct{}{}
		} else {
			for _, prev := range headers[:i] {
				if prev.Name == h.Name {
					dup = true
					break
				}
			}
		}
		if dup {
			return malformed(fmt.Sprintf("duplicate header %s", quote(h.Name)))
		}
		if h.Name == "SCGI" && h.Value != "1" {
			return malformed(fmt.Sprintf("SCGI header is %s, want \"1\"", quote(h.Value)))
		}
	}
	return nil
}

// parseDecimal parses a non-empty string of ASCII digits that fits an int64.
// Unlike strconv.ParseInt it refuses signs.
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
