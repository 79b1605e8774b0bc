package ws_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/xmlrpc"
)

// FuzzWSFrame sends arbitrary text frames to the WebSocket door and checks
// that every answer is one JSON value and that the connection stays open
// (a sentinel call after each frame is answered). The backend answers every
// call with its method name; the hub has one topic, "bulk".
func FuzzWSFrame(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"system.client_version"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"d.name","params":["x"]},{"jsonrpc":"2.0","method":"d.stop","params":["x"]}]`,
		`{"jsonrpc":"2.0","id":1,"method":"d.multicall2","params":["","main","d.hash=","cat=\"$execute.throw=sh,-c,id\""]}`,
		`{"jsonrpc":"2.0","id":"s","method":"rtgate.subscribe","params":{"topic":"bulk","epoch":"e","seq":3}}`,
		`{"jsonrpc":"2.0","id":2,"method":"rtgate.unsubscribe","params":[{"topic":"bulk"}]}`,
		`{"jsonrpc":"2.0","id":3,"method":"rtgate.topics"}`,
		`{"jsonrpc":"2.0","id":4,"method":"load.start_throw","params":["","data:application/x-bittorrent;base64,aGVsbG8="]}`,
		`[]`, `{`, `"x"`, `null`, `[1,2]`, `{"jsonrpc":"2.0","id":{},"method":"x"}`,
	} {
		f.Add(seed)
	}
	hub := topics.NewHub(func(name string) (topics.Producer, error) {
		if name == "bulk" {
			return &bulkProducer{pub: make(chan []byte)}, nil
		}
		return nil, topics.ErrUnknownTopic
	}, nil)
	backend := callerFunc(func(_ context.Context, method string, _ ...xmlrpc.Value) (xmlrpc.Value, error) {
		if method == "system.multicall" {
			return xmlrpc.Value{}, &xmlrpc.Fault{Code: -500, Message: "no multicall here"}
		}
		return xmlrpc.NewString(method), nil
	})
	h := ws.New(gateway.NewCoalescer(backend, nil), hub, &ws.Options{CallRate: -1, Logger: quiet})
	srv := httptest.NewServer(h)
	defer func() {
		h.Close()
		srv.Close()
		hub.Close()
	}()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		f.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	sentinel := []byte(`{"jsonrpc":"2.0","id":"sentinel","method":"system.client_version"}`)

	f.Fuzz(func(t *testing.T, frame string) {
		if len(frame) > 1<<20 {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := c.Write(wctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := c.Write(wctx, websocket.MessageText, sentinel); err != nil {
			t.Fatalf("write: %v", err)
		}
		for {
			_, b, err := c.Read(wctx)
			if err != nil {
				t.Fatalf("after %q: %v", frame, err)
			}
			if !json.Valid(b) {
				t.Fatalf("after %q: answer %q is not JSON", frame, b)
			}
			if string(b) == `{"id":"sentinel","jsonrpc":"2.0","result":"system.client_version"}` {
				return
			}
		}
	})
}
