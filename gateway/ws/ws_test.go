package ws_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// dial connects the Go client to the env's rtgate dialect.
func (e *wsEnv) dial(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, e.url+"/ws", &client.Options{Token: e.token})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// loadStopped adds a torrent with its data, not started, and waits for the
// poller to know it.
func (e *wsEnv) loadStopped(t testing.TB, name string) rtorrenttest.Torrent {
	t.Helper()
	tr := rtorrenttest.MakeTorrent(t, e.b.rt.DownloadDir, name, 64<<10, nil)
	if _, err := e.b.client.Call(context.Background(), "load.raw", str(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, ok := e.poller.Torrent(tr.Hash); return ok })
	return tr
}

// next returns the subscription's next message within 10 s.
func next(t testing.TB, s *client.Subscription) client.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("%s: next: %v", s.Topic(), err)
	}
	return m
}

// torrentsData is the torrents topic's JSON, both shapes.
type torrentsData struct {
	Torrents map[string]map[string]any `json:"torrents"`
	Added    map[string]map[string]any `json:"added"`
	Changed  map[string]map[string]any `json:"changed"`
	Removed  []string                  `json:"removed"`
}

func decodeTorrents(t testing.TB, m client.Message) torrentsData {
	t.Helper()
	var d torrentsData
	if err := json.Unmarshal(m.Data, &d); err != nil {
		t.Fatalf("torrents data %.200q: %v", m.Data, err)
	}
	return d
}

// TestWSSubscribeAndCall: two clients subscribe to torrents and get a
// snapshot; one starts a download with a call on the same socket, and both
// get the change (the Coalescer's OnWrite refreshes the poller at once).
func TestWSSubscribeAndCall(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		tr := e.loadStopped(t, "ws-subscribe")
		ctx := context.Background()

		a, b := e.dial(t), e.dial(t)
		v, err := a.Call(ctx, "system.client_version")
		if err != nil || string(v) != `"`+ver(t)+`"` {
			t.Fatalf("system.client_version = %s, %v", v, err)
		}
		subs := make([]*client.Subscription, 2)
		for i, c := range []*client.Client{a, b} {
			s, err := c.Subscribe(ctx, "torrents", nil)
			if err != nil {
				t.Fatal(err)
			}
			m := next(t, s)
			if m.Kind != client.KindSnapshot || m.Epoch == "" {
				t.Fatalf("first message %+v", m)
			}
			row := decodeTorrents(t, m).Torrents[tr.Hash]
			if row == nil || row["state"] != false {
				t.Fatalf("snapshot row %v", row)
			}
			subs[i] = s
		}

		if _, err := a.Call(ctx, "d.start", tr.Hash); err != nil {
			t.Fatal(err)
		}
		for i, s := range subs {
			last := uint64(0)
			for {
				m := next(t, s)
				if m.Kind != client.KindChange {
					t.Fatalf("client %d: %+v", i, m)
				}
				if last != 0 && m.Seq != last+1 {
					t.Fatalf("client %d: seq %d after %d", i, m.Seq, last)
				}
				last = m.Seq
				if ch := decodeTorrents(t, m).Changed[tr.Hash]; ch != nil && ch["state"] == true {
					break
				}
			}
		}

		// rtgate.topics lists the subscription and the hub's active topics.
		v, err = a.Call(ctx, "rtgate.topics")
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ Subscribed, Active, Available []string }
		if err := json.Unmarshal(v, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Subscribed) != 1 || list.Subscribed[0] != "torrents" || len(list.Available) == 0 {
			t.Errorf("rtgate.topics = %s", v)
		}

		// Unsubscribing ends the subscription; a second time is an error.
		if err := subs[0].Unsubscribe(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Call(ctx, "rtgate.unsubscribe", map[string]any{"topic": "torrents"}); !isCode(err, protocol.CodeNotSubscribed) {
			t.Errorf("second unsubscribe: %v", err)
		}
	})
}

func isCode(err error, code int) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Code == code
}
