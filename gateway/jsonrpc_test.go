package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// jsonReply is one decoded JSON-RPC response object.
type jsonReply struct {
	ID      json.RawMessage `json:"id"`
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// checkJSONBody checks what Flood needs of a JSON-RPC reply: one line, no
// newline anywhere, no null result.
func checkJSONBody(t testing.TB, body []byte) {
	t.Helper()
	if bytes.ContainsAny(body, "\r\n") {
		t.Errorf("reply holds a line break: %q", body)
	}
	if bytes.Contains(body, []byte(`"result":null`)) {
		t.Errorf("reply holds a null result: %q", body)
	}
}

func decodeJSON[T any](t testing.TB, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d, reply %.300q: %v", r.status, r.body, err)
	}
	return v
}

func TestJSONRPCSingle(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "json-single", 12345)
		loadTorrent(t, b.client, tr)
		// A name that is not UTF-8 and holds a control character.
		odd := rtorrenttest.MakeTorrentBytes(t, "odd\xff\x01name", 1000)
		loadTorrent(t, b.client, odd)
		d := b.door(t, true, nil, nil)

		tests := []struct {
			name string
			req  string
			want string // the whole reply
		}{
			{"version", `{"jsonrpc":"2.0","id":1,"method":"system.client_version","params":[]}`,
				`{"id":1,"jsonrpc":"2.0","result":"` + ver(t) + `"}`},
			{"no params", `{"jsonrpc":"2.0","id":"a","method":"system.client_version"}`,
				`{"id":"a","jsonrpc":"2.0","result":"` + ver(t) + `"}`},
			{"null id", `{"jsonrpc":"2.0","id":null,"method":"d.name","params":["` + tr.Hash + `"]}`,
				`{"id":null,"jsonrpc":"2.0","result":"json-single"}`},
			{"integers", `{"jsonrpc":"2.0","id":2,"method":"d.size_bytes","params":["` + tr.Hash + `"]}`,
				`{"id":2,"jsonrpc":"2.0","result":12345}`},
			{"void is 0", `{"jsonrpc":"2.0","id":3,"method":"d.custom.set","params":["` + tr.Hash + `","k","v"]}`,
				`{"id":3,"jsonrpc":"2.0","result":0}`},
			{"bool param", `{"jsonrpc":"2.0","id":4,"method":"d.priority.set","params":["` + tr.Hash + `",true]}`,
				`{"id":4,"jsonrpc":"2.0","result":0}`},
			{"bool became 1", `{"jsonrpc":"2.0","id":5,"method":"d.priority","params":["` + tr.Hash + `"]}`,
				`{"id":5,"jsonrpc":"2.0","result":1}`},
			{"custom back", `{"jsonrpc":"2.0","id":5,"method":"d.custom","params":["` + tr.Hash + `","k"]}`,
				`{"id":5,"jsonrpc":"2.0","result":"v"}`},
			{"multicall", `{"jsonrpc":"2.0","id":6,"method":"d.multicall2","params":["","main","d.hash=","d.size_bytes=","d.custom=k"]}`,
				""}, // order of rows is rTorrent's; checked below
			{"odd name", `{"jsonrpc":"2.0","id":7,"method":"d.name","params":["` + odd.Hash + `"]}`,
				`{"id":7,"jsonrpc":"2.0","result":"` + rtorrenttest.VersionOf(t).OddName(odd.Name) + `"}`}, // rTorrent's own sanitizing
			{"string id kept as sent", `{"jsonrpc":"2.0", "id" : "x\"y" ,"method":"system.client_version"}`,
				`{"id":"x\"y","jsonrpc":"2.0","result":"` + ver(t) + `"}`},
		}
		for _, tt := range tests {
			for _, tp := range transports {
				t.Run(tt.name+"/"+tp.name, func(t *testing.T) {
					r := tp.send(d, t, "application/json", []byte(tt.req))
					checkJSONBody(t, r.body)
					if r.status != 200 || r.ctype != "application/json" {
						t.Errorf("status %d, Content-Type %q", r.status, r.ctype)
					}
					if tt.want != "" && string(r.body) != tt.want {
						t.Errorf("reply\n %s\nwant\n %s", r.body, tt.want)
					}
					if tt.name == "multicall" {
						var rows [][]any
						if err := json.Unmarshal(decodeJSON[jsonReply](t, r).Result, &rows); err != nil {
							t.Fatal(err)
						}
						found := false
						for _, row := range rows {
							if row[0] == tr.Hash {
								found = fmt.Sprint(row) == fmt.Sprintf("[%s 12345 v]", tr.Hash)
							}
						}
						if len(rows) != 2 || !found {
							t.Errorf("rows %v", rows)
						}
					}
				})
			}
		}

		t.Run("listMethods", func(t *testing.T) {
			r := d.doSCGI(t, "application/json", []byte(`{"jsonrpc":"2.0","id":null,"method":"system.listMethods","params":[]}`))
			var names []string
			if err := json.Unmarshal(decodeJSON[jsonReply](t, r).Result, &names); err != nil || len(names) != rtorrenttest.VersionOf(t).Methods() {
				t.Errorf("%d names, err %v", len(names), err)
			}
		})
	})
}

// TestJSONRPCValues checks the translation of every XML-RPC kind to JSON.
// rTorrent answers only integers, strings and arrays, so a stub answers the
// rest.
func TestJSONRPCValues(t *testing.T) {
	result := xmlrpc.NewArray(
		xmlrpc.NewInt(-7), xmlrpc.NewBool(true), xmlrpc.NewBool(false), xmlrpc.NewString("a\"b\\c\n\x01\xff\u2028é"),
		xmlrpc.NewBase64([]byte{0, 1, 2, 0xff}), xmlrpc.NewDouble(1.5), xmlrpc.NewDouble(math.Inf(1)), xmlrpc.Value{},
		xmlrpc.NewDateTime("20240102T03:04:05"), xmlrpc.NewArray(),
		xmlrpc.NewStruct(xmlrpc.Member{Name: "z", Value: xmlrpc.NewInt(1)}, xmlrpc.Member{Name: "a\"", Value: xmlrpc.NewArray(xmlrpc.NewInt(2))}),
	)
	var gotParams []xmlrpc.Value
	stub := callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		gotParams = params
		return result, nil
	})
	d := startDoor(t, stub, nil, nil)
	r := d.postHTTP(t, "application/json", []byte(`{"jsonrpc":"2.0","id":1,"method":"cat","params":["",-1,true,false,"x\u00e9",[1,["y"]],{"b":2,"a":"1"}]}`))
	const want = `{"id":1,"jsonrpc":"2.0","result":[-7,1,0,"a\"b\\c\n\u0001\ufffd\u2028é","AAEC/w==",1.5,0,0,"20240102T03:04:05",[],{"z":1,"a\"":[2]}]}`
	if string(r.body) != want {
		t.Errorf("reply\n %s\nwant\n %s", r.body, want)
	}
	wantParams := []xmlrpc.Value{str(""), xmlrpc.NewInt(-1), xmlrpc.NewInt(1), xmlrpc.NewInt(0), str("xé"),
		xmlrpc.NewArray(xmlrpc.NewInt(1), xmlrpc.NewArray(str("y"))),
		xmlrpc.NewStruct(xmlrpc.Member{Name: "a", Value: str("1")}, xmlrpc.Member{Name: "b", Value: xmlrpc.NewInt(2)})}
	if len(gotParams) != len(wantParams) {
		t.Fatalf("params %v", gotParams)
	}
	for i := range wantParams {
		if !gotParams[i].Equal(wantParams[i]) {
			t.Errorf("param %d: %v, want %v", i, gotParams[i], wantParams[i])
		}
	}
}

// TestJSONRPCFloodParsing reads a JSON reply exactly as Flood's JSON mode
// does: the whole SCGI reply, headers included, then JSON.parse of what
// follows its last "\n".
func TestJSONRPCFloodParsing(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		d := b.door(t, true, nil, nil)
		body := `{"jsonrpc":"2.0","id":null,"method":"system.listMethods","params":[]}`
		header := fmt.Sprintf("CONTENT_LENGTH\x00%d\x00CONTENT_TYPE\x00application/json\x00SCGI\x001\x00", len(body))
		whole := exchange(t, "unix", d.socket, netstring(header)+body)
		var names []string
		var resp jsonReply
		if err := json.Unmarshal([]byte(whole[strings.LastIndex(whole, "\n"):]), &resp); err != nil {
			t.Fatalf("Flood could not parse %.300q: %v", whole, err)
		}
		if err := json.Unmarshal(resp.Result, &names); err != nil || len(names) != rtorrenttest.VersionOf(t).Methods() {
			t.Errorf("%d names, err %v", len(names), err)
		}
	})
}

func TestJSONRPCBatch(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "json-batch", 1000)
		loadTorrent(t, b.client, tr)
		var n counter
		d := startDoor(t, n.caller(b.client), &gateway.CoalesceOptions{Raw: b.raw}, nil)

		t.Run("flood transfer summary", func(t *testing.T) {
			// Flood's JSON mode turns system.multicall into a batch of id null.
			req := `[{"jsonrpc":"2.0","id":null,"method":"throttle.global_down.rate","params":[""]},` +
				`{"jsonrpc":"2.0","id":null,"method":"throttle.global_down.total","params":[""]},` +
				`{"jsonrpc":"2.0","id":null,"method":"throttle.global_up.rate","params":[""]},` +
				`{"jsonrpc":"2.0","id":null,"method":"throttle.global_up.total","params":[""]}]`
			before := n.calls.Load()
			for _, tp := range transports {
				r := tp.send(d, t, "application/json", []byte(req))
				checkJSONBody(t, r.body)
				got := decodeJSON[[]jsonReply](t, r)
				if len(got) != 4 {
					t.Fatalf("%d responses: %s", len(got), r.body)
				}
				for i, g := range got {
					var v int64
					if g.Error != nil || json.Unmarshal(g.Result, &v) != nil || string(g.ID) != "null" {
						t.Errorf("response %d: %s", i, r.body)
					}
				}
			}
			if calls := n.calls.Load() - before; calls != 2 {
				t.Errorf("%d upstream calls for two batches, want 2 (one system.multicall each)", calls)
			}
		})

		t.Run("mixed", func(t *testing.T) {
			req := `[` +
				`{"jsonrpc":"2.0","id":1,"method":"d.name","params":["` + tr.Hash + `"]},` +
				`42,` +
				`{"jsonrpc":"2.0","id":3,"method":"execute.throw","params":["","sh","-c","id"]},` +
				`{"jsonrpc":"2.0","id":4,"method":"d.down.sequential","params":["` + tr.Hash + `"]},` +
				`{"jsonrpc":"2.0","method":"d.custom.set","params":["` + tr.Hash + `","note","notified"]},` +
				`{"jsonrpc":"2.0","id":6,"method":"d.priority.set","params":["` + tr.Hash + `",1.5]},` +
				`{"jsonrpc":"2.0","id":7,"method":"d.name","params":["` + hash + `"]},` +
				`{"jsonrpc":"2.0","id":8,"method":"d.custom","params":["` + tr.Hash + `","note"]}` +
				`]`
			before := n.calls.Load()
			r := d.doSCGI(t, "application/json", []byte(req))
			checkJSONBody(t, r.body)
			want := `[{"id":1,"jsonrpc":"2.0","result":"json-batch"},` +
				`{"error":{"code":-32600,"message":"invalid request: not an object"},"id":null,"jsonrpc":"2.0"},` +
				`{"error":{"code":-507,"message":"rtgate: method \"execute.throw\" refused by policy"},"id":3,"jsonrpc":"2.0"},` +
				`{"error":{"code":-32601,"message":"Method 'd.down.sequential' not defined"},"id":4,"jsonrpc":"2.0"},` +
				`{"error":{"code":-32602,"message":"param 2: invalid parameters: 1.5 is not an integer (rTorrent has no floating point)"},"id":6,"jsonrpc":"2.0"},` +
				`{"error":{"code":-32602,"message":"` + rtorrenttest.VersionOf(t).UnknownHash().Message + `"},"id":7,"jsonrpc":"2.0"},` +
				`{"id":8,"jsonrpc":"2.0","result":"notified"}]`
			if string(r.body) != want {
				t.Errorf("reply\n %s\nwant\n %s", r.body, want)
			}
			if calls := n.calls.Load() - before; calls != 1 {
				t.Errorf("%d upstream calls, want 1", calls)
			}
		})
	})
}

func TestJSONRPCErrors(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		var n counter
		d := startDoor(t, n.caller(b.client), &gateway.CoalesceOptions{Raw: n.raw(b.raw)}, nil)
		tests := []struct {
			name string
			req  string
			want string
		}{
			{"not JSON", `{"jsonrpc":`, `{"error":{"code":-32700,"message":"parse error: the body is not valid JSON"},"id":null,"jsonrpc":"2.0"}`},
			{"empty batch", `[]`, `{"error":{"code":-32600,"message":"invalid request: empty batch"},"id":null,"jsonrpc":"2.0"}`},
			{"not an object", `"system.client_version"`, `{"error":{"code":-32600,"message":"invalid request: not an object"},"id":null,"jsonrpc":"2.0"}`},
			{"no version", `{"id":1,"method":"system.client_version"}`, `{"error":{"code":-32600,"message":"invalid request: \"jsonrpc\" must be \"2.0\""},"id":1,"jsonrpc":"2.0"}`},
			{"method not a string", `{"jsonrpc":"2.0","id":1,"method":7}`, `{"error":{"code":-32600,"message":"invalid request: \"method\" must be a string"},"id":1,"jsonrpc":"2.0"}`},
			{"bad id", `{"jsonrpc":"2.0","id":{},"method":"system.client_version"}`, `{"error":{"code":-32600,"message":"invalid request: id must be a string, a number or null"},"id":null,"jsonrpc":"2.0"}`},
			{"named params", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":{"target":"x"}}`,
				`{"error":{"code":-32602,"message":"invalid parameters: rTorrent takes positional params only (params[0] is the target)"},"id":1,"jsonrpc":"2.0"}`},
			{"params not an array", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":"x"}`, `{"error":{"code":-32600,"message":"invalid request: \"params\" must be an array"},"id":1,"jsonrpc":"2.0"}`},
			{"null param", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":[null]}`, `{"error":{"code":-32602,"message":"param 1: invalid parameters: null (rTorrent has no null)"},"id":1,"jsonrpc":"2.0"}`},
			{"huge integer", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":[99999999999999999999]}`, `{"error":{"code":-32602,"message":"param 1: invalid parameters: 99999999999999999999 does not fit 64 bits"},"id":1,"jsonrpc":"2.0"}`},
			{"refused", `{"jsonrpc":"2.0","id":1,"method":"d.multicall2","params":["","main","d.hash=","cat=\"$execute.throw=sh,-c,id\""]}`,
				`{"error":{"code":-507,"message":"rtgate: method \"execute.throw\" refused by policy (inside d.multicall2 field 2)"},"id":1,"jsonrpc":"2.0"}`},
			{"load data not a torrent", `{"jsonrpc":"2.0","id":1,"method":"load.start_throw","params":["","data:applications/x-bittorrent;base64,aGVsbG8="]}`,
				`{"error":{"code":-32602,"message":"invalid parameters: the data URI does not hold a torrent file"},"id":1,"jsonrpc":"2.0"}`},
		}
		for _, tt := range tests {
			for _, tp := range transports {
				t.Run(tt.name+"/"+tp.name, func(t *testing.T) {
					r := tp.send(d, t, "application/json", []byte(tt.req))
					checkJSONBody(t, r.body)
					if r.status != 200 || string(r.body) != tt.want {
						t.Errorf("status %d, reply\n %s\nwant\n %s", r.status, r.body, tt.want)
					}
				})
			}
		}
		t.Run("notifications only", func(t *testing.T) {
			for _, tp := range transports {
				r := tp.send(d, t, "application/json", []byte(`[{"jsonrpc":"2.0","method":"execute.throw"},{"jsonrpc":"2.0","method":"d.name","params":[1.5]}]`))
				if r.status != http.StatusNoContent || len(r.body) != 0 {
					t.Errorf("%s: status %d, body %q", tp.name, r.status, r.body)
				}
			}
		})
		if got := n.calls.Load(); got != 0 {
			t.Errorf("%d calls reached rTorrent, want none", got)
		}
	})
}

// TestJSONRPCFloodAdd adds torrents as Flood's JSON mode does: a batch of
// load.start_throw with data URIs and Flood's extra commands, translated to
// load.raw_start for 0.9.8; the answers are the info hashes Flood collects.
func TestJSONRPCFloodAdd(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		// Flood sets the destination with d.directory.set: allowed here as
		// doc.go tells Flood users to.
		pol, err := policy.New(policy.Config{Allow: []string{"d.directory.set", "d.directory_base.set"}})
		if err != nil {
			t.Fatal(err)
		}
		d := b.door(t, true, nil, &gateway.HandlerOptions{Policy: pol})
		var entries []string
		var torrents []rtorrenttest.Torrent
		for i := range 3 {
			tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, fmt.Sprintf("flood-add-%d", i), 50<<10, nil)
			torrents = append(torrents, tr)
			params, _ := json.Marshal([]string{"", "data:applications/x-bittorrent;base64," + base64.StdEncoding.EncodeToString(tr.Bytes),
				`d.tied_to_file.set=""`, "d.custom.set=addtime,1700000000", `d.directory.set="` + b.rt.DownloadDir + `"`, `d.custom1.set="tag"`})
			entries = append(entries, `{"jsonrpc":"2.0","id":null,"method":"load.start_throw","params":`+string(params)+`}`)
		}
		r := d.doSCGI(t, "application/json", []byte("["+strings.Join(entries, ",")+"]"))
		checkJSONBody(t, r.body)
		got := decodeJSON[[]jsonReply](t, r)
		for i, tr := range torrents {
			if string(got[i].Result) != `"`+tr.Hash+`"` {
				t.Errorf("answer %d: %s, want the hash %s", i, r.body, tr.Hash)
			}
			waitFor(t, func() bool {
				v, err := b.client.Call(context.Background(), "d.custom1", str(tr.Hash))
				return err == nil && v.String() == "tag"
			})
			if v, _ := b.client.Call(context.Background(), "d.custom", str(tr.Hash), str("addtime")); v.String() != "1700000000" {
				t.Errorf("addtime %v", v)
			}
		}

		// Without the configuration, the default policy refuses the
		// destination, and nothing is added.
		plain := b.door(t, true, nil, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "flood-add-refused", 1000)
		params, _ := json.Marshal([]string{"", "data:applications/x-bittorrent;base64," + base64.StdEncoding.EncodeToString(tr.Bytes), `d.directory.set="/etc"`})
		r = plain.doSCGI(t, "application/json", []byte(`{"jsonrpc":"2.0","id":1,"method":"load.start_throw","params":`+string(params)+`}`))
		if want := `{"error":{"code":-507,"message":"rtgate: method \"d.directory.set\" refused by policy (inside load.raw_start command 1)"},"id":1,"jsonrpc":"2.0"}`; string(r.body) != want {
			t.Errorf("reply\n %s\nwant\n %s", r.body, want)
		}
	})
}

// FuzzJSONRPCRequest feeds arbitrary bodies to the JSON-RPC door. The
// backend is a stub that echoes its params: the fuzzer needs thousands of
// answers a second, and the translation against a real rTorrent is what
// the tests above check. Whatever the body, the door answers valid JSON on
// one line, a JSON-RPC 2.0 response per request, never a null result.
func FuzzJSONRPCRequest(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"system.client_version","params":[]}`,
		`{"jsonrpc":"2.0","id":null,"method":"d.multicall2","params":["","main","d.hash=","d.name="]}`,
		`[{"jsonrpc":"2.0","id":null,"method":"throttle.global_down.rate","params":[""]},{"jsonrpc":"2.0","id":null,"method":"throttle.global_up.rate","params":[""]}]`,
		`[1,{"jsonrpc":"2.0"},{"jsonrpc":"2.0","method":"d.name","params":[1.5,null,true,{"a":[1]}]}]`,
		`{"jsonrpc":"2.0","id":"x","method":"load.start_throw","params":["","data:base64,ZDQ6aW5mb2Q0Om5hbWUxOnhlZQ==","d.custom.set=a,b"]}`,
		`{"jsonrpc":"2.0","id":2,"method":"execute.throw","params":["","sh"]}`,
		`{"jsonrpc":"2.0","id":3,"method":"d.name","params":["\u0000\ud800"]}`,
		`[]`, `{`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	echo := callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		if method == "system.multicall" && len(params) == 1 {
			var out []xmlrpc.Value
			for _, e := range params[0].Values() {
				p, _ := e.Member("params")
				out = append(out, xmlrpc.NewArray(p))
			}
			return xmlrpc.NewArray(out...), nil
		}
		return xmlrpc.NewArray(params...), nil
	})
	h := gateway.NewHandler(gateway.NewCoalescer(echo, nil), &gateway.HandlerOptions{ErrorLog: quiet})
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := http.NewRequest("POST", "/RPC2", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		w := newRecorder()
		h.ServeHTTP(w, req)
		if w.status == http.StatusNoContent {
			return
		}
		out := w.body.Bytes()
		if w.status != 200 || !json.Valid(out) {
			t.Fatalf("status %d, invalid JSON %q for %q", w.status, out, body)
		}
		checkJSONBody(t, out)
		var list []jsonReply
		if out[0] == '[' {
			if err := json.Unmarshal(out, &list); err != nil || len(list) == 0 {
				t.Fatalf("batch reply %q: %v", out, err)
			}
		} else {
			var one jsonReply
			if err := json.Unmarshal(out, &one); err != nil {
				t.Fatal(err)
			}
			list = append(list, one)
		}
		for _, r := range list {
			if r.JSONRPC != "2.0" || r.ID == nil || (r.Error == nil) == (r.Result == nil) {
				t.Fatalf("response %+v in %q", r, out)
			}
		}
	})
}

// recorder is a minimal http.ResponseWriter for the fuzz target (httptest's
// is fine too, but this one keeps allocation per input low).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: 200} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.status = code }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
