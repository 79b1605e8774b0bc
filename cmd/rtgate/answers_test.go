package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// stateRead is one read a legacy client makes, as the XML body it sends.
type stateRead struct {
	name   string
	method string
	params []xmlrpc.Value
	body   []byte
}

// stateReads are the reads answered from state that the differential
// tests send through every door: Flood's and ruTorrent's polls as they
// capture them, a pyrosimple-style list of a custom view, getters and
// settings.
func stateReads(t *testing.T, v rtorrenttest.Version, mix rtorrenttest.Mix) []stateRead {
	t.Helper()
	flood, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rtorrent-0.9.8", "flood-multicall.call.xml"))
	if err != nil {
		t.Fatal(err)
	}
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(flood))
	if err != nil {
		t.Fatal(err)
	}
	reads := []stateRead{{name: "Flood's list", method: method, params: params, body: flood}}
	for _, c := range rtorrenttest.RuTorrentPoll(v) {
		reads = append(reads, stateRead{name: "ruTorrent's " + c.Method, method: c.Method, params: c.Params, body: c.Body})
	}
	entry := func(m string, ps ...xmlrpc.Value) xmlrpc.Value {
		return xmlrpc.NewStruct(xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(m)}, xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(ps...)})
	}
	s := xmlrpc.NewString
	for _, r := range []struct {
		name, method string
		params       []xmlrpc.Value
	}{
		{"custom view", "d.multicall2", []xmlrpc.Value{s(""), s(rtorrenttest.MixView), s("d.hash="), s("d.name="), s("d.custom=addtime"), s("d.views=")}},
		{"getter", "d.custom1", []xmlrpc.Value{s(mix.Stopped)}},
		{"Flood's files", "f.multicall", []xmlrpc.Value{s(mix.Multi), s(""), s("f.path="), s("f.priority="), s("f.size_bytes="), s("f.size_chunks="), s("f.completed_chunks=")}},
		{"Flood's trackers", "t.multicall", []xmlrpc.Value{s(mix.Seeding), s(""), s("t.url="), s("t.type="), s("t.is_enabled=")}},
		{"Flood's peers", "p.multicall", []xmlrpc.Value{s(mix.Seeding), s(""), s("p.address="), s("p.client_version="), s("p.completed_percent="), s("p.down_rate="), s("p.up_rate="), s("p.is_encrypted="), s("p.is_incoming=")}},
		{"getters", "system.multicall", []xmlrpc.Value{xmlrpc.NewArray(entry("d.name", s(mix.Multi)), entry("d.size_bytes", s(mix.Seeding)), entry("d.custom", s(mix.Stopped), s("addtime")))}},
		{"settings", "system.multicall", []xmlrpc.Value{xmlrpc.NewArray(entry("directory.default", s("")), entry("throttle.global_down.max_rate", s("")), entry("network.port_range", s("")), entry("system.client_version"))}},
	} {
		body, err := xmlrpc.Encoder{}.AppendCall(nil, r.method, r.params)
		if err != nil {
			t.Fatal(err)
		}
		reads = append(reads, stateRead{name: r.name, method: r.method, params: r.params, body: body})
	}
	return reads
}

// scgiBody sends body to an SCGI socket and returns the reply's body.
func scgiBody(t *testing.T, socket, contentType string, body []byte) []byte {
	t.Helper()
	c, err := scgi.NewClient(socket, &scgi.ClientOptions{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadsFromStateAreRTorrentsBytes: once rtgate has learned them,
// Flood's and ruTorrent's polls, lists, getters and settings no longer
// reach rTorrent (a proxy in front of it counts), and every door answers
// them as rTorrent would at the same moment: the SCGI socket and /RPC2
// with rTorrent's own XML bytes, /RPC2's JSON-RPC with rTorrent 0.16's own
// JSON bytes (0.9.8: the JSON of its XML answer), the WebSocket with the
// same values.
func TestReadsFromStateAreRTorrentsBytes(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		mix := rtorrenttest.LoadMix(t, rt, rt.Client(t))
		proxy := rt.NewProxy(t)
		sock := filepath.Join(shortDir(t), "rtgate.sock")
		s := startMain(t, nil, "-rtorrent", proxy.Addr(), "-http", "127.0.0.1:0", "-scgi", sock)
		url := "http://" + s.httpAddr(t) + "/RPC2"
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		wc, err := client.Dial(ctx, "ws://"+s.httpAddr(t)+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer wc.Close()
		direct := rt.Client(t)

		for _, r := range stateReads(t, rt.Version, mix) {
			t.Run(r.name, func(t *testing.T) {
				// Warm-up: rtgate learns what it lacks from the first reads.
				rtorrenttest.WaitForWithin(t, 10*time.Second, "answered without rTorrent", func() bool {
					n := proxy.Count(r.body)
					scgiBody(t, sock, "text/xml", r.body)
					return proxy.Count(r.body) == n
				})
				before := proxy.Count(r.body)
				fresh := freshCount(s)
				jsonBody := fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":%q,"params":%s}`, r.method, jsonrpc.AppendValue(nil, xmlrpc.NewArray(r.params...)))
				sameMomentAsRTorrent(t, rt, r, func() [][]byte {
					_, viaHTTP, err := post(ctx, nil, url, "text/xml", string(r.body))
					if err != nil {
						t.Fatal(err)
					}
					return [][]byte{scgiBody(t, sock, "text/xml", r.body), []byte(viaHTTP)}
				})
				// JSON-RPC over /RPC2, and the WebSocket.
				for try := 0; ; try++ {
					want, err := direct.Call(ctx, r.method, r.params...)
					if err != nil {
						t.Fatal(err)
					}
					wantJSON := jsonrpc.AppendResult(nil, json.RawMessage("7"), want)
					// 0.16 answers JSON itself, but for xmlrpc-c's own
					// system.multicall, which rtgate answers over JSON too.
					if !rt.Version.Legacy() && r.method != "system.multicall" {
						wantJSON = scgiBody(t, rt.Socket, "application/json", []byte(jsonBody))
					}
					_, gotJSON, err := post(ctx, nil, url, "application/json", jsonBody)
					if err != nil {
						t.Fatal(err)
					}
					gotWS, err := wc.Call(ctx, r.method, wsParams(r.params)...)
					if err != nil {
						t.Fatal(err)
					}
					if freeSpaceColumn(r) >= 0 { // compared as values, that column masked
						gotJSON, wantJSON = maskJSON(gotJSON, r), []byte(maskJSON(string(wantJSON), r))
						var doc map[string]json.RawMessage
						json.Unmarshal([]byte(maskJSON(`{"result":`+string(gotWS)+`}`, r)), &doc)
						gotWS = doc["result"]
						want = maskValue(want, freeSpaceColumn(r))
					}
					if gotJSON == string(wantJSON) && sameJSON(gotWS, jsonrpc.AppendValue(nil, want)) {
						break
					}
					if try == 10 {
						t.Fatalf("JSON-RPC %s\nwant %s\nWebSocket %s", gotJSON, wantJSON, gotWS)
					}
					time.Sleep(100 * time.Millisecond)
				}
				if n := proxy.Count(r.body); n != before {
					t.Errorf("%d of these reads reached rTorrent after warm-up", n-before)
				}
				if freshCount(s) <= fresh {
					t.Error("the fresh-answer counter did not move")
				}
			})
		}
	})
}

// sameMomentAsRTorrent checks that each of got's answers is rTorrent's,
// byte for byte, just before or just after it (values that change on
// their own, d.free_diskspace and open sockets, may move in between),
// retried over a few ticks.
func sameMomentAsRTorrent(t *testing.T, rt *rtorrenttest.Instance, r stateRead, got func() [][]byte) {
	t.Helper()
	directBody := func() []byte {
		b, err := rt.RawCall(context.Background(), r.body)
		if err != nil {
			t.Fatal(err)
		}
		return b[bytes.Index(b, []byte("\r\n\r\n"))+4:]
	}
	col := freeSpaceColumn(r)
	var answers [][]byte
	var before, after []byte
	for range 10 {
		before = maskColumn(directBody(), col)
		answers = got()
		for i := range answers {
			answers[i] = maskColumn(answers[i], col)
		}
		after = maskColumn(directBody(), col)
		ok := true
		for _, a := range answers {
			ok = ok && (bytes.Equal(a, before) || bytes.Equal(a, after))
		}
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, a := range answers {
		if !bytes.Equal(a, before) && !bytes.Equal(a, after) {
			t.Errorf("door %d answered\n%q\nrTorrent answers\n%q", i, a, after)
		}
	}
}

// freeSpaceColumn is the index of a list's d.free_diskspace field, which
// moves with every byte any process writes to the disk, or -1.
func freeSpaceColumn(r stateRead) int {
	for i, p := range r.params {
		if p.String() == "d.free_diskspace=" {
			return i - 2
		}
	}
	return -1
}

// maskJSON replaces the d.free_diskspace column of the list in a JSON-RPC
// answer's result with 0, re-encoding it.
func maskJSON(s string, r stateRead) string {
	var doc map[string]any
	if json.Unmarshal([]byte(s), &doc) != nil {
		return s
	}
	rows, _ := doc["result"].([]any)
	for _, row := range rows {
		if vals, ok := row.([]any); ok && freeSpaceColumn(r) < len(vals) {
			vals[freeSpaceColumn(r)] = 0
		}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// maskValue zeroes column col of each row of a list.
func maskValue(v xmlrpc.Value, col int) xmlrpc.Value {
	rows := make([]xmlrpc.Value, v.Len())
	for i, row := range v.Values() {
		vals := append([]xmlrpc.Value(nil), row.Values()...)
		if col < len(vals) {
			vals[col] = xmlrpc.NewInt(0)
		}
		rows[i] = xmlrpc.NewArray(vals...)
	}
	return xmlrpc.NewArray(rows...)
}

// maskColumn replaces, in a list reply in rTorrent's layout (one value per
// line inside each row), the value of column col of every row with "*".
func maskColumn(body []byte, col int) []byte {
	if col < 0 {
		return body
	}
	rows := bytes.Split(body, []byte("<value><array><data>\r\n"))
	for i := 2; i < len(rows); i++ { // [0] the prolog, [1] the outer array's opening
		lines := bytes.Split(rows[i], []byte("\r\n"))
		if col < len(lines) {
			lines[col] = []byte("*")
		}
		rows[i] = bytes.Join(lines, []byte("\r\n"))
	}
	return bytes.Join(rows, []byte("<value><array><data>\r\n"))
}

// wsParams are XML-RPC params as the WebSocket client takes them.
func wsParams(ps []xmlrpc.Value) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = json.RawMessage(jsonrpc.AppendValue(nil, p))
	}
	return out
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && fmt.Sprint(x) == fmt.Sprint(y)
}

// freshCount is how many reads rtgate has answered from state.
func freshCount(s *started) int64 {
	var n int64
	for _, c := range s.m.stats.reads.Load().Stats() {
		n += c.Fresh
	}
	return n
}

// TestUnanswerableReadsReachRTorrent: reads the state cannot answer (a
// field rTorrent lacks (one the policy knows: an unknown command is the
// policy's to refuse), a view it lacks, a download it lacks, a field
// without its =) reach rTorrent every time, and its fault comes back
// byte for byte.
func TestUnanswerableReadsReachRTorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, nil)
		mix := rtorrenttest.LoadMix(t, rt, rt.Client(t))
		proxy := rt.NewProxy(t)
		sock := filepath.Join(shortDir(t), "rtgate.sock")
		startMain(t, nil, "-rtorrent", proxy.Addr(), "-http", "", "-scgi", sock)
		s := xmlrpc.NewString
		for _, r := range []struct {
			name, method string
			params       []xmlrpc.Value
		}{
			{"field rTorrent lacks", "d.multicall2", []xmlrpc.Value{s(""), s("main"), s("d.hash="), s("d.timestamp.last_active=")}},
			{"unknown view", "d.multicall2", []xmlrpc.Value{s(""), s("nosuchview"), s("d.hash=")}},
			{"field without =", "d.multicall2", []xmlrpc.Value{s(""), s("main"), s("d.hash=")}},
			{"unknown download", "d.name", []xmlrpc.Value{s("0123456789ABCDEF0123456789ABCDEF01234567")}},
			{"files of an unknown download", "f.multicall", []xmlrpc.Value{s("0123456789ABCDEF0123456789ABCDEF01234567"), s(""), s("f.path=")}},
			{"getter with a bad argument", "d.custom", []xmlrpc.Value{s(mix.Stopped), s("a,b")}},
		} {
			t.Run(r.name, func(t *testing.T) {
				if r.name == "field without =" {
					r.params[2] = s("d.hash")
				}
				body, err := xmlrpc.Encoder{}.AppendCall(nil, r.method, r.params)
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					before := proxy.Count(body)
					got := scgiBody(t, sock, "text/xml", body)
					if proxy.Count(body) != before+1 {
						t.Fatalf("the read did not reach rTorrent")
					}
					want, err := rt.RawCall(context.Background(), body)
					if err != nil {
						t.Fatal(err)
					}
					if want = want[bytes.Index(want, []byte("\r\n\r\n"))+4:]; !bytes.Equal(got, want) {
						t.Fatalf("rtgate answered\n%q\nrTorrent answers\n%q", got, want)
					}
					time.Sleep(60 * time.Millisecond)
				}
			})
		}
	})
}
