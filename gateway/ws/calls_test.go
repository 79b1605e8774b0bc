package ws_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestWSCalls: rTorrent calls over a WebSocket, answered in rTorrent's
// JSON-RPC dialect, byte for byte, on one connection: results of each
// type, faults mapped as the JSON-RPC door maps them (with the fault in
// data), policy refusals (-507) naming the method, hidden ones included,
// and every malformed request answered while the connection stays open.
func TestWSCalls(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		tr := e.loadStopped(t, "ws-calls")
		c := e.dialRaw(t, "/ws", nil)
		hash := tr.Hash
		tests := []struct {
			name string
			req  string
			want string // the whole answer, or a regexp if it starts with ^
		}{
			{"string", `{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`, `{"id":1,"jsonrpc":"2.0","result":"` + ver(t) + `"}`},
			{"string id", `{"jsonrpc":"2.0","id":"a b","method":"d.name","params":["` + hash + `"]}`, `{"id":"a b","jsonrpc":"2.0","result":"ws-calls"}`},
			{"integer", `{"jsonrpc":"2.0","id":2,"method":"d.size_bytes","params":["` + hash + `"]}`, `{"id":2,"jsonrpc":"2.0","result":65536}`},
			{"multicall", `{"jsonrpc":"2.0","id":3,"method":"d.multicall2","params":["","main","d.hash=","d.state=","d.name="]}`,
				`{"id":3,"jsonrpc":"2.0","result":[["` + hash + `",0,"ws-calls"]]}`},
			{"void", `{"jsonrpc":"2.0","id":4,"method":"d.stop","params":["` + hash + `"]}`, `{"id":4,"jsonrpc":"2.0","result":0}`},
			{"no such method", `{"jsonrpc":"2.0","id":5,"method":"system.no_such_method"}`,
				`^\{"error":\{"code":-(32601|507),"data":\{.*\},"message":".*"\},"id":5,"jsonrpc":"2.0"\}$`},
			{"bad target", `{"jsonrpc":"2.0","id":6,"method":"d.name","params":["0000000000000000000000000000000000000000"]}`,
				unknownHashError(t, 6)},
			{"refused", `{"jsonrpc":"2.0","id":7,"method":"execute.throw","params":["","sh","-c","id"]}`,
				`{"error":{"code":-507,"data":{"method":"execute.throw"},"message":"rtgate: method \"execute.throw\" refused by policy"},"id":7,"jsonrpc":"2.0"}`},
			{"refused inside a multicall field", `{"jsonrpc":"2.0","id":8,"method":"d.multicall2","params":["","main","d.hash=","cat=\"$execute.throw=sh,-c,id\""]}`,
				`{"error":{"code":-507,"data":{"method":"execute.throw","where":"d.multicall2 field 2"},"message":"rtgate: method \"execute.throw\" refused by policy (inside d.multicall2 field 2)"},"id":8,"jsonrpc":"2.0"}`},
			{"refused inside system.multicall", `{"jsonrpc":"2.0","id":9,"method":"system.multicall","params":[[{"methodName":"system.client_version","params":[]},{"methodName":"execute.nothrow.bg","params":["","touch","/tmp/x"]}]]}`,
				`^\{"error":\{"code":-507,"data":\{"method":"execute.nothrow.bg","where":"system.multicall entry 2"\},"message":".*"\},"id":9,"jsonrpc":"2.0"\}$`},
			{"not JSON", `{"jsonrpc":`, `{"error":{"code":-32700,"message":"parse error: the frame is not valid JSON"},"id":null,"jsonrpc":"2.0"}`},
			{"empty batch", `[]`, `{"error":{"code":-32600,"message":"invalid request: empty batch"},"id":null,"jsonrpc":"2.0"}`},
			{"not an object", `"system.client_version"`, `{"error":{"code":-32600,"message":"invalid request: not an object"},"id":null,"jsonrpc":"2.0"}`},
			{"no version", `{"id":1,"method":"system.client_version"}`, `{"error":{"code":-32600,"message":"invalid request: \"jsonrpc\" must be \"2.0\""},"id":1,"jsonrpc":"2.0"}`},
			{"named params", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":{"target":"x"}}`,
				`{"error":{"code":-32602,"message":"invalid parameters: rTorrent takes positional params only (params[0] is the target)"},"id":1,"jsonrpc":"2.0"}`},
			{"null param", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":[null]}`, `{"error":{"code":-32602,"message":"param 1: invalid parameters: null (rTorrent has no null)"},"id":1,"jsonrpc":"2.0"}`},
			{"float param", `{"jsonrpc":"2.0","id":1,"method":"d.name","params":[1.5]}`, `{"error":{"code":-32602,"message":"param 1: invalid parameters: 1.5 is not an integer (rTorrent has no floating point)"},"id":1,"jsonrpc":"2.0"}`},
			{"own method in a batch", `[{"jsonrpc":"2.0","id":1,"method":"rtgate.topics"}]`,
				`[{"error":{"code":-32600,"message":"invalid request: rtgate.topics cannot be part of a batch"},"id":1,"jsonrpc":"2.0"}]`},
			{"unknown own method", `{"jsonrpc":"2.0","id":1,"method":"rtgate.nothing"}`, `{"error":{"code":-32601,"message":"method not found: rtgate.nothing"},"id":1,"jsonrpc":"2.0"}`},
			{"subscribe without topic", `{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{}}`,
				`{"error":{"code":-32602,"message":"invalid parameters: \"topic\" must be a non-empty string"},"id":1,"jsonrpc":"2.0"}`},
			{"unknown topic", `{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"nothing"}}`,
				`{"error":{"code":-32003,"message":"rtgate: unknown topic \"nothing\""},"id":1,"jsonrpc":"2.0"}`},
			{"bad resume", `{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"transfer","seq":-1,"epoch":"x"}}`,
				`{"error":{"code":-32602,"message":"invalid parameters: \"seq\" must be a non-negative integer"},"id":1,"jsonrpc":"2.0"}`},
			{"not subscribed", `{"jsonrpc":"2.0","id":1,"method":"rtgate.unsubscribe","params":{"topic":"transfer"}}`,
				`{"error":{"code":-32005,"message":"rtgate: not subscribed to \"transfer\""},"id":1,"jsonrpc":"2.0"}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c.send(tt.req)
				got := string(c.recv())
				if strings.HasPrefix(tt.want, "^") {
					if !regexp.MustCompile(tt.want).MatchString(got) {
						t.Errorf("answer\n %s\nwant to match\n %s", got, tt.want)
					}
				} else if got != tt.want {
					t.Errorf("answer\n %s\nwant\n %s", got, tt.want)
				}
				if !json.Valid([]byte(got)) {
					t.Errorf("answer is not JSON")
				}
			})
		}
	})
}

// TestWSBatch: a batch goes upstream as one system.multicall and is
// answered in request order; refused and malformed entries are answered
// beside the others without stopping them; notifications are run, not
// answered; a batch of notifications only gets no answer at all.
func TestWSBatch(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		tr := e.loadStopped(t, "ws-batch")
		c := e.dialRaw(t, "/ws", nil)
		c.send(`[` +
			`{"jsonrpc":"2.0","id":1,"method":"system.client_version"},` +
			`{"jsonrpc":"2.0","id":2,"method":"execute.throw","params":["","id"]},` +
			`{"jsonrpc":"2.0","method":"d.custom1.set","params":["` + tr.Hash + `","batched"]},` +
			`{"jsonrpc":"2.0","id":"x","method":"d.name","params":[1.5]},` +
			`{"jsonrpc":"2.0","id":4,"method":"d.name","params":["` + tr.Hash + `"]},` +
			`{"jsonrpc":"2.0","id":5,"method":"d.name","params":["0000000000000000000000000000000000000000"]}` +
			`]`)
		want := `[{"id":1,"jsonrpc":"2.0","result":"` + ver(t) + `"},` +
			`{"error":{"code":-507,"data":{"method":"execute.throw"},"message":"rtgate: method \"execute.throw\" refused by policy"},"id":2,"jsonrpc":"2.0"},` +
			`{"error":{"code":-32602,"message":"param 1: invalid parameters: 1.5 is not an integer (rTorrent has no floating point)"},"id":"x","jsonrpc":"2.0"},` +
			`{"id":4,"jsonrpc":"2.0","result":"ws-batch"},` +
			unknownHashError(t, 5) + `]`
		if got := string(c.recv()); got != want {
			t.Errorf("batch answer\n %s\nwant\n %s", got, want)
		}
		// The notification ran.
		c.send(`{"jsonrpc":"2.0","id":6,"method":"d.custom1","params":["` + tr.Hash + `"]}`)
		if got := string(c.recv()); got != `{"id":6,"jsonrpc":"2.0","result":"batched"}` {
			t.Errorf("d.custom1 = %s", got)
		}
		// Notifications only: nothing comes back, and the next answer is the
		// next call's.
		c.send(`[{"jsonrpc":"2.0","method":"d.custom1.set","params":["` + tr.Hash + `","quiet"]},{"jsonrpc":"2.0","method":"execute.throw"}]`)
		c.send(`{"jsonrpc":"2.0","method":"system.client_version"}`)
		c.send(`{"jsonrpc":"2.0","id":7,"method":"d.custom1","params":["` + tr.Hash + `"]}`)
		if got := string(c.recv()); got != `{"id":7,"jsonrpc":"2.0","result":"quiet"}` {
			t.Errorf("after notifications: %s", got)
		}
	})
}

// TestWSClientCalls drives calls through the Go client: results, batches,
// *client.Error for faults and refusals, a torrent added from a data URI
// (translated to load.raw_start for 0.9.8, answered with its hash), and
// calls from many goroutines on one connection.
func TestWSClientCalls(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		c := e.dial(t)
		ctx := context.Background()

		tr := rtorrenttest.MakeTorrent(t, e.b.rt.DownloadDir, "ws-client-add", 32<<10, nil)
		v, err := c.Call(ctx, "load.start_throw", "", "data:application/x-bittorrent;base64,"+base64.StdEncoding.EncodeToString(tr.Bytes))
		if err != nil || string(v) != `"`+tr.Hash+`"` {
			t.Fatalf("load.start_throw = %s, %v", v, err)
		}
		waitFor(t, func() bool { _, ok := e.poller.Torrent(tr.Hash); return ok })

		_, err = c.Call(ctx, "d.multicall2", "", "main", "d.hash=", "execute.throw=id")
		var ce *client.Error
		if !asClientError(err, &ce) || ce.Code != protocol.CodeRefused || !strings.Contains(string(ce.Data), `"method":"execute.throw"`) {
			t.Errorf("refused call: %v (data %s)", err, dataOf(ce))
		}
		_, err = c.Call(ctx, "d.name", "0000000000000000000000000000000000000000")
		if !asClientError(err, &ce) || ce.Code != protocol.CodeInvalidParams || string(ce.Data) != unknownHashData(t) {
			t.Errorf("fault: %v (data %s)", err, dataOf(ce))
		}

		res, err := c.Batch(ctx, []client.Call{
			{Method: "d.name", Params: []any{tr.Hash}},
			{Method: "execute.throw", Params: []any{"", "id"}},
			{Method: "d.size_bytes", Params: []any{tr.Hash}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if string(res[0].Result) != `"ws-client-add"` || res[1].Err == nil || string(res[2].Result) != "32768" {
			t.Errorf("batch results %s, %v, %s", res[0].Result, res[1].Err, res[2].Result)
		}

		// Concurrent calls on one connection: more than MaxInflight at once
		// is answered -32002 rather than queued, so stay under it.
		errs := make(chan error, 12)
		for i := range 12 {
			go func() {
				v, err := c.Call(ctx, "d.name", tr.Hash)
				if err == nil && string(v) != `"ws-client-add"` {
					err = fmt.Errorf("call %d: %s", i, v)
				}
				errs <- err
			}()
		}
		for range 12 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}

func asClientError(err error, ce **client.Error) bool {
	e, ok := err.(*client.Error)
	if ok {
		*ce = e
	}
	return ok
}

func dataOf(e *client.Error) string {
	if e == nil {
		return ""
	}
	return string(e.Data)
}

// TestWSRateLimit: a connection over its call rate gets -32002 for every
// request of the frame, keeps its connection, and is served again once its
// bucket refills; another connection is not affected.
func TestWSRateLimit(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{CallRate: 2, CallBurst: 3}})
		c := e.dialRaw(t, "/ws", nil)
		call := `{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`
		for i := range 3 {
			c.send(call)
			if got := string(c.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
				t.Fatalf("call %d: %s", i, got)
			}
		}
		c.send(`[` + call + `,{"jsonrpc":"2.0","id":2,"method":"system.client_version"}]`)
		got := string(c.recv())
		if !regexp.MustCompile(`^\[\{"error":\{"code":-32002,"message":"rtgate: over the connection's call rate[^"]*"\},"id":1,"jsonrpc":"2.0"\},\{"error":\{"code":-32002,.*"id":2,"jsonrpc":"2.0"\}\]$`).MatchString(got) {
			t.Errorf("over the rate: %s", got)
		}
		other := e.dialRaw(t, "/ws", nil)
		other.send(call)
		if got := string(other.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
			t.Errorf("other connection: %s", got)
		}
		time.Sleep(600 * time.Millisecond) // one token back
		c.send(call)
		if got := string(c.recv()); got != `{"id":1,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
			t.Errorf("after the refill: %s", got)
		}
	})
}
