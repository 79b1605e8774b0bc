package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/gateway"
)

func TestRequireToken(t *testing.T) {
	var calls int
	guard := gateway.RequireToken(gateway.NewHandler(versionUpstream(&calls), nil), "s3cret")
	srv := httptest.NewServer(guard)
	defer srv.Close()
	const body = versionCall

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

	// Rotation: the old token stops working, the new one works; no token
	// lets everything through.
	post := func(token string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/RPC2?token="+token, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	guard.SetToken("n3w")
	if got := post("s3cret"); got != 401 {
		t.Errorf("old token after rotation: %d", got)
	}
	if got := post("n3w"); got != 200 {
		t.Errorf("new token: %d", got)
	}
	guard.SetToken("")
	if got := post(""); got != 200 {
		t.Errorf("no token set: %d", got)
	}
}
