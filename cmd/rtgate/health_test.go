package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

func TestReadinessOf(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	connected := poller.Health{State: poller.StateConnected, Backend: "rtorrent"}
	failing := connected
	failing.Error = "fault -509: response too large"
	tests := []struct {
		name     string
		h        poller.Health
		polledAt time.Time
		interval time.Duration
		ready    bool
		reason   string
	}{
		{name: "fresh", h: connected, polledAt: now.Add(-time.Second), interval: time.Second, ready: true},
		{name: "connecting", h: poller.Health{State: poller.StateConnecting}, reason: "connecting to the backend"},
		{name: "reconnecting", h: poller.Health{State: poller.StateReconnecting, Error: "dial unix /secret/path: refused"}, reason: "the backend is not reachable"},
		{name: "disconnected", h: poller.Health{State: poller.StateDisconnected}, reason: "the backend is not reachable"},
		{name: "never polled", h: connected, reason: "no successful poll yet"},
		{name: "stale", h: connected, polledAt: now.Add(-11 * time.Second), interval: time.Second, reason: "the last successful poll is 11s old"},
		{name: "stale, polls fail", h: failing, polledAt: now.Add(-12 * time.Second), interval: time.Second, reason: "the last successful poll is 12s old; polls fail (the backend topic says why)"},
		{name: "slow ticks are not stale", h: connected, polledAt: now.Add(-50 * time.Second), interval: 20 * time.Second, ready: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readinessOf(tt.h, tt.polledAt, tt.interval, now)
			if r.Ready != tt.ready || r.Reason != tt.reason {
				t.Errorf("got ready %v %q, want %v %q", r.Ready, r.Reason, tt.ready, tt.reason)
			}
			if strings.Contains(r.Reason, "/secret/path") {
				t.Errorf("the reason reveals the error: %q", r.Reason)
			}
		})
	}
}

// TestHealthEndpoints: /healthz and /readyz answer without the token that
// /RPC2 requires, GET and HEAD only; `rtgate health` finds /readyz from
// listen.http (a wildcard host asked on loopback) or listen.http_socket.
func TestHealthEndpoints(t *testing.T) {
	dir := shortDir(t)
	httpSock := filepath.Join(dir, "http.sock")
	conf, _, _ := embeddedConfig(t, dir, "")
	conf = writeConfig(t, mergeYAML(t, conf, "auth:\n  token: s3cret\nlisten:\n  http: 127.0.0.1:0\n  http_socket: "+httpSock+"\n"))
	s := startMain(t, nil, "-config", conf)
	base := "http://" + s.httpAddr(t)
	if status, _, err := post(t.Context(), nil, base+"/RPC2", "text/xml", versionXML); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("/RPC2 without the token: %d %v", status, err)
	}
	waitReady(t, base+readyzPath, func(r readiness) bool { return r.Ready })
	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", healthzPath, 200, "ok\n"},
		{"HEAD", healthzPath, 200, ""},
		{"POST", healthzPath, 405, "GET or HEAD only"},
		{"GET", readyzPath, 200, `"ready":true,"backend":"embedded","state":"connected"`},
		{"POST", readyzPath, 405, "GET or HEAD only"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
	}

	_, port, _ := strings.Cut(s.httpAddr(t), ":")
	for _, args := range [][]string{
		{"health", "-url", base + readyzPath},
		{"-http", "0.0.0.0:" + port, "health"},
		{"-http", ":" + port, "health"},
		{"-http", "", "-config", writeConfig(t, "listen:\n  http_socket: "+httpSock+"\n"), "health"},
	} {
		out, err := runMain(t, args...)
		if err != nil || !strings.Contains(out, `"ready":true`) {
			t.Errorf("rtgate %s: %q, %v", strings.Join(args, " "), out, err)
		}
	}
	if _, err := runMain(t, "-http", "", "-scgi", "", "health"); err == nil || !strings.Contains(err.Error(), "pass -url") {
		t.Errorf("health with no HTTP listener configured: %v", err)
	}
}

// TestReadyzFollowsTheBackend: rTorrent killed, /readyz answers 503 saying
// the backend is not reachable and `rtgate health` fails; rTorrent back,
// it is ready again.
func TestReadyzFollowsTheBackend(t *testing.T) {
	rt := rtorrenttest.Start(t, nil)
	conf := writeConfig(t, "backend: rtorrent\npoll:\n  interval: 100ms\nlisten:\n  http: 127.0.0.1:0\n  scgi: \"\"\n")
	s := startMain(t, nil, "-config", conf, "-rtorrent", rt.Addr())
	url := "http://" + s.httpAddr(t) + readyzPath
	waitReady(t, url, func(r readiness) bool { return r.Ready && r.LastPoll > 0 })

	rt.Kill()
	r := waitReady(t, url, func(r readiness) bool { return !r.Ready })
	if r.Reason != "the backend is not reachable" || r.Backend != "rtorrent" || r.LastPoll != 0 {
		t.Errorf("readiness with rTorrent gone: %+v", r)
	}
	if out, err := runMain(t, "health", "-url", url); err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(out, `"ready":false`) {
		t.Errorf("rtgate health with rTorrent gone: %q, %v", out, err)
	}

	rt.Restart(t)
	waitReady(t, url, func(r readiness) bool { return r.Ready })
}

// waitReady polls a /readyz URL until its body satisfies cond, failing
// after 20 s, and returns that body. A 200 must say ready, a 503 not.
func waitReady(t *testing.T, url string, cond func(readiness) bool) readiness {
	t.Helper()
	var last readiness
	var lastErr error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		last, lastErr = getReadiness(t, url)
		if lastErr == nil && cond(last) {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never satisfied the condition: last %+v, %v", url, last, lastErr)
	return last
}

func getReadiness(t *testing.T, url string) (readiness, error) {
	var r readiness
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return r, err
	}
	if (resp.StatusCode == http.StatusOK) != r.Ready || (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable) {
		t.Errorf("/readyz answered %d with ready %v", resp.StatusCode, r.Ready)
	}
	return r, nil
}
