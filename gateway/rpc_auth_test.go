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

func TestRequireToken(t *testing.T) {
	calls := 0
	up := gateway.NewCoalescer(callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		calls++
		return xmlrpc.NewString("0.9.8"), nil
	}), nil)
	srv := httptest.NewServer(gateway.RequireToken(gateway.NewHandler(up, nil), "s3cret"))
	defer srv.Close()
	const body = `<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>`

	tests := []struct {
		name   string
		url    string
		header func(*http.Request)
		want   int
	}{
		{name: "no token", url: "/RPC2", want: 401},
		{name: "wrong bearer", url: "/RPC2", header: func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, want: 401},
		{name: "bearer", url: "/RPC2", header: func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, want: 200},
		{name: "query", url: "/RPC2?token=s3cret", want: 200},
		{name: "basic password", url: "/RPC2", header: func(r *http.Request) { r.SetBasicAuth("anyone", "s3cret") }, want: 200},
		{name: "wrong basic password", url: "/RPC2", header: func(r *http.Request) { r.SetBasicAuth("anyone", "s3cre") }, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls
			req, _ := http.NewRequest("POST", srv.URL+tt.url, strings.NewReader(body))
			if tt.header != nil {
				tt.header(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tt.want)
			}
			if reached := calls > before; reached != (tt.want == 200) {
				t.Errorf("reached upstream: %v", reached)
			}
		})
	}
}
