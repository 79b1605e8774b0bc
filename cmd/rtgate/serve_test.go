package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"gopkg.in/yaml.v3"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestOpenFailureLeavesNothingRunning: `rtgate run` opens everything
// before it starts anything, so a failure at any step returns an error
// naming it and leaves no goroutine, no listener and no locked engine
// session behind.
func TestOpenFailureLeavesNothingRunning(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		yaml    string // after the embedded engine's config
		wantErr string
	}{
		{name: "token file", yaml: "auth:\n  token_file: /nonexistent/token\n", wantErr: "auth.token_file"},
		{name: "backend", yaml: "engine:\n  data_dir: " + file + "/sub\n", wantErr: "engine:"},
		{name: "policy", yaml: "policy:\n  allow: [\"a b\"]\n", wantErr: "policy:"},
		{name: "http", yaml: "listen:\n  http: " + busy.Addr().String() + "\n", wantErr: "listen.http:"},
		{name: "http socket", yaml: "listen:\n  http: 127.0.0.1:0\n  http_socket: " + file + "/http.sock\n", wantErr: "listen.http_socket:"},
		{name: "token required", yaml: "listen:\n  http: 0.0.0.0:0\n", wantErr: "set auth.token_file"},
		{name: "scgi", yaml: "listen:\n  http: 127.0.0.1:0\n  scgi: tcp://0.0.0.0:0\n", wantErr: "SCGI cannot authenticate"},
		{name: "scgi group", yaml: "listen:\n  http: 127.0.0.1:0\n  scgi_group: no-such-group-here\n", wantErr: "listen.scgi: group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			dir := shortDir(t)
			conf, sock, _ := embeddedConfig(t, dir, "")
			extra := writeConfig(t, mergeYAML(t, conf, tt.yaml))
			var out bytes.Buffer
			err := NewMain(&out, &out).Run(context.Background(), []string{"-config", extra, "run"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q; log:\n%s", err, tt.wantErr, out.String())
			}
			if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the SCGI socket is left behind: %v", err)
			}
			// The engine's session is not held: a second run opens it.
			if tt.name != "backend" {
				ok := writeConfig(t, mergeYAML(t, conf, "listen:\n  http: \"\"\n"))
				s := startMainCtx(t, "-config", ok)
				s.stop(t)
			}
		})
	}
}

// mergeYAML returns the config file at path with extra merged in, key by
// key (extra's values win).
func mergeYAML(t *testing.T, path, extra string) string {
	t.Helper()
	base, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := yaml.Unmarshal(base, &a); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(extra), &b); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(merge(a, b))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func merge(a, b map[string]any) map[string]any {
	if a == nil {
		a = map[string]any{}
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := a[k].(map[string]any); ok {
				a[k] = merge(am, bm)
				continue
			}
		}
		a[k] = v
	}
	return a
}

// stoppable is a run the test stops itself.
type stoppable struct {
	cancel context.CancelFunc
	done   chan error
	log    *syncBuffer
}

func startMainCtx(t *testing.T, args ...string) *stoppable {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &stoppable{cancel: cancel, done: make(chan error, 1), log: &syncBuffer{}}
	go func() { s.done <- NewMain(s.log, s.log).Run(ctx, append(args, "run")) }()
	waitLog(t, s.log, "rtgate running")
	return s
}

func (s *stoppable) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	if err := <-s.done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestUpstreamPanicIsOneFault: a backend method that panics is answered
// with a fault on every door — SCGI, /RPC2 in XML-RPC and JSON-RPC, the
// WebSocket — logged with its stack and counted, and rtgate goes on
// serving.
func TestUpstreamPanicIsOneFault(t *testing.T) {
	dir := shortDir(t)
	conf, sock, _ := embeddedConfig(t, dir, "")
	panicky := func(c gateway.Caller) gateway.Caller {
		return callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
			// view.size with a view: a read rtgate never answers from
			// state, and that the poller makes only inside its multicalls.
			if method == "view.size" {
				var m map[string]int
				//lint:ignore SA5000 the nil-map panic is the engine bug this test stands for
				m["boom"]++
			}
			return c.Call(ctx, method, params...)
		})
	}
	s := startMain(t, func(m *Main) { m.wrapBackend = panicky }, "-config", conf, "-http", "127.0.0.1:0")
	addr := s.httpAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const want = "internal error answering view.size"

	// SCGI.
	sc, err := rtorrent.New("unix://"+sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.Call(ctx, "view.size", xmlrpc.NewString(""), xmlrpc.NewString("main"))
	var fault *xmlrpc.Fault
	if !errors.As(err, &fault) || fault.Code != xmlrpc.FaultInternal || !strings.Contains(fault.Message, want) {
		t.Errorf("SCGI: %v, want fault -500 saying %q", err, want)
	}
	// /RPC2, XML-RPC and JSON-RPC: answered, status 200.
	const hostXML = `<?xml version="1.0"?><methodCall><methodName>view.size</methodName><params><param><value><string></string></value></param><param><value><string>main</string></value></param></params></methodCall>`
	status, body, err := post(ctx, nil, "http://"+addr+"/RPC2", "text/xml", hostXML)
	if err != nil || status != 200 || !bodyHas(body, "<name>faultCode</name>", "-500", want) {
		t.Errorf("/RPC2 XML: %d %s %v", status, body, err)
	}
	status, body, err = post(ctx, nil, "http://"+addr+"/RPC2", "application/json", `{"jsonrpc":"2.0","id":1,"method":"view.size","params":["","main"]}`)
	if err != nil || status != 200 || !bodyHas(body, `"code":-32000`, want) {
		t.Errorf("/RPC2 JSON: %d %s %v", status, body, err)
	}
	// WebSocket.
	wc, err := client.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	_, err = wc.Call(ctx, "view.size", "", "main")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != protocol.CodeServerError || !strings.Contains(ce.Message, want) {
		t.Errorf("WebSocket: %v", err)
	}

	// Still serving, on every door.
	if v, err := sc.Call(ctx, "system.client_version"); err != nil || v.String() == "" {
		t.Errorf("SCGI after the panic: %v, %v", v, err)
	}
	if v, err := wc.Call(ctx, "system.client_version"); err != nil || len(v) == 0 {
		t.Errorf("WebSocket after the panic: %s, %v", v, err)
	}
	if status, body, err := post(ctx, nil, "http://"+addr+"/RPC2", "text/xml", versionXML); err != nil || status != 200 || !bodyHas(body, "<string>") {
		t.Errorf("/RPC2 after the panic: %d %s %v", status, body, err)
	}
	if got := s.m.stats.panics.Load(); got != 4 {
		t.Errorf("panics counted: %d, want 4", got)
	}
	log := s.log.String()
	if n := strings.Count(log, "upstream call panicked"); n != 4 || !strings.Contains(log, "goroutine ") || !strings.Contains(log, "assignment to entry in nil map") {
		t.Errorf("%d panics logged, want 4 with their stacks:\n%s", n, log)
	}
}

// callerFunc is a gateway.Caller made of a function.
type callerFunc func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)

func (f callerFunc) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	return f(ctx, method, params...)
}
