package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    func(*Config) // adjusts DefaultConfig to the expected result
		wantErr string
	}{
		{name: "empty file keeps defaults", yaml: "", want: func(*Config) {}},
		{
			name: "all keys",
			yaml: "rtorrent:\n  address: unix:///tmp/rpc.sock\n  timeout: 5s\n  retries: 2\n  wait: 2s\nlog:\n  level: debug\n  format: json\n",
			want: func(c *Config) {
				c.RTorrent = RTorrentConfig{Address: "unix:///tmp/rpc.sock", Timeout: 5 * time.Second, Retries: 2, Wait: 2 * time.Second}
				c.Log = LogConfig{Level: "debug", Format: "json"}
			},
		},
		{
			name:    "unknown nested key names key, line and section",
			yaml:    "rtorrent:\n  address: /tmp/x\n  adress: /tmp/y\n",
			wantErr: `line 3: unknown key "adress" in rtorrent (known keys: address, retries, timeout, wait)`,
		},
		{
			name:    "unknown top-level key",
			yaml:    "log:\n  level: info\nfrontdoor: scgi\n",
			wantErr: `line 3: unknown key "frontdoor" at the top level (known keys: auth, backend, engine, listen, log, policy, poll, rtorrent, websocket)`,
		},
		{
			name:    "bad duration",
			yaml:    "rtorrent:\n  timeout: soon\n",
			wantErr: "line 2: cannot unmarshal !!str `soon` into time.Duration",
		},
		{
			name:    "malformed yaml",
			yaml:    "rtorrent: [\n",
			wantErr: "yaml:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			err := ParseConfig(strings.NewReader(tt.yaml), &cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultConfig()
			tt.want(&want)
			if !reflect.DeepEqual(cfg, want) {
				t.Fatalf("got %+v\nwant %+v", cfg, want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{name: "defaults", mutate: func(*Config) {}},
		{name: "negative timeout", mutate: func(c *Config) { c.RTorrent.Timeout = -time.Second }, wantErr: "rtorrent.timeout"},
		{name: "negative wait", mutate: func(c *Config) { c.RTorrent.Wait = -time.Second }, wantErr: "rtorrent.wait"},
		{name: "negative retries", mutate: func(c *Config) { c.RTorrent.Retries = -1 }, wantErr: "rtorrent.retries"},
		{name: "bad level", mutate: func(c *Config) { c.Log.Level = "loud" }, wantErr: `log.level: "loud"`},
		{name: "bad format", mutate: func(c *Config) { c.Log.Format = "xml" }, wantErr: `log.format: "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rtgate.yml")
	if err := os.WriteFile(path, []byte("rtorrent:\n  address: /from/file\n  timeout: 7s\nlog:\n  level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	m := NewMain(&stdout, &stderr)
	if err := m.Run(context.Background(), []string{"-config", path, "-rtorrent", "/from/flag", "version"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Config.RTorrent.Address; got != "/from/flag" {
		t.Errorf("address = %q, want the flag's value", got)
	}
	if got := m.Config.RTorrent.Timeout; got != 7*time.Second {
		t.Errorf("timeout = %v, want the file's 7s", got)
	}
	if got := m.Config.Log.Level; got != "warn" {
		t.Errorf("log level = %q, want the file's warn", got)
	}
	if !strings.HasPrefix(stdout.String(), "rtgate ") {
		t.Errorf("version printed %q", stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no backend configured", args: []string{"info"}, wantErr: "no rTorrent address configured"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`},
		{name: "call without method", args: []string{"-rtorrent", "/nowhere", "call"}, wantErr: "call: no method given"},
		{name: "missing config file", args: []string{"-config", "/does/not/exist.yml"}, wantErr: "config: open /does/not/exist.yml"},
		{name: "bad address", args: []string{"-rtorrent", "ftp://x", "info"}, wantErr: "ftp://x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := NewMain(&out, &out).Run(context.Background(), tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
