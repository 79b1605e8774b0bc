package ws_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// TestWSAllowed: rtgate.allowed judges each call as the call itself would
// be judged — the same error object, byte for byte, as sending it gets —
// by the connection's policy, without running it; malformed requests are
// answered -32602 and it is rtgate's own (no batch, not on /rtorrent-ws).
func TestWSAllowed(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		pol, err := policy.New(policy.Config{Deny: []string{"d.erase", "load.*"}})
		if err != nil {
			t.Fatal(err)
		}
		e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{Policy: pol}})
		tr := e.loadStopped(t, "ws-allowed")
		c := e.dialRaw(t, "/ws", nil)
		hash := tr.Hash

		calls := []struct {
			name    string
			call    string // an item of "calls"
			allowed bool
			send    bool // safe to send for real, to compare
		}{
			{"name alone", `"system.client_version"`, true, true},
			{"write", `{"method":"d.stop","params":["` + hash + `"]}`, true, true},
			{"denied by the operator", `{"method":"d.erase","params":["` + hash + `"]}`, false, true},
			{"denied by pattern", `{"method":"load.start","params":["","magnet:?xt=urn:btih:` + strings.Repeat("A", 40) + `"]}`, false, true},
			{"denied by default", `{"method":"execute.throw","params":["","rm","-rf","/"]}`, false, true},
			{"hidden in a field", `{"method":"d.multicall2","params":["","main","d.hash=","cat=\"$execute.throw=id\""]}`, false, true},
			{"unknown method", `"d.no_such_thing"`, false, true},
			{"params it cannot carry", `{"method":"d.name","params":[1.5]}`, false, true},
			{"file target", `{"method":"f.priority.set","params":["` + hash + `:f0",2]}`, true, false},
			{"own method", `"rtgate.subscribe"`, false, false},
		}
		items := make([]string, len(calls))
		for i, tt := range calls {
			items[i] = tt.call
		}
		c.send(`{"jsonrpc":"2.0","id":1,"method":"rtgate.allowed","params":{"calls":[` + strings.Join(items, ",") + `]}}`)
		var answer struct {
			ID     int `json:"id"`
			Result struct {
				Calls []struct {
					Allowed bool            `json:"allowed"`
					Error   json.RawMessage `json:"error"`
				} `json:"calls"`
			} `json:"result"`
		}
		if raw := c.recv(); json.Unmarshal(raw, &answer) != nil || answer.ID != 1 || len(answer.Result.Calls) != len(calls) {
			t.Fatalf("answer %s", raw)
		}
		for i, tt := range calls {
			got := answer.Result.Calls[i]
			t.Run(tt.name, func(t *testing.T) {
				if got.Allowed != tt.allowed || (got.Error == nil) != tt.allowed {
					t.Fatalf("allowed %v, error %s; want allowed %v", got.Allowed, got.Error, tt.allowed)
				}
				if !tt.send || tt.allowed && tt.name != "name alone" {
					return
				}
				// The call itself gets that very error (or passes).
				var item struct {
					Method string          `json:"method"`
					Params json.RawMessage `json:"params"`
				}
				if json.Unmarshal([]byte(tt.call), &item) != nil {
					json.Unmarshal([]byte(tt.call), &item.Method)
				}
				if item.Params == nil {
					item.Params = json.RawMessage("[]")
				}
				c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":%q,"params":%s}`, item.Method, item.Params))
				var sent struct {
					Error  json.RawMessage `json:"error"`
					Result json.RawMessage `json:"result"`
				}
				raw := c.recv()
				json.Unmarshal(raw, &sent)
				if tt.allowed {
					if sent.Error != nil {
						t.Errorf("allowed, but the call answered %s", raw)
					}
					return
				}
				if tt.name == "unknown method" {
					// Refused by the policy before rTorrent says it has none.
					if !strings.Contains(string(got.Error), `"code":-507`) {
						t.Errorf("unknown method judged %s", got.Error)
					}
				}
				if string(sent.Error) != string(got.Error) {
					t.Errorf("judged\n %s\nthe call answered\n %s", got.Error, sent.Error)
				}
			})
		}
		if strings.Contains(string(answer.Result.Calls[len(calls)-1].Error), "-32600") == false {
			t.Errorf("own method judged %s", answer.Result.Calls[len(calls)-1].Error)
		}

		// Nothing judged was run: the download is still there.
		if _, ok := e.poller.Torrent(hash); !ok {
			t.Errorf("the download is gone")
		}

		bad := []struct {
			name, req, want string
		}{
			{"no params", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed"}`, `"code":-32602`},
			{"calls not a list", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":{"calls":"d.start"}}`, `"code":-32602`},
			{"item not a call", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":{"calls":["d.start",5]}}`, `call 1: not a method name`},
			{"item without method", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":{"calls":[{"params":[]}]}}`, `call 0: no method`},
			{"too many", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":{"calls":[` + strings.Repeat(`"d.start",`, 1000) + `"d.stop"]}}`, `at most 1000 calls`},
			{"in a batch", `[{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":{"calls":[]}}]`, `cannot be part of a batch`},
			{"array of one object", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":[{"calls":["d.start"]}]}`, `{"id":3,"jsonrpc":"2.0","result":{"calls":[{"allowed":true}]}}`},
			{"empty list", `{"jsonrpc":"2.0","id":3,"method":"rtgate.allowed","params":{"calls":[]}}`, `{"id":3,"jsonrpc":"2.0","result":{"calls":[]}}`},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				c.send(tt.req)
				if got := string(c.recv()); !strings.Contains(got, tt.want) {
					t.Errorf("answer %s, want %s", got, tt.want)
				}
			})
		}

		// A notification gets no answer: the next frame answers the next call.
		c.send(`{"jsonrpc":"2.0","method":"rtgate.allowed","params":{"calls":["d.start"]}}`)
		c.send(`{"jsonrpc":"2.0","id":4,"method":"rtgate.topics"}`)
		if got := string(c.recv()); !strings.HasPrefix(got, `{"id":4,`) {
			t.Errorf("after a notification: %s", got)
		}

		// rtorrent-ws has no rtgate.* methods.
		compat := e.dialRaw(t, "/rtorrent-ws", nil)
		compat.send(`{"jsonrpc":"2.0","id":5,"method":"rtgate.allowed","params":{"calls":["d.start"]}}`)
		if got := string(compat.recv()); !strings.Contains(got, `"code":-32601`) {
			t.Errorf("on /rtorrent-ws: %s", got)
		}
	})
}
