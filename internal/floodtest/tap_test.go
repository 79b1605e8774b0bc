package floodtest_test

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/internal/floodtest"
)

// scgi frames body as Flood does.
func scgi(contentType, body string) string {
	h := fmt.Sprintf("CONTENT_LENGTH\x00%d\x00CONTENT_TYPE\x00%s\x00SCGI\x001\x00", len(body), contentType)
	return fmt.Sprintf("%d:%s,%s", len(h), h, body)
}

func TestReadSCGIRequest(t *testing.T) {
	const xmlMulticall = `<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>` +
		`<value><struct><member><name>methodName</name><value><string>d.stop</string></value></member>` +
		`<member><name>params</name><value><array><data><value><string>ABC</string></value></data></array></value></member></struct></value>` +
		`<value><struct><member><name>methodName</name><value><string>d.close</string></value></member>` +
		`<member><name>params</name><value><array><data><value><string>methodName</string></value></data></array></value></member></struct></value>` +
		`</data></array></value></param></params></methodCall>`
	tests := []struct {
		name    string
		req     string
		want    floodtest.Call
		wantErr string // from reading the request
	}{
		{
			name: "xml call",
			req:  scgi("text/xml", `<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName></methodCall>`),
			want: floodtest.Call{ContentType: "text/xml", Method: "system.listMethods"},
		},
		{
			name: "xml multicall",
			req:  scgi("text/xml", xmlMulticall),
			want: floodtest.Call{ContentType: "text/xml", Method: "system.multicall", Batch: []string{"d.stop", "d.close"}},
		},
		{
			name: "json call",
			req:  scgi("application/json", `{"jsonrpc":"2.0","id":null,"method":"system.listMethods","params":[]}`),
			want: floodtest.Call{ContentType: "application/json", Method: "system.listMethods"},
		},
		{
			name: "json batch",
			req:  scgi("application/json", `[{"jsonrpc":"2.0","id":null,"method":"d.open","params":["A"]},{"jsonrpc":"2.0","id":null,"method":"d.start","params":["A"]}]`),
			want: floodtest.Call{ContentType: "application/json", Batch: []string{"d.open", "d.start"}},
		},
		{name: "no colon", req: "12", wantErr: "header length"},
		{name: "bad length", req: "x:", wantErr: "bad header length"},
		{name: "no comma", req: "4:abcd;", wantErr: "not followed by ','"},
		{name: "no content length", req: "7:SCGI\x001\x00,", wantErr: "CONTENT_LENGTH"},
		{name: "short body", req: "25:CONTENT_LENGTH\x0010\x00SCGI\x001\x00,abc", wantErr: "read body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call, raw, err := floodtest.ReadSCGIRequest(bufio.NewReader(strings.NewReader(tt.req)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tt.req {
				t.Errorf("raw = %q, want the request unchanged", raw)
			}
			if call.ContentType != tt.want.ContentType || call.Method != tt.want.Method ||
				!slices.Equal(call.Batch, tt.want.Batch) || call.Err != nil {
				t.Errorf("call = %+v, want %+v", call, tt.want)
			}
		})
	}
}

// FuzzReadSCGIRequest checks that the tap's parser never panics and that
// whatever it accepts it passes on byte for byte.
func FuzzReadSCGIRequest(f *testing.F) {
	f.Add(scgi("text/xml", `<?xml version="1.0"?><methodCall><methodName>d.multicall2</methodName></methodCall>`))
	f.Add(scgi("application/json", `[{"method":"d.open"}]`))
	f.Add(scgi("application/json", `{"method":1}`))
	f.Add("5:CONTENT_LENGTH\x00-1\x00,")
	f.Add("0:,")
	f.Fuzz(func(t *testing.T, req string) {
		_, raw, err := floodtest.ReadSCGIRequest(bufio.NewReader(strings.NewReader(req)))
		if err == nil && !bytes.HasPrefix([]byte(req), raw) {
			t.Errorf("raw %q is not a prefix of the request", raw)
		}
	})
}
