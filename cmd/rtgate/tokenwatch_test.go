package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
)

// TestTokenRotation: writing a new token to auth.token_file (by renaming a
// new file over it) rotates it without a restart, on /RPC2 and on the
// WebSocket door, where connections made with the old token are closed.
func TestTokenRotation(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, _, _ := embeddedConfig(t, dir, "auth:\n  token_file: "+tokenFile+"\n")
	log := startRun(t, "-config", conf, "-http", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="http listening" addr=(\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no http address in the log:\n%s", log.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rpc := func(token string) int {
		body := `<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>`
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+m[1]+"/RPC2", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	wsURL := "ws://" + m[1] + "/ws"

	if got := rpc("one"); got != 200 {
		t.Fatalf("/RPC2 with the first token: %d", got)
	}
	old, err := client.Dial(ctx, wsURL, &client.Options{Token: "one"})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	next := filepath.Join(dir, "token.new")
	if err := os.WriteFile(next, []byte("two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, tokenFile); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rpc("one") != 401 {
		if time.Now().After(deadline) {
			t.Fatalf("the old token still works on /RPC2; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := rpc("two"); got != 200 {
		t.Errorf("/RPC2 with the new token: %d", got)
	}
	var hs *client.HandshakeError
	if _, err := client.Dial(ctx, wsURL, &client.Options{Token: "one"}); !errors.As(err, &hs) || hs.StatusCode != 401 {
		t.Errorf("WebSocket with the old token: %v, want 401", err)
	}
	c, err := client.Dial(ctx, wsURL, &client.Options{Token: "two"})
	if err != nil {
		t.Fatalf("WebSocket with the new token: %v", err)
	}
	c.Close()
	select {
	case <-old.Done():
	case <-ctx.Done():
		t.Error("the connection made with the old token is still open")
	}
	if !strings.Contains(log.String(), "auth token rotated") {
		t.Errorf("rotation not logged:\n%s", log.String())
	}
}
