package scgi_test

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/scgi"
)

func TestAppendRequest(t *testing.T) {
	tests := []struct {
		name    string
		headers []scgi.Header
		body    string
		want    string
	}{
		{
			name: "no headers, no body",
			want: "24:CONTENT_LENGTH\x000\x00SCGI\x001\x00,",
		},
		{
			name:    "flood style",
			headers: []scgi.Header{{"CONTENT_TYPE", "text/xml"}},
			body:    "<methodCall/>",
			want:    "47:CONTENT_LENGTH\x0013\x00SCGI\x001\x00CONTENT_TYPE\x00text/xml\x00,<methodCall/>",
		},
		{
			name:    "empty value kept",
			headers: []scgi.Header{{"X", ""}},
			want:    "27:CONTENT_LENGTH\x000\x00SCGI\x001\x00X\x00\x00,",
		},
		{
			name: "framing headers dropped",
			headers: []scgi.Header{
				{"CONTENT_LENGTH", "99"}, {"SCGI", "2"}, {"", "x"},
				{"A\x00B", "x"}, {"C", "x\x00y"}, {"D", "d"},
			},
			body: "xy",
			want: "28:CONTENT_LENGTH\x002\x00SCGI\x001\x00D\x00d\x00,xy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(scgi.AppendRequest([]byte("prefix"), tt.headers, []byte(tt.body)))
			if got != "prefix"+tt.want {
				t.Errorf("AppendRequest:\n got %q\nwant %q", got, "prefix"+tt.want)
			}
		})
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		lim     scgi.Limits
		want    []scgi.Header
		wantCL  int64
		wantOut string // what is left in the reader: the body and beyond
	}{
		{
			name:    "flood",
			in:      string(request("<x/>", "CONTENT_TYPE", "text/xml")) + "trailing",
			want:    []scgi.Header{{"CONTENT_LENGTH", "4"}, {"SCGI", "1"}, {"CONTENT_TYPE", "text/xml"}},
			wantCL:  4,
			wantOut: "<x/>trailing",
		},
		{
			name:   "without SCGI, as rTorrent 0.9.8 accepts",
			in:     netstring("CONTENT_LENGTH\x000\x00"),
			want:   []scgi.Header{{"CONTENT_LENGTH", "0"}},
			wantCL: 0,
		},
		{
			name:   "SCGI anywhere, empty values, leading zeros in CONTENT_LENGTH",
			in:     netstring("CONTENT_LENGTH\x00007\x00A\x00\x00SCGI\x001\x00") + "1234567",
			want:   []scgi.Header{{"CONTENT_LENGTH", "007"}, {"A", ""}, {"SCGI", "1"}},
			wantCL: 7, wantOut: "1234567",
		},
		{
			name:   "at the limits",
			in:     netstring("CONTENT_LENGTH\x0010\x00SCGI\x001\x00"),
			lim:    scgi.Limits{MaxHeaderBytes: 25, MaxBodyBytes: 10},
			want:   []scgi.Header{{"CONTENT_LENGTH", "10"}, {"SCGI", "1"}},
			wantCL: 10,
		},
		{
			name:   "many headers",
			in:     string(request("", manyHeaders(40)...)),
			want:   append([]scgi.Header{{"CONTENT_LENGTH", "0"}, {"SCGI", "1"}}, pairs(manyHeaders(40))...),
			wantCL: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			headers, cl, err := scgi.ReadRequest(br, tt.lim)
			if err != nil {
				t.Fatalf("ReadRequest: %v", err)
			}
			if !slices.Equal(headers, tt.want) || cl != tt.wantCL {
				t.Errorf("ReadRequest = %q, %d; want %q, %d", headers, cl, tt.want, tt.wantCL)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tt.wantOut {
				t.Errorf("left %q in the reader, want %q", rest, tt.wantOut)
			}
		})
	}
}

func manyHeaders(n int) []string {
	var kv []string
	for i := range n {
		kv = append(kv, "H"+strings.Repeat("x", i), "v")
	}
	return kv
}

func pairs(kv []string) []scgi.Header {
	var hs []scgi.Header
	for i := 0; i < len(kv); i += 2 {
		hs = append(hs, scgi.Header{Name: kv[i], Value: kv[i+1]})
	}
	return hs
}

// malformedRequests are requests a Server must refuse, with the reason it
// gives. Shared by TestReadRequestErrors and TestServerMalformed.
var malformedRequests = []struct {
	name string
	in   string
	lim  scgi.Limits
	want error  // sentinel
	msg  string // the error's text
}{
	{"HTTP instead of SCGI", "GET /RPC2 HTTP/1.1\r\n\r\n", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: netstring length: unexpected byte 'G'`},
	{"leading junk", " 24:CONTENT_LENGTH\x000\x00SCGI\x001\x00,", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: netstring length: unexpected byte ' '`},
	{"empty netstring length", ":CONTENT_LENGTH\x000\x00,", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: netstring length is empty`},
	{"leading zero in netstring length", "024:CONTENT_LENGTH\x000\x00SCGI\x001\x00,", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: netstring length has a leading zero`},
	{"netstring length overflows", "99999999999999999999999999:", scgi.Limits{}, scgi.ErrHeaderTooLarge,
		`scgi: header block too large: longer than 65536 bytes`},
	{"header block over the limit", netstring("CONTENT_LENGTH\x000\x00SCGI\x001\x00X\x00" + strings.Repeat("x", 300) + "\x00"), scgi.Limits{MaxHeaderBytes: 300}, scgi.ErrHeaderTooLarge,
		`scgi: header block too large: longer than 300 bytes`},
	{"empty header block", "0:,", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: empty header block`},
	{"no comma", "24:CONTENT_LENGTH\x000\x00SCGI\x001\x00;", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: header block does not end with ','`},
	{"netstring length too long", "25:CONTENT_LENGTH\x000\x00SCGI\x001\x00,x", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: header block does not end with ','`},
	{"no trailing NUL", netstring("CONTENT_LENGTH\x000\x00SCGI\x001"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: header block does not end with a NUL byte`},
	{"odd number of fields", netstring("CONTENT_LENGTH\x000\x00SCGI\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: odd number of header fields`},
	{"CONTENT_LENGTH not first", netstring("SCGI\x001\x00CONTENT_LENGTH\x000\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: first header is "SCGI", not CONTENT_LENGTH`},
	{"no CONTENT_LENGTH", netstring("CONTENT_TYPE\x00text/xml\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: first header is "CONTENT_TYPE", not CONTENT_LENGTH`},
	{"negative CONTENT_LENGTH", netstring("CONTENT_LENGTH\x00-1\x00SCGI\x001\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: invalid CONTENT_LENGTH "-1"`},
	{"empty CONTENT_LENGTH", netstring("CONTENT_LENGTH\x00\x00SCGI\x001\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: invalid CONTENT_LENGTH ""`},
	{"CONTENT_LENGTH with junk", netstring("CONTENT_LENGTH\x0012 \x00SCGI\x001\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: invalid CONTENT_LENGTH "12 "`},
	{"CONTENT_LENGTH overflows", netstring("CONTENT_LENGTH\x0099999999999999999999\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: invalid CONTENT_LENGTH "99999999999999999999"`},
	{"empty header name", netstring("CONTENT_LENGTH\x000\x00\x00x\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: empty header name`},
	{"duplicate header", netstring("CONTENT_LENGTH\x000\x00A\x001\x00A\x002\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: duplicate header "A"`},
	{"duplicate CONTENT_LENGTH", netstring("CONTENT_LENGTH\x000\x00CONTENT_LENGTH\x005\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: duplicate header "CONTENT_LENGTH"`},
	{"SCGI not 1", netstring("CONTENT_LENGTH\x000\x00SCGI\x002\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: SCGI header is "2", want "1"`},
	{"long names are cut in messages", netstring("CONTENT_LENGTH\x000\x00" + strings.Repeat("N", 100) + "\x00a\x00" + strings.Repeat("N", 100) + "\x00b\x00"), scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: duplicate header "` + strings.Repeat("N", 40) + `"...`},
	{"body over the limit", netstring("CONTENT_LENGTH\x00101\x00SCGI\x001\x00"), scgi.Limits{MaxBodyBytes: 100}, scgi.ErrBodyTooLarge,
		`scgi: body too large: CONTENT_LENGTH 101 exceeds 100 bytes`},
	{"body over the default limit", netstring("CONTENT_LENGTH\x0016777217\x00SCGI\x001\x00"), scgi.Limits{}, scgi.ErrBodyTooLarge,
		`scgi: body too large: CONTENT_LENGTH 16777217 exceeds 16777216 bytes`},
	{"cut in the length", "24", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: unexpected EOF`},
	{"cut in the block", "24:CONTENT_LENGTH\x000", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: unexpected EOF`},
	{"cut before the comma", "24:CONTENT_LENGTH\x000\x00SCGI\x001\x00", scgi.Limits{}, scgi.ErrMalformed,
		`scgi: malformed request: unexpected EOF`},
}

func TestReadRequestErrors(t *testing.T) {
	for _, tt := range malformedRequests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := scgi.ReadRequest(bufio.NewReader(strings.NewReader(tt.in)), tt.lim)
			if !errors.Is(err, tt.want) || err.Error() != tt.msg {
				t.Errorf("ReadRequest error:\n got %v\nwant %s (is %v)", err, tt.msg, tt.want)
			}
		})
	}
	t.Run("nothing sent", func(t *testing.T) {
		_, _, err := scgi.ReadRequest(bufio.NewReader(strings.NewReader("")), scgi.Limits{})
		if err != io.EOF {
			t.Errorf("ReadRequest error = %v, want io.EOF", err)
		}
	})
	t.Run("cut short is also io.ErrUnexpectedEOF", func(t *testing.T) {
		_, _, err := scgi.ReadRequest(bufio.NewReader(strings.NewReader("5:ab")), scgi.Limits{})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadRequest error = %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		headers []scgi.Header
		body    []byte
	}{
		{"empty", nil, nil},
		{"xml-rpc", []scgi.Header{{"CONTENT_TYPE", "text/xml"}, {"REQUEST_URI", "/RPC2"}}, []byte("<methodCall/>")},
		{"binary body", []scgi.Header{{"X", "\xff\x01"}}, []byte("\x00,\x00:")},
		{"big body", nil, []byte(strings.Repeat("b", 3<<20))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := scgi.AppendRequest(nil, tt.headers, tt.body)
			br := bufio.NewReader(strings.NewReader(string(wire)))
			headers, cl, err := scgi.ReadRequest(br, scgi.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if cl != int64(len(tt.body)) {
				t.Errorf("content length %d, want %d", cl, len(tt.body))
			}
			if want := append([]string{"CONTENT_LENGTH", "SCGI"}, headerNames(tt.headers)...); !slices.Equal(headerNames(headers), want) {
				t.Errorf("headers %q, want names %q", headers, want)
			}
			if !slices.Equal(headers[2:], tt.headers) && len(tt.headers) > 0 {
				t.Errorf("headers %q, want %q", headers[2:], tt.headers)
			}
			body, _ := io.ReadAll(br)
			if string(body) != string(tt.body) {
				t.Errorf("body differs (%d bytes, want %d)", len(body), len(tt.body))
			}
			if again := scgi.AppendRequest(nil, headers, body); string(again) != string(wire) {
				t.Errorf("re-encoding differs:\n got %q\nwant %q", again, wire)
			}
		})
	}
}
