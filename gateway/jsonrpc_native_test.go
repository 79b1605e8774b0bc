package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/jsonrpc"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// jsonCase is a JSON-RPC body for the differential tests.
type jsonCase struct {
	name string
	body string
}

// jsonCases are the JSON-RPC bodies both directions are checked with:
// reads, faults (unknown hash, a field without its =, bad view), batches
// and a write.
func jsonCases(hash string) []jsonCase {
	return []jsonCase{
		{"version", `{"jsonrpc":"2.0","id":1,"method":"system.client_version","params":[]}`},
		{"name", `{"jsonrpc":"2.0","id":2,"method":"d.name","params":["` + hash + `"]}`},
		{"size", `{"jsonrpc":"2.0","id":"s","method":"d.size_bytes","params":["` + hash + `"]}`},
		{"multicall", `{"jsonrpc":"2.0","id":3,"method":"d.multicall2","params":["","main","d.hash=","d.name=","d.state=","d.complete=","d.custom1="]}`},
		{"flood trackers field", `{"jsonrpc":"2.0","id":4,"method":"d.multicall2","params":["","main","d.hash=","cat=\"$t.multicall=d.hash=,t.url=,cat={|||}\""]}`},
		{"files", `{"jsonrpc":"2.0","id":5,"method":"f.multicall","params":["` + hash + `","","f.path=","f.size_bytes=","f.priority="]}`},
		{"unknown hash", `{"jsonrpc":"2.0","id":6,"method":"d.name","params":["0123456789ABCDEF0123456789ABCDEF01234567"]}`},
		{"bad view", `{"jsonrpc":"2.0","id":7,"method":"d.multicall2","params":["","nosuchview","d.hash="]}`},
		{"field without =", `{"jsonrpc":"2.0","id":8,"method":"d.multicall2","params":["","main","d.hash=","d.name"]}`},
		{"batch", `[{"jsonrpc":"2.0","id":9,"method":"throttle.global_down.rate","params":[""]},{"jsonrpc":"2.0","id":10,"method":"d.name","params":["` + hash + `"]},{"jsonrpc":"2.0","id":11,"method":"view.size","params":["","main"]}]`},
		{"write", `{"jsonrpc":"2.0","id":12,"method":"d.custom1.set","params":["` + hash + `","json-label"]}`},
		{"read the write", `{"jsonrpc":"2.0","id":13,"method":"d.custom1","params":["` + hash + `"]}`},
	}
}

// TestJSONRPCNativeMatchesRtorrent: on an rTorrent that speaks JSON-RPC
// (0.16.17), the door's answer to each body is rTorrent's own, byte for
// byte, and it went upstream as JSON; on 0.9.8, where the door translates
// to XML-RPC, each answer equals rTorrent's XML-RPC answer to the same call,
// converted (the other direction of the translation).
func TestJSONRPCNativeMatchesRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrent(t, b.rt.DownloadDir, "native.bin", 48<<10, nil)
		rtorrenttest.Load(t, b.client, tr, nil)
		raw := &typeRecorder{c: b.raw}
		version := b.rt.Version.Name
		d := startDoor(t, b.client, &gateway.CoalesceOptions{Raw: raw, Version: func() string { return version }}, nil)
		direct, err := scgi.NewClient(b.rt.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range jsonCases(tr.Hash) {
			t.Run(tc.name, func(t *testing.T) {
				before := raw.count("application/json")
				got := d.doSCGI(t, "application/json", []byte(tc.body))
				checkJSONBody(t, got.body)
				if b.rt.Version.Legacy() {
					if n := raw.count("application/json"); n != before {
						t.Errorf("%d JSON requests went to 0.9.8", n-before)
					}
					compareTranslation(t, b.client, tc.body, got.body)
					return
				}
				if n := raw.count("application/json"); n != before+1 {
					t.Errorf("%d JSON requests upstream, want 1", n-before)
				}
				want := directJSON(t, direct, tc.body)
				if string(got.body) != string(want) {
					t.Errorf("through rtgate\n %s\nrTorrent\n %s", got.body, want)
				}
			})
		}
	})
}

// directJSON sends body to rTorrent itself as JSON-RPC and returns its
// reply's body.
func directJSON(t *testing.T, c *scgi.Client, body string) []byte {
	t.Helper()
	resp, err := c.Do(context.Background(), "application/json", []byte(body))
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

// compareTranslation checks a translated JSON-RPC answer against
// rTorrent's XML-RPC answers to the same calls: each result is the XML
// result in JSON, each error carries the fault's message (and the code
// jsonrpc.FaultCode gives it).
func compareTranslation(t *testing.T, c gateway.Caller, body string, got []byte) {
	t.Helper()
	reqs, batch, top := jsonrpc.Parse([]byte(body))
	if top != nil {
		t.Fatal(top)
	}
	var answers []json.RawMessage
	if batch {
		if err := json.Unmarshal(got, &answers); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
	} else {
		answers = []json.RawMessage{got}
	}
	if len(answers) != len(reqs) {
		t.Fatalf("%d answers for %d requests", len(answers), len(reqs))
	}
	for i, q := range reqs {
		v, err := c.Call(context.Background(), q.Method, q.Params...)
		var want []byte
		var fault *xmlrpc.Fault
		switch {
		case errors.As(err, &fault):
			want = jsonrpc.AppendError(nil, q.ID, jsonrpc.FaultError(fault, false))
		case err != nil:
			t.Fatal(err)
		default:
			want = jsonrpc.AppendResult(nil, q.ID, v)
		}
		if q.Method == "d.custom1.set" || strings.Contains(q.Method, "rate") {
			continue // a write done twice; a rate that moves
		}
		if string(answers[i]) != string(want) {
			t.Errorf("request %d: translated\n %s\nXML-RPC's\n %s", i, answers[i], want)
		}
	}
}

// typeRecorder counts the raw requests by content type.
type typeRecorder struct {
	c  gateway.RawCaller
	mu sync.Mutex
	n  map[string]int
}

func (r *typeRecorder) Do(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
	r.mu.Lock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[contentType]++
	r.mu.Unlock()
	return r.c.Do(ctx, contentType, body)
}

func (r *typeRecorder) count(contentType string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[contentType]
}

// TestClientHeadersStayAtTheDoor: what a client puts in its SCGI headers
// never reaches rTorrent. 0.16.17 drops a connection whose
// UNTRUSTED_CONNECTION header is anything but 0 or 1, and trusts or
// distrusts a request by it: rtgate's own connection is the trusted one,
// its policy decides what clients may do, and no client chooses.
func TestClientHeadersStayAtTheDoor(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		for _, mode := range doorModes {
			t.Run(mode.name, func(t *testing.T) {
				d := b.door(t, mode.raw, nil, nil)
				for _, v := range []string{"2", "1", "yes"} {
					body := `<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName><params/></methodCall>`
					header := fmt.Sprintf("CONTENT_LENGTH\x00%d\x00SCGI\x001\x00CONTENT_TYPE\x00text/xml\x00UNTRUSTED_CONNECTION\x00%s\x00", len(body), v)
					reply := exchange(t, "unix", d.socket, netstring(header)+body)
					if !strings.Contains(reply, "<string>"+ver(t)+"</string>") {
						t.Errorf("UNTRUSTED_CONNECTION=%s: %.300q", v, reply)
					}
				}
			})
		}
	})
}
