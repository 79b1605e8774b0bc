package jsonrpc_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseRequest(t *testing.T) {
	torrent := rtorrenttest.MakeTorrentBytes(t, "j.bin", 1000)
	dataURI := "data:application/x-bittorrent;base64," + base64.StdEncoding.EncodeToString(torrent.Bytes)
	tests := []struct {
		name     string
		in       string
		id       string // compact; "" for a notification
		method   string
		params   string // the params as XML-RPC values, printed
		result   string // the replacing result, if any
		code     int    // Err's code; 0 for none
		contains string // in Err's message
	}{
		{name: "call", in: `{"jsonrpc":"2.0","id":1,"method":"d.name","params":["ABC"]}`, id: "1", method: "d.name", params: `["ABC"]`},
		{name: "string id compacted", in: `{"jsonrpc":"2.0","id": "x" ,"method":"system.pid"}`, id: `"x"`, method: "system.pid", params: `[]`},
		{name: "notification", in: `{"jsonrpc":"2.0","method":"d.start","params":["H"]}`, method: "d.start", params: `["H"]`},
		{name: "booleans are ints", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":[true,false,7]}`, id: "1", method: "m", params: `[1,0,7]`},
		{name: "object is a struct", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":[{"b":1,"a":"x"}]}`, id: "1", method: "m", params: `[{"a":"x","b":1}]`},
		{name: "float", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":[1.5]}`, id: "1", method: "m", code: protocol.CodeInvalidParams, contains: "not an integer"},
		{name: "null param", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":[null]}`, id: "1", method: "m", code: protocol.CodeInvalidParams, contains: "null"},
		{name: "too big", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":[99999999999999999999]}`, id: "1", method: "m", code: protocol.CodeInvalidParams, contains: "64 bits"},
		{name: "named params", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}`, id: "1", method: "m", code: protocol.CodeInvalidParams, contains: "positional"},
		{name: "params not array", in: `{"jsonrpc":"2.0","id":1,"method":"m","params":3}`, id: "1", code: protocol.CodeInvalidRequest},
		{name: "wrong version", in: `{"jsonrpc":"1.0","id":1,"method":"m"}`, id: "1", code: protocol.CodeInvalidRequest, contains: `"2.0"`},
		{name: "no method", in: `{"jsonrpc":"2.0","id":1}`, id: "1", code: protocol.CodeInvalidRequest, contains: "method"},
		{name: "empty method", in: `{"jsonrpc":"2.0","id":1,"method":""}`, id: "1", code: protocol.CodeInvalidRequest, contains: "empty"},
		{name: "object id", in: `{"jsonrpc":"2.0","id":{},"method":"m"}`, id: "null", code: protocol.CodeInvalidRequest, contains: "id must be"},
		{name: "not an object", in: `[1]`, id: "null", code: protocol.CodeInvalidRequest},
		{name: "flood add", in: `{"jsonrpc":"2.0","id":1,"method":"load.start_throw","params":["","` + dataURI + `","d.custom1.set=x"]}`,
			id: "1", method: "load.raw_start", params: `["",(base64 ` + torrent.Hash + `),"d.custom1.set=x"]`, result: `"` + torrent.Hash + `"`},
		{name: "throw by url", in: `{"jsonrpc":"2.0","id":1,"method":"load.throw","params":["","http://x/t.torrent"]}`, id: "1", method: "load.normal", params: `["","http://x/t.torrent"]`},
		{name: "data uri not a torrent", in: `{"jsonrpc":"2.0","id":1,"method":"load.start_throw","params":["","data:base64,aGVsbG8="]}`, id: "1", code: protocol.CodeInvalidParams, contains: "torrent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := jsonrpc.ParseRequest(json.RawMessage(tt.in))
			if string(r.ID) != tt.id {
				t.Errorf("ID = %s, want %s", r.ID, tt.id)
			}
			if tt.code != 0 {
				if r.Err == nil || r.Err.Code != tt.code || !strings.Contains(r.Err.Message, tt.contains) {
					t.Fatalf("Err = %+v, want code %d containing %q", r.Err, tt.code, tt.contains)
				}
				return
			}
			if r.Err != nil {
				t.Fatalf("Err = %+v", r.Err)
			}
			if r.Method != tt.method || printValues(r.Params, torrent) != tt.params {
				t.Errorf("call = %s %s, want %s %s", r.Method, printValues(r.Params, torrent), tt.method, tt.params)
			}
			got := ""
			if r.Result != nil {
				got = string(jsonrpc.AppendValue(nil, *r.Result))
			}
			if got != tt.result {
				t.Errorf("Result = %s, want %s", got, tt.result)
			}
		})
	}
}

// printValues prints params as JSON, base64 values as the hash of the
// torrent they hold.
func printValues(params []xmlrpc.Value, tr rtorrenttest.Torrent) string {
	var b []byte
	b = append(b, '[')
	for i, v := range params {
		if i > 0 {
			b = append(b, ',')
		}
		if v.Kind() == xmlrpc.Base64 && v.String() == string(tr.Bytes) {
			b = append(b, "(base64 "+tr.Hash+")"...)
			continue
		}
		b = jsonrpc.AppendValue(b, v)
	}
	return string(append(b, ']'))
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		n     int
		batch bool
		top   int
	}{
		{name: "one", in: `{"jsonrpc":"2.0","id":1,"method":"m"}`, n: 1},
		{name: "batch", in: ` [{"jsonrpc":"2.0","id":1,"method":"m"},{"jsonrpc":"2.0","method":"n"}] `, n: 2, batch: true},
		{name: "not json", in: `{"jsonrpc"`, top: protocol.CodeParseError},
		{name: "empty batch", in: `[]`, top: protocol.CodeInvalidRequest},
		{name: "empty", in: ``, top: protocol.CodeParseError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, batch, top := jsonrpc.Parse([]byte(tt.in))
			if tt.top != 0 {
				if top == nil || top.Code != tt.top || reqs != nil {
					t.Fatalf("Parse = %v, %v; want top error %d", reqs, top, tt.top)
				}
				return
			}
			if top != nil || len(reqs) != tt.n || batch != tt.batch {
				t.Errorf("Parse = %d requests, batch %v, %v", len(reqs), batch, top)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	v := xmlrpc.NewArray(xmlrpc.NewInt(-3), xmlrpc.NewString("a\"\n\xff"), xmlrpc.NewBool(true), xmlrpc.NewBase64([]byte{0, 1}),
		xmlrpc.NewStruct(xmlrpc.Member{Name: "z", Value: xmlrpc.NewInt(1)}, xmlrpc.Member{Name: "a", Value: xmlrpc.Value{}}))
	if got, want := string(jsonrpc.AppendResult(nil, json.RawMessage(`7`), v)),
		`{"id":7,"jsonrpc":"2.0","result":[-3,"a\"\n\ufffd",1,"AAE=",{"z":1,"a":0}]}`; got != want {
		t.Errorf("AppendResult = %s, want %s", got, want)
	}
	fault := &xmlrpc.Fault{Code: -501, Message: "Could not find info-hash."}
	if got, want := string(jsonrpc.AppendError(nil, jsonrpc.NullID, jsonrpc.FaultError(fault, true))),
		`{"error":{"code":-32602,"data":{"faultCode":-501,"faultString":"Could not find info-hash."},"message":"Could not find info-hash."},"id":null,"jsonrpc":"2.0"}`; got != want {
		t.Errorf("AppendError = %s, want %s", got, want)
	}
	if got := jsonrpc.FaultError(fault, false); got.Data != nil {
		t.Errorf("FaultError without data has data %s", got.Data)
	}
	err := policy.Default().Check("execute.throw", nil)
	e := jsonrpc.RefusalError(err, true)
	if e.Code != protocol.CodeRefused || e.Message != err.Error() || string(e.Data) != `{"method":"execute.throw"}` {
		t.Errorf("RefusalError = %+v", e)
	}
	if e := jsonrpc.RefusalError(errors.New("x"), true); e.Code != protocol.CodeRefused || e.Data != nil {
		t.Errorf("RefusalError of a plain error = %+v", e)
	}
	for code, want := range map[int64]int{-506: protocol.CodeMethodNotFound, -501: protocol.CodeInvalidParams, -503: protocol.CodeInvalidParams, -500: protocol.CodeServerError, -507: protocol.CodeServerError} {
		if got := jsonrpc.FaultCode(code); got != want {
			t.Errorf("FaultCode(%d) = %d, want %d", code, got, want)
		}
	}
}

// FuzzParse: any body parses without panicking into requests or one top
// error, never both, and every answer written for them is valid JSON.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"d.multicall2","params":["","main","d.hash="]}`,
		`[{"jsonrpc":"2.0","id":"a","method":"m","params":[1,true,{"x":[]}]},{"jsonrpc":"2.0","method":"n"}]`,
		`{"jsonrpc":"2.0","id":1,"method":"load.start_throw","params":["","data:base64,ZDQ6aW5mb2RlZQ=="]}`,
		`[]`, `{`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reqs, _, top := jsonrpc.Parse(body)
		if (top == nil) == (reqs == nil) {
			t.Fatalf("Parse(%q) = %d requests and top error %v", body, len(reqs), top)
		}
		if top != nil {
			if out := jsonrpc.AppendError(nil, jsonrpc.NullID, top); !json.Valid(out) {
				t.Fatalf("top error is not JSON: %s", out)
			}
			return
		}
		for _, r := range reqs {
			id := r.ID
			if id == nil {
				id = jsonrpc.NullID
			}
			var out []byte
			if r.Err != nil {
				out = jsonrpc.AppendError(nil, id, r.Err)
			} else {
				out = jsonrpc.AppendResult(nil, id, xmlrpc.NewArray(r.Params...))
			}
			if !json.Valid(out) {
				t.Fatalf("answer to %q is not JSON: %s", body, out)
			}
		}
	})
}
