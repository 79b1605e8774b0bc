package scgi_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/scgi"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func FuzzReadRequest(f *testing.F) {
	call, err := os.ReadFile("../testdata/rtorrent-0.9.8/flood-multicall.call.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(request(string(call), "CONTENT_TYPE", "text/xml"))
	f.Add(request("", "CONTENT_TYPE", "application/json", "REQUEST_METHOD", "POST", "REQUEST_URI", "/RPC2"))
	f.Add([]byte(netstring("CONTENT_LENGTH\x004\x00") + "body"))
	for _, tt := range malformedRequests {
		f.Add([]byte(tt.in))
	}

	const maxHeader, maxBody = 512, 64 << 10
	lim := scgi.Limits{MaxHeaderBytes: maxHeader, MaxBodyBytes: maxBody}
	const bufSize = 16 // bufio's minimum: read-ahead stays small
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &countingReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(src, bufSize)
		headers, cl, err := scgi.ReadRequest(br, lim)

		consumed := src.n - br.Buffered()
		maxConsumed := len(strconv.Itoa(maxHeader)) + 1 + maxHeader + 1
		if consumed > maxConsumed || src.n > maxConsumed+bufSize {
			t.Fatalf("consumed %d bytes, read %d: past the limit %d", consumed, src.n, maxConsumed)
		}
		if err != nil {
			switch {
			case err == io.EOF:
				if len(data) != 0 {
					t.Fatalf("io.EOF after %d bytes", len(data))
				}
			case errors.Is(err, scgi.ErrMalformed), errors.Is(err, scgi.ErrHeaderTooLarge), errors.Is(err, scgi.ErrBodyTooLarge):
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}

		if cl < 0 || cl > maxBody {
			t.Fatalf("content length %d outside [0, %d]", cl, maxBody)
		}
		if len(headers) == 0 || headers[0].Name != "CONTENT_LENGTH" {
			t.Fatalf("headers %q do not start with CONTENT_LENGTH", headers)
		}
		seen := map[string]bool{}
		for _, h := range headers {
			if h.Name == "" || seen[h.Name] || strings.ContainsRune(h.Name+h.Value, 0) {
				t.Fatalf("bad header %q in %q", h, headers)
			}
			seen[h.Name] = true
		}
		rest, _ := io.ReadAll(br)
		if !bytes.Equal(rest, data[consumed:]) {
			t.Fatal("reader not left at the body")
		}
		// A request in AppendRequest's own form re-encodes to the same bytes.
		canonical := headers[0].Value == strconv.FormatInt(cl, 10) &&
			len(headers) >= 2 && headers[1] == (scgi.Header{Name: "SCGI", Value: "1"})
		if canonical {
			body := make([]byte, cl)
			copy(body, rest)
			want := append(bytes.Clone(data[:consumed]), body...)
			if got := scgi.AppendRequest(nil, headers, body); !bytes.Equal(got, want) {
				t.Fatalf("re-encoded\n%q\nwant\n%q", got, want)
			}
		}
	})
}

func FuzzReadResponse(f *testing.F) {
	for _, raw := range fixtures(f) {
		// Big seeds make the fuzzer slow; a cut one still covers short bodies.
		f.Add(raw[:min(len(raw), 4096)])
	}
	f.Add([]byte("Status: 404\nContent-Length: 3\n\nabcdef"))
	f.Add([]byte("Content-Type: text/plain\r\n\r\nto EOF"))
	f.Add([]byte("Status: 200 OK\r\nContent-Length: 10\r\n\r\nshort"))
	f.Add([]byte("\r\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		src := &countingReader{r: bytes.NewReader(data)}
		br := bufio.NewReader(src)
		resp, err := scgi.ReadResponse(br)
		head := src.n - br.Buffered()
		if head > 64<<10 {
			t.Fatalf("header block of %d bytes accepted", head)
		}
		if err != nil {
			if !errors.Is(err, scgi.ErrMalformedResponse) && !errors.Is(err, scgi.ErrHeaderTooLarge) &&
				!(errors.Is(err, io.EOF) && len(data) == 0) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if resp.StatusCode < 100 || resp.StatusCode > 999 || !strings.HasPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" ") {
			t.Fatalf("status %d %q", resp.StatusCode, resp.Status)
		}
		if _, ok := resp.Header["Status"]; ok {
			t.Fatal("Status left in Header")
		}
		body, err := io.ReadAll(resp.Body)
		rest := data[head:]
		switch {
		case resp.ContentLength < 0:
			if err != nil || !bytes.Equal(body, rest) {
				t.Fatalf("body %q, %v; want the rest, %q", body, err, rest)
			}
		case int64(len(rest)) >= resp.ContentLength:
			if err != nil || !bytes.Equal(body, rest[:resp.ContentLength]) {
				t.Fatalf("body %q, %v; want %d bytes", body, err, resp.ContentLength)
			}
		default:
			if err != io.ErrUnexpectedEOF || !bytes.Equal(body, rest) {
				t.Fatalf("short body %q, %v; want io.ErrUnexpectedEOF", body, err)
			}
		}
	})
}
