package scgi_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/scgi"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantCode   int
		wantStatus string
		wantHeader http.Header
		wantCL     int64
		wantBody   string
		wantErr    error // from reading the body
	}{
		{
			name:       "rTorrent style",
			in:         "Status: 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<x/>\nEXTRA",
			wantCode:   200,
			wantStatus: "200 OK",
			wantHeader: http.Header{"Content-Type": {"text/xml"}, "Content-Length": {"5"}},
			wantCL:     5,
			wantBody:   "<x/>\n",
		},
		{
			name:       "bare newlines, no status, body to EOF",
			in:         "content-type:text/plain\n\nhello\nworld",
			wantCode:   200,
			wantStatus: "200 OK",
			wantHeader: http.Header{"Content-Type": {"text/plain"}},
			wantCL:     -1,
			wantBody:   "hello\nworld",
		},
		{
			name:       "no headers at all",
			in:         "\r\nbody",
			wantCode:   200,
			wantStatus: "200 OK",
			wantHeader: http.Header{},
			wantCL:     -1,
			wantBody:   "body",
		},
		{
			name:       "status without text, repeated headers",
			in:         "Status: 404\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
			wantCode:   404,
			wantStatus: "404 Not Found",
			wantHeader: http.Header{"X-A": {"1", "2"}},
			wantCL:     -1,
		},
		{
			name:       "unknown status code, custom text",
			in:         "Status: 599 Custom Thing\r\n\r\n",
			wantCode:   599,
			wantStatus: "599 Custom Thing",
			wantHeader: http.Header{},
			wantCL:     -1,
		},
		{
			name:       "repeated equal Content-Length",
			in:         "Content-Length: 2\r\nContent-Length: 2\r\n\r\nabc",
			wantCode:   200,
			wantStatus: "200 OK",
			wantHeader: http.Header{"Content-Length": {"2", "2"}},
			wantCL:     2,
			wantBody:   "ab",
		},
		{
			name:       "short body",
			in:         "Status: 200 OK\r\nContent-Length: 10\r\n\r\nabc",
			wantCode:   200,
			wantStatus: "200 OK",
			wantHeader: http.Header{"Content-Length": {"10"}},
			wantCL:     10,
			wantBody:   "abc",
			wantErr:    io.ErrUnexpectedEOF,
		},
		{
			name:       "long header line",
			in:         "X-Long: " + strings.Repeat("v", 10000) + "\r\n\r\n",
			wantCode:   200,
			wantStatus: "200 OK",
			wantHeader: http.Header{"X-Long": {strings.Repeat("v", 10000)}},
			wantCL:     -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := scgi.ReadResponse(bufio.NewReader(strings.NewReader(tt.in)))
			if err != nil {
				t.Fatalf("ReadResponse: %v", err)
			}
			if resp.StatusCode != tt.wantCode || resp.Status != tt.wantStatus || resp.ContentLength != tt.wantCL {
				t.Errorf("got %d %q length %d, want %d %q length %d",
					resp.StatusCode, resp.Status, resp.ContentLength, tt.wantCode, tt.wantStatus, tt.wantCL)
			}
			if !equalHeader(resp.Header, tt.wantHeader) {
				t.Errorf("header %q, want %q", resp.Header, tt.wantHeader)
			}
			body, err := io.ReadAll(resp.Body)
			if string(body) != tt.wantBody || err != tt.wantErr {
				t.Errorf("body %q, %v; want %q, %v", body, err, tt.wantBody, tt.wantErr)
			}
			if _, err := resp.Body.Read(make([]byte, 1)); tt.wantErr == nil && err != io.EOF {
				t.Errorf("Read after the end: %v, want io.EOF", err)
			}
			resp.Body.Close()
			if _, err := resp.Body.Read(make([]byte, 1)); err == nil || err == io.EOF {
				t.Errorf("Read after Close: %v, want an error", err)
			}
		})
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

func TestReadResponseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
		msg  string
	}{
		{"empty", "", io.EOF, "scgi: empty response: EOF"},
		{"cut in the header", "Status: 200 OK\r\nContent-Ty", io.ErrUnexpectedEOF,
			"scgi: malformed response: header block cut short: unexpected EOF"},
		{"no blank line", "Status: 200 OK\r\n", io.ErrUnexpectedEOF,
			"scgi: malformed response: header block cut short: unexpected EOF"},
		{"line without colon", "Status: 200 OK\r\n<?xml\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: header line "<?xml" has no ':'`},
		{"space in name", "Content Type: x\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid header name "Content Type"`},
		{"empty name", ": x\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid header name ""`},
		{"bad status", "Status: OK\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid Status "OK"`},
		{"status too short", "Status: 20\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid Status "20"`},
		{"status below 100", "Status: 099 x\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid Status "099 x"`},
		{"two statuses", "Status: 200 OK\r\nStatus: 500\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: more than one Status header`},
		{"bad Content-Length", "Content-Length: -1\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid Content-Length "-1"`},
		{"conflicting Content-Length", "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", scgi.ErrMalformedResponse,
			`scgi: malformed response: invalid Content-Length "2"`},
		{"header block too large", strings.Repeat("X-Many: yes\r\n", 6000) + "\r\n", scgi.ErrHeaderTooLarge,
			"scgi: header block too large: response header block exceeds 65536 bytes"},
		{"header line too large", "X: " + strings.Repeat("a", 70000), scgi.ErrHeaderTooLarge,
			"scgi: header block too large: response header block exceeds 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := scgi.ReadResponse(bufio.NewReader(strings.NewReader(tt.in)))
			if resp != nil || !errors.Is(err, tt.want) || err.Error() != tt.msg {
				t.Errorf("ReadResponse = %v, %v; want nil, %s (is %v)", resp, err, tt.msg, tt.want)
			}
		})
	}
}

// fixtures returns the byte-exact rTorrent 0.9.8 replies under testdata.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../testdata/rtorrent-0.9.8/*.scgi")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := make(map[string][]byte)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestReadResponseFixtures(t *testing.T) {
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			resp, err := scgi.ReadResponse(bufio.NewReader(strings.NewReader(string(raw))))
			if err != nil {
				t.Fatalf("ReadResponse: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			_, wantBody, _ := strings.Cut(string(raw), "\r\n\r\n")
			if resp.StatusCode != 200 || resp.Status != "200 OK" ||
				resp.Header.Get("Content-Type") != "text/xml" ||
				resp.ContentLength != int64(len(wantBody)) || string(body) != wantBody {
				t.Errorf("got %q %q length %d, %d body bytes; want 200 OK text/xml with %d bytes",
					resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength, len(body), len(wantBody))
			}
			if !strings.HasPrefix(string(body), "<?xml") || !strings.HasSuffix(string(body), "</methodResponse>\r\n") {
				t.Errorf("body is not the whole methodResponse: %q", body)
			}
			if name == "client_version.scgi" && !strings.Contains(string(body), "<string>0.9.8</string>") {
				t.Errorf("client_version body lacks 0.9.8: %q", body)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(wantBody)) {
				t.Errorf("Content-Length header %q", got)
			}
		})
	}
}
