package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the table of environment variables in docs/deploy.md")

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"backend":          "RTGATE_BACKEND",
		"rtorrent.address": "RTGATE_RTORRENT_ADDRESS",
		"listen.http":      "RTGATE_LISTEN_HTTP",
		"listen.scgi_mode": "RTGATE_LISTEN_SCGI_MODE",
	} {
		if got := envName(key); got != want {
			t.Errorf("envName(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		check   func(c Config) bool
		wantErr string
	}{
		{name: "string", env: []string{"RTGATE_RTORRENT_ADDRESS=unix:///sock/rtorrent/rpc.sock"},
			check: func(c Config) bool { return c.RTorrent.Address == "unix:///sock/rtorrent/rpc.sock" }},
		{name: "empty string turns a door off", env: []string{"RTGATE_LISTEN_HTTP="},
			check: func(c Config) bool { return c.Listen.HTTP == "" }},
		{name: "duration", env: []string{"RTGATE_POLL_INTERVAL=250ms", "RTGATE_RTORRENT_WAIT=1m30s"},
			check: func(c Config) bool {
				return c.Poll.Interval == 250*time.Millisecond && c.RTorrent.Wait == 90*time.Second
			}},
		{name: "numbers", env: []string{"RTGATE_RTORRENT_RETRIES=7", "RTGATE_WEBSOCKET_CALL_RATE=2.5", "RTGATE_WEBSOCKET_READ_LIMIT=1024"},
			check: func(c Config) bool {
				return c.RTorrent.Retries == 7 && c.WebSocket.CallRate == 2.5 && c.WebSocket.ReadLimit == 1024
			}},
		{name: "bool", env: []string{"RTGATE_ENGINE_DISABLE_DHT=true"},
			check: func(c Config) bool { return c.Engine.DisableDHT }},
		{name: "mode", env: []string{"RTGATE_LISTEN_SCGI_MODE=0640"},
			check: func(c Config) bool { return c.Listen.SCGIMode == 0o640 }},
		{name: "list", env: []string{"RTGATE_POLICY_DIRECTORIES=/data/a, /data/b,"},
			check: func(c Config) bool { return slices.Equal(c.Policy.Directories, []string{"/data/a", "/data/b"}) }},
		{name: "empty list", env: []string{"RTGATE_POLICY_DENY="},
			check: func(c Config) bool { return len(c.Policy.Deny) == 0 }},
		{name: "the last of a repeated variable wins", env: []string{"RTGATE_BACKEND=embedded", "RTGATE_BACKEND=rtorrent"},
			check: func(c Config) bool { return c.Backend == "rtorrent" }},
		{name: "other variables are not read", env: []string{"HOME=/root", "rtgate_backend=embedded", "XRTGATE_BACKEND=embedded"},
			check: func(c Config) bool { return c.Backend == "auto" }},
		{name: "bad duration", env: []string{"RTGATE_POLL_INTERVAL=soon"},
			wantErr: `environment RTGATE_POLL_INTERVAL (poll.interval): "soon" is not a duration like 30s or 1m30s`},
		{name: "bad number", env: []string{"RTGATE_ENGINE_PORT=http"},
			wantErr: `environment RTGATE_ENGINE_PORT (engine.port): "http" is not a whole number`},
		{name: "empty number", env: []string{"RTGATE_ENGINE_PORT="},
			wantErr: `environment RTGATE_ENGINE_PORT (engine.port): empty: want a whole number`},
		{name: "bad bool", env: []string{"RTGATE_LISTEN_XML_ONLY=maybe"},
			wantErr: `environment RTGATE_LISTEN_XML_ONLY (listen.xml_only): "maybe" is not true or false`},
		{name: "bad mode", env: []string{"RTGATE_LISTEN_SCGI_MODE=0999"},
			wantErr: `environment RTGATE_LISTEN_SCGI_MODE (listen.scgi_mode): "0999" is not an octal permission mode like 0660`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			unknown, err := applyEnv(&c, tt.env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(unknown) > 0 {
				t.Fatalf("applyEnv: %v, unknown %v", err, unknown)
			}
			if !tt.check(c) {
				t.Errorf("config not as expected: %+v", c)
			}
		})
	}
}

// TestApplyEnvUnknown: RTGATE_* variables that name no key are returned,
// not errors (Kubernetes sets RTGATE_PORT and others for a service named
// rtgate); RTGATE_CONFIG is the file's name, not unknown.
func TestApplyEnvUnknown(t *testing.T) {
	c := DefaultConfig()
	unknown, err := applyEnv(&c, []string{"RTGATE_SERVICE_HOST=10.0.0.1", "RTGATE_PORT=tcp://10.0.0.1:5080", "RTGATE_CONFIG=/config/rtgate.yaml", "RTGATE_LISTEN_HTTP=:5080"})
	if err != nil || !slices.Equal(unknown, []string{"RTGATE_PORT", "RTGATE_SERVICE_HOST"}) || c.Listen.HTTP != ":5080" {
		t.Errorf("unknown %v, %v, listen.http %q", unknown, err, c.Listen.HTTP)
	}
}

// TestEnvOrder: through Run, RTGATE_CONFIG names the file, RTGATE_*
// variables win over it and flags over both; a bad variable stops rtgate
// with an error naming it; unknown ones are warned about.
func TestEnvOrder(t *testing.T) {
	conf := writeConfig(t, "log:\n  level: debug\nlisten:\n  http: 127.0.0.1:1111\n  scgi: /run/file.sock\npoll:\n  interval: 3s\n")
	t.Setenv(envConfigFile, conf)
	t.Setenv("RTGATE_LISTEN_HTTP", "127.0.0.1:2222")
	t.Setenv("RTGATE_LISTEN_SCGI", "/run/env.sock")
	t.Setenv("RTGATE_LSTEN_XML_ONLY", "true")
	var out bytes.Buffer
	m := NewMain(&out, &out)
	if err := m.Run(t.Context(), []string{"-http", "127.0.0.1:3333", "version"}); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Log.Level != "debug" || c.Poll.Interval != 3*time.Second || c.Listen.SCGI != "/run/env.sock" || c.Listen.HTTP != "127.0.0.1:3333" {
		t.Errorf("file < environment < flags broken: %+v", c)
	}
	if !strings.Contains(out.String(), "name no configuration key") || !strings.Contains(out.String(), "RTGATE_LSTEN_XML_ONLY") {
		t.Errorf("no warning about the misspelt variable:\n%s", out.String())
	}

	t.Setenv("RTGATE_POLL_FULL_SWEEP", "often")
	_, err := runMain(t, "version")
	if err == nil || !strings.Contains(err.Error(), "RTGATE_POLL_FULL_SWEEP (poll.full_sweep)") {
		t.Errorf("bad variable: %v", err)
	}
	t.Setenv("RTGATE_POLL_FULL_SWEEP", "1m")
	t.Setenv("RTGATE_BACKEND", "rtorrent")
	t.Setenv("RTGATE_RTORRENT_ADDRESS", "")
	if _, err := runMain(t, "version"); err == nil || !strings.Contains(err.Error(), "backend: rtorrent needs rtorrent.address") {
		t.Errorf("the environment's values are not validated: %v", err)
	}
}

// TestEveryKeyHasAVariable: every configuration key is set by its
// variable (a value of its kind changes it), and docs/deploy.md's table
// lists every variable (go test ./cmd/rtgate -run TestEveryKeyHasAVariable
// -update-docs rewrites it).
func TestEveryKeyHasAVariable(t *testing.T) {
	fields := configFields(reflect.TypeOf(Config{}), "", nil)
	var rows []string
	for _, f := range fields {
		rows = append(rows, fmt.Sprintf("| `%s` | `%s` | %s |", f.key, envName(f.key), envKind(f.typ)))
		c := DefaultConfig()
		before := reflect.ValueOf(c).FieldByIndex(f.index).Interface()
		value, ok := sampleValue(f.typ, before)
		if !ok {
			t.Errorf("%s: no sample value for type %v: add one to sampleValue", f.key, f.typ)
			continue
		}
		if _, err := applyEnv(&c, []string{envName(f.key) + "=" + value}); err != nil {
			t.Errorf("%s: %v", f.key, err)
			continue
		}
		if after := reflect.ValueOf(c).FieldByIndex(f.index).Interface(); reflect.DeepEqual(before, after) {
			t.Errorf("%s=%s left %s at %v", envName(f.key), value, f.key, before)
		}
	}

	const begin, end = "<!-- begin: environment variables (TestEveryKeyHasAVariable) -->\n", "<!-- end: environment variables -->\n"
	path := filepath.Join("..", "..", "docs", "deploy.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok1 := strings.Cut(string(doc), begin)
	_, tail, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the markers %q and %q", path, begin, end)
	}
	table := "| key | variable | value |\n| --- | --- | --- |\n" + strings.Join(rows, "\n") + "\n"
	want := head + begin + table + end + tail
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s's table of environment variables is not current: run go test ./cmd/rtgate -run TestEveryKeyHasAVariable -update-docs", path)
	}
}

// sampleValue returns a value for a variable of type t that differs from
// the default, or false for a type it does not know.
func sampleValue(t reflect.Type, def any) (string, bool) {
	switch {
	case t == durationType:
		return "1h7m", true
	case t == modeType:
		return "0604", true
	case t.Kind() == reflect.String:
		return "/sample", true
	case t.Kind() == reflect.Bool:
		return fmt.Sprint(!def.(bool)), true
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "4242", true
	case t.Kind() == reflect.Float64:
		return "4.25", true
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "/a,/b", true
	}
	return "", false
}

// TestEnvSettings: rtgate configured by the environment alone serves the
// rTorrent RTGATE_RTORRENT_ADDRESS names, on the listener
// RTGATE_LISTEN_HTTP names, behind the token RTGATE_AUTH_TOKEN sets.
func TestEnvSettings(t *testing.T) {
	rt := rtorrenttest.Start(t, nil)
	for k, v := range map[string]string{
		"RTGATE_BACKEND":          "rtorrent",
		"RTGATE_RTORRENT_ADDRESS": rt.Addr(),
		"RTGATE_LISTEN_HTTP":      "127.0.0.1:0",
		"RTGATE_LISTEN_SCGI":      "",
		"RTGATE_AUTH_TOKEN":       "s3cret",
	} {
		t.Setenv(k, v)
	}
	s := startMain(t, nil)
	if log := s.log.String(); !strings.Contains(log, "backend=rtorrent version="+rt.Version.Name) || strings.Contains(log, "scgi listening") {
		t.Errorf("not the rTorrent and doors the environment names:\n%s", log)
	}
	url := "http://" + s.httpAddr(t) + "/RPC2"
	if status, _, err := post(t.Context(), nil, url, "text/xml", versionXML); err != nil || status != http.StatusUnauthorized {
		t.Errorf("without the token: %d %v", status, err)
	}
	if status, body, err := post(t.Context(), nil, url+"?token=s3cret", "text/xml", versionXML); err != nil || status != 200 || !strings.Contains(body, rt.Version.Name) {
		t.Errorf("with the token: %d %q %v", status, body, err)
	}
}
