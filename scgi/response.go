package scgi

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Response is an SCGI response: CGI-style header lines, a blank line, a body.
type Response struct {
	StatusCode int    // from the Status header; 200 without one
	Status     string // e.g. "200 OK"; the reason phrase is filled in when the server sent a bare code
	// Header holds every header line but Status, keys canonicalized.
	Header http.Header
	// ContentLength is the Content-Length header, or -1 if there is none and
	// the body runs to EOF.
	ContentLength int64
	// Body streams the body. With a Content-Length it yields exactly that many
	// bytes, and io.ErrUnexpectedEOF if the stream ends sooner. The caller
	// must close it; for a Client's response, Close releases the connection.
	Body io.ReadCloser
}

// maxResponseHeaderBytes caps a response's header block, line ends included.
const maxResponseHeaderBytes = 64 << 10

// ReadResponse reads an SCGI response's header block from br: lines ending
// in "\r\n" or "\n" up to a blank line, 64 KiB at most. The Body reads on
// from br; closing it does not close br's source.
//
// Errors wrap ErrMalformedResponse (with io.ErrUnexpectedEOF if the header
// block is cut short) or ErrHeaderTooLarge; when br yields no byte at all the
// error wraps io.EOF: the server closed without answering.
func ReadResponse(br *bufio.Reader) (*Response, error) {
	resp := &Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Header:        make(http.Header),
		ContentLength: -1,
	}
	total, sawStatus := 0, false
	for {
		line, err := readLine(br, &total)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, malformedResponse(fmt.Sprintf("header line %s has no ':'", quote(line)))
		}
		if !validHeaderName(name) {
			return nil, malformedResponse(fmt.Sprintf("invalid header name %s", quote(name)))
		}
		value = strings.Trim(value, " \t")
		key := http.CanonicalHeaderKey(name)
		switch key {
		case "Status":
			if sawStatus {
				return nil, malformedResponse("more than one Status header")
			}
			sawStatus = true
			if err := resp.setStatus(value); err != nil {
				return nil, err
			}
			continue
		case "Content-Length":
			n, ok := parseDecimal(value)
			if !ok || (resp.ContentLength >= 0 && n != resp.ContentLength) {
				return nil, malformedResponse(fmt.Sprintf("invalid Content-Length %s", quote(value)))
			}
			resp.ContentLength = n
		}
		resp.Header[key] = append(resp.Header[key], value)
	}
	resp.Body = newBody(br, resp.ContentLength)
	return resp, nil
}

// setStatus parses a CGI Status value: a three-digit code, then optionally a
// space and a reason phrase.
func (r *Response) setStatus(v string) error {
	code, reason, _ := strings.Cut(v, " ")
	n, ok := parseDecimal(code)
	if !ok || len(code) != 3 || n < 100 {
		return malformedResponse(fmt.Sprintf("invalid Status %s", quote(v)))
	}
	r.StatusCode = int(n)
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = statusText(r.StatusCode)
	}
	r.Status = code + " " + reason
	return nil
}

// statusText is http.StatusText with net/http's fallback for unknown codes.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status code " + strconv.Itoa(code)
}

// readLine reads one line without its "\n" or "\r\n", counting its bytes in
// *total against maxResponseHeaderBytes.
func readLine(br *bufio.Reader, total *int) (string, error) {
	var long []byte // only for lines longer than br's buffer
	for {
		chunk, err := br.ReadSlice('\n')
		*total += len(chunk)
		if *total > maxResponseHeaderBytes {
			return "", fmt.Errorf("%w: response header block exceeds %d bytes", ErrHeaderTooLarge, maxResponseHeaderBytes)
		}
		switch err {
		case nil:
			if long != nil {
				chunk = append(long, chunk...)
			}
			chunk = chunk[:len(chunk)-1]
			if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
				chunk = chunk[:n-1]
			}
			return string(chunk), nil
		case bufio.ErrBufferFull:
			long = append(long, chunk...)
		case io.EOF:
			if *total == 0 {
				return "", fmt.Errorf("scgi: empty response: %w", io.EOF)
			}
			return "", fmt.Errorf("%w: header block cut short: %w", ErrMalformedResponse, io.ErrUnexpectedEOF)
		default:
			return "", err
		}
	}
}

// validHeaderName reports whether name is a non-empty run of visible ASCII
// without ':' (which Cut already removed).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
