package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestXMLOnly: with XMLOnly, a JSON-RPC request gets rTorrent 0.9.8's answer,
// an XML-RPC parse fault, and nothing goes upstream; XML-RPC still works.
func TestXMLOnly(t *testing.T) {
	var upstream int
	up := versionUpstream(&upstream)
	srv := httptest.NewServer(gateway.NewHandler(up, &gateway.HandlerOptions{XMLOnly: true}))
	defer srv.Close()

	post := func(contentType, body string) string {
		t.Helper()
		resp, err := http.Post(srv.URL+"/RPC2", contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	got := post("application/json", `{"jsonrpc":"2.0","id":1,"method":"system.listMethods","params":[]}`)
	v, err := xmlrpc.DecodeResponse(strings.NewReader(got))
	fault, ok := err.(*xmlrpc.Fault)
	if !ok || fault.Code != xmlrpc.FaultParse {
		t.Fatalf("JSON request answered %q (%v, %v), want an XML-RPC parse fault", got, v, err)
	}
	if upstream != 0 {
		t.Errorf("a JSON request reached upstream %d times", upstream)
	}

	got = post("text/xml", versionCall)
	if !strings.Contains(got, "<string>0.9.8</string>") || upstream != 1 {
		t.Errorf("XML request answered %q after %d upstream calls", got, upstream)
	}
}

// versionCall is an XML-RPC call of system.client_version.
const versionCall = `<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>`

// versionUpstream is a Coalescer over a fake rTorrent that answers every
// call "0.9.8" and counts the calls that reached it, for tests of what a
// door lets through.
func versionUpstream(calls *int) *gateway.Coalescer {
	return gateway.NewCoalescer(callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		*calls++
		return xmlrpc.NewString("0.9.8"), nil
	}), nil)
}
