package scgi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/scgi"
)

func TestResponseWriter(t *testing.T) {
	type writes func(t *testing.T, w http.ResponseWriter)
	write := func(parts ...string) writes {
		return func(t *testing.T, w http.ResponseWriter) {
			for _, p := range parts {
				if n, err := io.WriteString(w, p); n != len(p) || err != nil {
					t.Errorf("Write = %d, %v", n, err)
				}
			}
		}
	}
	big := strings.Repeat("b", 1024)
	tests := []struct {
		name        string
		bufferBytes int
		handler     writes
		want        string // the exact reply
	}{
		{"nothing written", 1024, write(),
			"Status: 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{"small", 1024, write("hello"),
			"Status: 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello"},
		{"exactly BufferBytes", 1024, write(big[:1000], big[:24]),
			"Status: 200 OK\r\nContent-Length: 1024\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + big},
		{"one byte more streams", 1024, write(big, "!"),
			"Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + big + "!"},
		{"many small writes stream", 1024, write(strings.Split(strings.Repeat("abcdefgh,", 300), ",")...),
			"Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("abcdefgh", 300)},
		{"flush streams", 1024, func(t *testing.T, w http.ResponseWriter) {
			io.WriteString(w, "<?xml version")
			w.(http.Flusher).Flush()
			io.WriteString(w, `="1.0"?><a/>`)
		}, "Status: 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n\r\n<?xml version=\"1.0\"?><a/>"},
		{"ResponseController flush", 1024, func(t *testing.T, w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}, "Status: 200 OK\r\n\r\n"},
		{"negative BufferBytes always streams", -1, write("hi"),
			"Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi"},
		{"declared Content-Length is kept when streaming", 4, func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Length", "10")
			w.Header().Set("Content-Type", "x/y")
			io.WriteString(w, "0123456")
			if _, err := io.WriteString(w, "789!"); err != http.ErrContentLength {
				t.Errorf("writing past Content-Length: %v, want ErrContentLength", err)
			}
			io.WriteString(w, "789")
		}, "Status: 200 OK\r\nContent-Length: 10\r\nContent-Type: x/y\r\n\r\n0123456789"},
		{"invalid declared Content-Length is dropped", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Length", "ten")
			io.WriteString(w, "abc")
		}, "Status: 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nabc"},
		{"204 has no body", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.WriteHeader(http.StatusNoContent)
			if _, err := io.WriteString(w, "x"); err != http.ErrBodyNotAllowed {
				t.Errorf("Write after 204: %v, want ErrBodyNotAllowed", err)
			}
		}, "Status: 204 No Content\r\n\r\n"},
		{"header changes after WriteHeader are ignored", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("X-Before", "1")
			w.Header().Set("Status", "500 Spoofed")
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusTeapot)
			w.Header().Set("X-After", "1")
		}, "Status: 201 Created\r\nContent-Length: 0\r\nX-Before: 1\r\n\r\n"},
		{"1xx is ignored", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.WriteHeader(http.StatusContinue)
			w.WriteHeader(599)
		}, "Status: 599 status code 599\r\nContent-Length: 0\r\n\r\n"},
		{"explicit Content-Type", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "{}")
		}, "Status: 200 OK\r\nContent-Length: 2\r\nContent-Type: text/xml\r\n\r\n{}"},
		{"suppressed Content-Type", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<?xml?>")
		}, "Status: 200 OK\r\nContent-Length: 7\r\n\r\n<?xml?>"},
		{"newlines in values and bad names", 1024, func(t *testing.T, w http.ResponseWriter) {
			w.Header().Set("X-Split", "a\r\nStatus: 500")
			w.Header()["Bad Name"] = []string{"x"}
		}, "Status: 200 OK\r\nContent-Length: 0\r\nX-Split: a  Status: 500\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, &scgi.Server{BufferBytes: tt.bufferBytes, Handler: http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) { tt.handler(t, w) })}, "unix")
			if got := exchange(t, addr, request(""), true); got != tt.want {
				t.Errorf("reply\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
