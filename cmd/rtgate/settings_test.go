package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// keyTests names, for every configuration key, the tests that show that
// changing it changes what rtgate does. TestEveryConfigKeyHasATest keeps
// it complete: a new key needs a test before it lands.
var keyTests = map[string][]string{
	"backend":                   {"TestAutoWithoutRTorrentUsesTheEngine", "TestSettingRTorrentTimeout"},
	"rtorrent.address":          {"TestInfoAndCallAgainstRTorrent", "TestEnvSettings"},
	"rtorrent.timeout":          {"TestSettingRTorrentTimeout"},
	"rtorrent.retries":          {"TestSettingRTorrentRetries"},
	"rtorrent.wait":             {"TestSettingRTorrentWait"},
	"engine.data_dir":           {"TestEmbeddedThroughTheDoors"},
	"engine.session_dir":        {"TestEmbeddedThroughTheDoors"},
	"engine.port":               {"TestSettingsEngine"},
	"engine.disable_dht":        {"TestSettingsEngine"},
	"poll.interval":             {"TestSettingsPoll"},
	"poll.full_sweep":           {"TestSettingsPoll"},
	"poll.answer_reads":         {"TestSettingsAnswerReads"},
	"poll.event_hooks":          {"TestSettingsEventHooks"},
	"listen.http":               {"TestServeLegacyDoors", "TestServeRefusesUnsafeListeners", "TestEnvSettings"},
	"listen.http_socket":        {"TestSettingsListen"},
	"listen.scgi":               {"TestServeLegacyDoors"},
	"listen.scgi_mode":          {"TestServeLegacyDoors"},
	"listen.scgi_owner":         {"TestSettingsListen"},
	"listen.scgi_group":         {"TestServeLegacyDoors"},
	"listen.xml_only":           {"TestSettingsListen"},
	"auth.token":                {"TestSettingsAuth"},
	"auth.token_file":           {"TestTokenRotation"},
	"websocket.origins":         {"TestSettingsWebSocket"},
	"websocket.max_connections": {"TestSettingsWebSocket"},
	"websocket.call_rate":       {"TestSettingsWebSocket"},
	"websocket.read_limit":      {"TestSettingsWebSocket"},
	"websocket.compression":     {"TestSettingsWebSocket"},
	"policy.allow":              {"TestSettingsPolicy"},
	"policy.deny":               {"TestSettingsPolicy"},
	"policy.directories":        {"TestSettingsPolicy", "TestServeLegacyDoors"},
	"log.level":                 {"TestSettingsLog"},
	"log.format":                {"TestSettingsLog"},
}

// TestEveryConfigKeyHasATest: every key of Config is in keyTests, every
// test named there exists, and keyTests names no key Config lacks.
func TestEveryConfigKeyHasATest(t *testing.T) {
	keys := configKeys(reflect.TypeOf(Config{}), "")
	defined := testNames(t)
	for _, k := range keys {
		names, ok := keyTests[k]
		if !ok {
			t.Errorf("configuration key %s has no test in keyTests", k)
		}
		for _, n := range names {
			if !defined[n] {
				t.Errorf("keyTests[%s] names %s, which is not a test here", k, n)
			}
		}
	}
	for k := range keyTests {
		found := false
		for _, have := range keys {
			found = found || have == k
		}
		if !found {
			t.Errorf("keyTests names %s, which is not a configuration key", k)
		}
	}
}

// configKeys lists the dotted YAML keys of a config struct's leaves.
func configKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for _, f := range configFields(t, prefix, nil) {
		keys = append(keys, f.key)
	}
	return keys
}

// testNames returns the names of the Test functions of this package's
// test files.
func testNames(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	out := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	return out
}

// TestSettingRTorrentTimeout: rtorrent.timeout bounds every upstream path
// of `run` — the raw XML-RPC path, the decoded JSON-RPC path and the
// poller — against an rTorrent that never answers; backend: rtorrent keeps
// rTorrent (no fallback to the engine) when it does not answer at start.
func TestSettingRTorrentTimeout(t *testing.T) {
	hang := startHangingSCGI(t)
	for _, tt := range []struct {
		name    string
		timeout string
		bounded bool // the 504 comes back before the client gives up
	}{
		{name: "short", timeout: "300ms", bounded: true},
		{name: "long", timeout: "4s", bounded: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conf := writeConfig(t, "backend: rtorrent\nrtorrent:\n  address: "+hang.sock+"\n  timeout: "+tt.timeout+"\n  retries: 0\nlisten:\n  http: 127.0.0.1:0\n  scgi: \"\"\n")
			s := startMain(t, nil, "-config", conf)
			if !strings.Contains(s.log.String(), "backend=rtorrent") || !strings.Contains(s.log.String(), "keeps trying") {
				t.Errorf("backend: rtorrent did not keep rTorrent:\n%s", s.log.String())
			}
			url := "http://" + s.httpAddr(t) + "/RPC2"
			for _, call := range []struct{ ctype, body string }{{"text/xml", versionXML}, {"application/json", versionJSON}} {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				status, body, err := post(ctx, nil, url, call.ctype, call.body)
				cancel()
				switch {
				case tt.bounded && (err != nil || status != http.StatusGatewayTimeout || !strings.Contains(body, "deadline exceeded")):
					t.Errorf("%s: %d %q %v; want 504 from the 300ms bound", call.ctype, status, body, err)
				case !tt.bounded && !errors.Is(err, context.DeadlineExceeded):
					t.Errorf("%s: %d %q %v; want no answer within 2 s", call.ctype, status, body, err)
				}
			}
			if tt.bounded {
				waitLog(t, s.log, "context deadline exceeded") // the poller's connect attempt
			}
		})
	}
}

// TestSettingRTorrentRetries: rtorrent.retries is how many more times a
// refused connection is tried, by `call` and by every path of `run`.
func TestSettingRTorrentRetries(t *testing.T) {
	sock := staleSocket(t)
	for _, tt := range []struct {
		retries int
		want    string
	}{{0, ": 1 attempt:"}, {2, ": 3 attempts:"}} {
		t.Run(fmt.Sprint(tt.retries), func(t *testing.T) {
			conf := writeConfig(t, fmt.Sprintf("backend: rtorrent\nrtorrent:\n  address: %s\n  retries: %d\nlisten:\n  http: 127.0.0.1:0\n  scgi: \"\"\n", sock, tt.retries))
			if _, err := runMain(t, "-config", conf, "call", "system.pid"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("call: %v, want %q", err, tt.want)
			}
			s := startMain(t, nil, "-config", conf)
			url := "http://" + s.httpAddr(t) + "/RPC2"
			for _, call := range []struct{ ctype, body string }{{"text/xml", versionXML}, {"application/json", versionJSON}} {
				status, body, err := post(t.Context(), nil, url, call.ctype, call.body)
				if err != nil || status != http.StatusBadGateway || !strings.Contains(body, tt.want) {
					t.Errorf("%s: %d %q %v; want 502 %s", call.ctype, status, body, err, tt.want)
				}
			}
		})
	}
}

// TestSettingsEngine: engine.port is the port the engine takes peers on;
// engine.disable_dht refuses torrents without a tracker, as rTorrent does
// without DHT.
func TestSettingsEngine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	trackerless := rtorrenttest.MakeTorrent(t, t.TempDir(), "no-tracker.bin", 16<<10, &rtorrenttest.TorrentOptions{NoAnnounce: true})
	for _, tt := range []struct {
		name    string
		yaml    string
		port    int // 0: any
		refused bool
	}{
		{name: "port and no dht", yaml: fmt.Sprintf("engine:\n  port: %d\n  disable_dht: true\n", port), port: port, refused: true},
		{name: "dht", yaml: "engine:\n  disable_dht: false\n", refused: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := shortDir(t)
			conf, sock, _ := embeddedConfig(t, dir, "")
			startMain(t, nil, "-config", writeConfig(t, mergeYAML(t, conf, tt.yaml)))
			c, err := rtorrent.New("unix://"+sock, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			v, err := c.Call(ctx, "network.listen.port")
			if err != nil || tt.port != 0 && v.Int() != int64(tt.port) {
				t.Errorf("network.listen.port = %v, %v; want %d", v, err, tt.port)
			}
			_, err = c.Call(ctx, "load.raw_verbose", xmlrpc.NewString(""), xmlrpc.NewBase64(trackerless.Bytes))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Call(ctx, "d.hash", xmlrpc.NewString(trackerless.Hash))
			if refused := err != nil; refused != tt.refused {
				t.Errorf("trackerless torrent refused: %v (%v), want %v", refused, err, tt.refused)
			}
		})
	}
}

// TestSettingsPoll: poll.interval is how soon a download added behind
// rtgate's back shows on the torrents topic; poll.full_sweep how soon a
// change to a stopped one (which only a sweep reads) shows.
func TestSettingsPoll(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		direct := rt.Client(t)
		stopped := rtorrenttest.MakeTorrentBytes(t, "poll-stopped.bin", 16<<10)
		rtorrenttest.Load(t, direct, stopped, nil)
		for i, tt := range []struct {
			name, yaml string
			seen       bool
			change     func(t *testing.T) string // makes a change, returns what the topic must then say
		}{
			{name: "interval short", yaml: "poll:\n  interval: 100ms\n  full_sweep: 1h\n", seen: true, change: addBehind(rt, "poll-a.bin")},
			{name: "interval long", yaml: "poll:\n  interval: 1h\n  full_sweep: 1h\n", seen: false, change: addBehind(rt, "poll-b.bin")},
			{name: "sweep short", yaml: "poll:\n  interval: 100ms\n  full_sweep: 300ms\n", seen: true, change: labelBehind(rt, stopped, "label-1")},
			{name: "sweep long", yaml: "poll:\n  interval: 100ms\n  full_sweep: 1h\n", seen: false, change: labelBehind(rt, stopped, "label-2")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := startMain(t, nil, "-rtorrent", rt.Addr(), "-scgi", "", "-http", "127.0.0.1:0", "-config", writeConfig(t, tt.yaml))
				waitLog(t, s.log, "poller: connected")
				ctx := t.Context()
				c, err := client.Dial(ctx, "ws://"+s.httpAddr(t)+"/ws", nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				sub, err := c.Subscribe(ctx, "torrents", nil)
				if err != nil {
					t.Fatal(err)
				}
				if m, err := sub.Next(ctx); err != nil || m.Kind != client.KindSnapshot {
					t.Fatalf("first message %+v, %v", m, err)
				}
				want := tt.change(t)
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				seen := false
				for !seen {
					m, err := sub.Next(wctx)
					if err != nil {
						break
					}
					seen = strings.Contains(string(m.Data), want)
				}
				if seen != tt.seen {
					t.Errorf("case %d: change %q seen within 2 s: %v, want %v", i, want, seen, tt.seen)
				}
			})
		}
	})
}

// addBehind loads a torrent on rTorrent's own socket; the topic then names
// its hash.
func addBehind(rt *rtorrenttest.Instance, name string) func(t *testing.T) string {
	return func(t *testing.T) string {
		tr := rtorrenttest.MakeTorrentBytes(t, name, 16<<10)
		rtorrenttest.Load(t, rt.Client(t), tr, nil)
		return tr.Hash
	}
}

// labelBehind sets a stopped download's label on rTorrent's own socket.
func labelBehind(rt *rtorrenttest.Instance, tr rtorrenttest.Torrent, label string) func(t *testing.T) string {
	return func(t *testing.T) string {
		if _, err := rt.Client(t).Call(t.Context(), "d.custom1.set", xmlrpc.NewString(tr.Hash), xmlrpc.NewString(label)); err != nil {
			t.Fatal(err)
		}
		return label
	}
}

// TestSettingsListen: listen.http_socket serves /RPC2 on a unix socket;
// listen.scgi_owner gives the SCGI socket to a user; listen.xml_only
// answers JSON-RPC as rTorrent 0.9.8 does.
func TestSettingsListen(t *testing.T) {
	dir := shortDir(t)
	conf, sock, _ := embeddedConfig(t, dir, "")
	httpSock := filepath.Join(dir, "http.sock")
	yaml := "listen:\n  http: 127.0.0.1:0\n  http_socket: " + httpSock + "\n  xml_only: true\n"
	owner := ""
	if os.Getuid() == 0 {
		owner = "nobody"
		yaml += "  scgi_owner: nobody\n"
	}
	s := startMain(t, nil, "-config", writeConfig(t, mergeYAML(t, conf, yaml)))
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", httpSock)
	}}}
	defer hc.CloseIdleConnections()
	status, body, err := post(t.Context(), hc, "http://rtgate/RPC2", "text/xml", versionXML)
	if err != nil || status != 200 || !strings.Contains(body, "<string>0.9.8</string>") {
		t.Errorf("/RPC2 on listen.http_socket: %d %q %v", status, body, err)
	}
	// xml_only: the JSON probe gets XML-RPC's parse fault, on every door.
	for _, door := range []struct {
		name string
		hc   *http.Client
		url  string
	}{{"tcp", nil, "http://" + s.httpAddr(t) + "/RPC2"}, {"unix", hc, "http://rtgate/RPC2"}} {
		status, body, err := post(t.Context(), door.hc, door.url, "application/json", versionJSON)
		if err != nil || status != 200 || !strings.Contains(body, "<fault>") {
			t.Errorf("%s: JSON with xml_only: %d %q %v", door.name, status, body, err)
		}
	}
	if owner != "" {
		fi, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid == 0 {
			t.Errorf("scgi_owner nobody: the socket still belongs to uid %d", uid)
		}
	}
}

// TestSettingsAuth: auth.token is required on /RPC2 and /ws.
func TestSettingsAuth(t *testing.T) {
	dir := shortDir(t)
	conf, _, _ := embeddedConfig(t, dir, "")
	s := startMain(t, nil, "-config", writeConfig(t, mergeYAML(t, conf, "auth:\n  token: s3cret\nlisten:\n  http: 127.0.0.1:0\n")))
	url := "http://" + s.httpAddr(t) + "/RPC2"
	if status, _, err := post(t.Context(), nil, url, "text/xml", versionXML); err != nil || status != http.StatusUnauthorized {
		t.Errorf("no token: %d %v", status, err)
	}
	if status, _, err := post(t.Context(), nil, url+"?token=s3cret", "text/xml", versionXML); err != nil || status != 200 {
		t.Errorf("token: %d %v", status, err)
	}
	ws := "ws://" + s.httpAddr(t) + "/ws"
	var he *client.HandshakeError
	if _, err := client.Dial(t.Context(), ws, nil); !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Errorf("ws without the token: %v", err)
	}
	c, err := client.Dial(t.Context(), ws, &client.Options{Token: "s3cret"})
	if err != nil {
		t.Fatalf("ws with the token: %v", err)
	}
	c.Close()
}

// TestSettingsWebSocket: each websocket.* key reaches the WebSocket door.
func TestSettingsWebSocket(t *testing.T) {
	dir := shortDir(t)
	conf, _, _ := embeddedConfig(t, dir, "")
	s := startMain(t, nil, "-config", writeConfig(t, mergeYAML(t, conf,
		"listen:\n  http: 127.0.0.1:0\nwebsocket:\n  origins: [\"ui.example.com\"]\n  call_rate: 0.001\n  read_limit: 1024\n  compression: true\n")))
	url := "ws://" + s.httpAddr(t) + "/ws"
	ctx := t.Context()

	t.Run("origins", func(t *testing.T) {
		for _, tt := range []struct {
			origin string
			ok     bool
		}{{"https://ui.example.com", true}, {"https://evil.example", false}} {
			c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {tt.origin}}})
			if err == nil {
				c.CloseNow()
			}
			if (err == nil) != tt.ok || !tt.ok && resp.StatusCode != http.StatusForbidden {
				t.Errorf("Origin %s: %v", tt.origin, err)
			}
		}
	})
	t.Run("compression", func(t *testing.T) {
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionNoContextTakeover})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
			t.Errorf("no permessage-deflate negotiated: %q", ext)
		}
	})
	t.Run("read limit", func(t *testing.T) {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		big := `{"jsonrpc":"2.0","id":1,"method":"d.name","params":["` + strings.Repeat("A", 2000) + `"]}`
		c.Write(ctx, websocket.MessageText, []byte(big))
		_, _, err = c.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Errorf("a 2 KB frame over read_limit 1024: %v, want close 1009", err)
		}
	})
	t.Run("call rate", func(t *testing.T) {
		c, err := client.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var ce *client.Error
		limited := false
		for i := 0; i < 110 && !limited; i++ { // a burst of 100, then 0.001 per second
			_, err := c.Call(ctx, "system.client_version")
			limited = errors.As(err, &ce) && ce.Code == protocol.CodeLimited
			if err != nil && !limited {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if !limited {
			t.Error("110 calls at call_rate 0.001 were never limited")
		}
	})
	t.Run("max connections", func(t *testing.T) {
		// An instance of its own: connections the other subtests closed
		// may still count in this one's.
		conf, _, _ := embeddedConfig(t, shortDir(t), "")
		s := startMain(t, nil, "-config", writeConfig(t, mergeYAML(t, conf, "listen:\n  http: 127.0.0.1:0\nwebsocket:\n  max_connections: 2\n")))
		url := "ws://" + s.httpAddr(t) + "/ws"
		// Two held open, unread (nothing is sent to them), then a third.
		for range 2 {
			c, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
		}
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, _, err = c.Read(rctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusCode(protocol.CloseTooManyConns) {
			t.Errorf("past max_connections 2: %v, want close %d", err, protocol.CloseTooManyConns)
		}
	})
}

// TestSettingsPolicy: policy.allow opens a command the defaults deny,
// policy.deny closes one they allow, policy.directories replaces the
// default root (rTorrent's directory.default).
func TestSettingsPolicy(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		root := t.TempDir()
		sock := filepath.Join(shortDir(t), "rtgate.sock")
		startMain(t, nil, "-rtorrent", rt.Addr(), "-http", "", "-scgi", sock, "-config",
			writeConfig(t, "policy:\n  allow: [\"system.env\"]\n  deny: [\"d.erase\"]\n  directories: [\""+root+"\"]\n"))
		c, err := rtorrent.New("unix://"+sock, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if _, err := c.Call(ctx, "system.env", xmlrpc.NewString(""), xmlrpc.NewString("HOME")); err != nil {
			t.Errorf("system.env with allow: %v", err)
		}
		refused := func(err error) bool {
			var f *xmlrpc.Fault
			return errors.As(err, &f) && f.Code == xmlrpc.FaultRefused
		}
		tr := rtorrenttest.MakeTorrentBytes(t, "policy.bin", 16<<10)
		load := func(dir string) error {
			_, err := c.Call(ctx, "load.raw", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes), xmlrpc.NewString(`d.directory.set="`+dir+`"`))
			return err
		}
		if err := load(rt.DownloadDir); !refused(err) {
			t.Errorf("a load into directory.default outside policy.directories: %v, want -507", err)
		}
		if err := load(filepath.Join(root, "x")); err != nil {
			t.Errorf("a load below policy.directories: %v", err)
		}
		rtorrenttest.WaitLoaded(t, rt.Client(t), tr.Hash)
		if _, err := c.Call(ctx, "d.erase", xmlrpc.NewString(tr.Hash)); !refused(err) {
			t.Errorf("d.erase with deny: %v, want -507", err)
		}
	})
}

// TestSettingsLog: log.level drops what is below it; log.format json
// writes one JSON object a line.
func TestSettingsLog(t *testing.T) {
	dir := shortDir(t)
	conf, _, _ := embeddedConfig(t, dir, "")
	s := startMain(t, nil, "-config", writeConfig(t, mergeYAML(t, conf, "log:\n  level: debug\n  format: json\n")))
	sc := bufio.NewScanner(strings.NewReader(s.log.String()))
	lines := 0
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		lines++
	}
	if lines == 0 {
		t.Fatal("nothing logged")
	}

	// warn: "rtgate running" (info) is not logged, so run it by hand and
	// wait until it answers.
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	conf2, sock, _ := embeddedConfig(t, shortDir(t), "")
	done := make(chan error, 1)
	go func() {
		done <- NewMain(&out, &out).Run(ctx, []string{"-config", writeConfig(t, mergeYAML(t, conf2, "log:\n  level: warn\n")), "run"})
	}()
	c, err := rtorrent.New("unix://"+sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	rtorrenttest.WaitFor(t, "rtgate answers", func() bool {
		_, err := c.Call(ctx, "system.client_version")
		return err == nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "level=INFO") {
		t.Errorf("log.level warn logged info lines:\n%s", out.String())
	}
}

// TestSettingsAnswerReads: with poll.answer_reads (the default), a list
// read again and again reaches rTorrent only while rtgate learns it; with
// it off, every time.
func TestSettingsAnswerReads(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		rtorrenttest.Load(t, rt.Client(t), rtorrenttest.MakeTorrentBytes(t, "answer.bin", 16<<10), nil)
		body, err := xmlrpc.Encoder{}.AppendCall(nil, "d.multicall2", []xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewString("main"), xmlrpc.NewString("d.hash="), xmlrpc.NewString("d.name=")})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			yaml    string
			reached int // of the last five reads
		}{
			{"poll:\n  interval: 50ms\n", 0},
			{"poll:\n  interval: 50ms\n  answer_reads: false\n", 5},
		} {
			proxy := rt.NewProxy(t)
			sock := filepath.Join(shortDir(t), "rtgate.sock")
			s := startMain(t, nil, "-rtorrent", proxy.Addr(), "-scgi", sock, "-http", "", "-config", writeConfig(t, tt.yaml))
			waitLog(t, s.log, "poller: connected")
			for range 5 { // learning
				scgiBody(t, sock, "text/xml", body)
				time.Sleep(60 * time.Millisecond)
			}
			before := proxy.Count(body)
			for range 5 {
				scgiBody(t, sock, "text/xml", body)
			}
			if got := proxy.Count(body) - before; got != tt.reached {
				t.Errorf("%q: %d of 5 reads reached rTorrent, want %d", tt.yaml, got, tt.reached)
			}
		}
	})
}

// TestSettingsEventHooks: with poll.event_hooks (the default) rtgate's
// handler is on rTorrent's events while it runs; with it off, never.
func TestSettingsEventHooks(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		direct := rt.Client(t)
		hooked := func() bool {
			v, err := direct.Call(t.Context(), "method.list_keys", xmlrpc.NewString(""), xmlrpc.NewString("event.download.erased"))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range v.Values() {
				if k.String() == "~rtgate" {
					return true
				}
			}
			return false
		}
		for _, tt := range []struct {
			yaml string
			want bool
		}{
			{"poll:\n  interval: 50ms\n", true},
			{"poll:\n  interval: 50ms\n  event_hooks: false\n", false},
		} {
			t.Run(fmt.Sprint(tt.want), func(t *testing.T) {
				s := startMain(t, nil, "-rtorrent", rt.Addr(), "-scgi", "", "-http", "", "-config", writeConfig(t, tt.yaml))
				waitLog(t, s.log, "poller: connected")
				if got := hooked(); got != tt.want {
					t.Errorf("%q: rtgate's handler installed %v, want %v", tt.yaml, got, tt.want)
				}
			})
		}
	})
}
