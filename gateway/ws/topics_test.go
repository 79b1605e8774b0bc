package ws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/topics"
)

// TestWSResume: a client drops its connection, changes happen, and it
// subscribes again from the last position it saw: it gets exactly the
// changes it missed, byte for byte what a client that stayed got, the
// first flagged recovered; from the current position it gets "resumed";
// from a position rtgate cannot honour, a snapshot flagged recovered false.
func TestWSResume(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		tr := e.loadStopped(t, "ws-resume")
		ctx := context.Background()

		witness := e.dial(t)
		ws, err := witness.Subscribe(ctx, "torrents", nil)
		if err != nil {
			t.Fatal(err)
		}
		snap := next(t, ws)

		a := e.dial(t)
		as, err := a.Subscribe(ctx, "torrents", nil)
		if err != nil {
			t.Fatal(err)
		}
		left := next(t, as).Position()
		if left.Epoch != snap.Epoch {
			t.Fatalf("epochs %s and %s", left.Epoch, snap.Epoch)
		}
		a.Close()

		// Changes while a is away, made through the witness's connection.
		if _, err := witness.Call(ctx, "d.start", tr.Hash); err != nil {
			t.Fatal(err)
		}
		if _, err := witness.Call(ctx, "d.custom1.set", tr.Hash, "while-away"); err != nil {
			t.Fatal(err)
		}
		e.poller.RequestRefresh(tr.Hash)
		var missed []client.Message
		for {
			m := next(t, ws)
			if m.Seq > left.Seq {
				missed = append(missed, m)
			}
			if ch := decodeTorrents(t, m).Changed[tr.Hash]; ch != nil && ch["custom1"] == "while-away" {
				break
			}
		}
		if len(missed) == 0 {
			t.Fatal("no change while away")
		}

		b := e.dial(t)
		bs, err := b.Subscribe(ctx, "torrents", &client.Position{Epoch: left.Epoch, Seq: left.Seq})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range missed {
			m := next(t, bs)
			if m.Kind != client.KindChange || m.Position() != want.Position() || !bytes.Equal(m.Data, want.Data) {
				t.Fatalf("replayed %d: %s %v %s, want %s %v %s", i, m.Kind, m.Position(), m.Data, want.Kind, want.Position(), want.Data)
			}
			if rec := m.Recovered != nil && *m.Recovered; rec != (i == 0) {
				t.Errorf("replayed %d: recovered %v", i, m.Recovered)
			}
		}
		b.Close()

		// From where the witness stands (nothing missed): resumed.
		at := missed[len(missed)-1].Position()
		c := e.dial(t)
		cs, err := c.Subscribe(ctx, "torrents", &at)
		if err != nil {
			t.Fatal(err)
		}
		if m := next(t, cs); m.Kind == client.KindResumed {
			if m.Position() != at || m.Recovered == nil || !*m.Recovered {
				t.Errorf("resumed %+v", m)
			}
		} else if m.Kind != client.KindChange || m.Seq != at.Seq+1 {
			// A change published meanwhile is replayed instead.
			t.Errorf("resume from the current position: %+v", m)
		}

		// From an epoch the topic never had: a fresh snapshot, flagged.
		d := e.dial(t)
		dsub, err := d.Subscribe(ctx, "torrents", &client.Position{Epoch: "not-an-epoch", Seq: 3})
		if err != nil {
			t.Fatal(err)
		}
		m := next(t, dsub)
		if m.Kind != client.KindSnapshot || m.Recovered == nil || *m.Recovered || decodeTorrents(t, m).Torrents[tr.Hash]["custom1"] != "while-away" {
			t.Errorf("unrecoverable resume: %s recovered %v", m.Kind, m.Recovered)
		}
	})
}

// TestWSTopicEnded: a topic whose producer stops sends "ended" with the
// reason; the subscription is gone (rtgate.topics no longer lists it) and
// subscribing again starts the topic afresh.
func TestWSTopicEnded(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, nil)
		c := e.dialRaw(t, "/ws", nil)
		c.send(`{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"bulk"}}`)
		if got := string(c.recv()); got != `{"id":1,"jsonrpc":"2.0","result":{"topic":"bulk"}}` {
			t.Fatalf("subscribe: %s", got)
		}
		snap := c.recvJSON()
		if p := snap["params"].(map[string]any); p["kind"] != "snapshot" || p["topic"] != "bulk" || p["seq"] != 0.0 {
			t.Fatalf("snapshot %v", snap)
		}
		c.send(`{"jsonrpc":"2.0","id":2,"method":"rtgate.subscribe","params":{"topic":"bulk"}}`)
		if got := string(c.recv()); got != `{"error":{"code":-32004,"message":"rtgate: already subscribed to \"bulk\""},"id":2,"jsonrpc":"2.0"}` {
			t.Errorf("second subscribe: %s", got)
		}
		e.bulk.pub <- nil
		if got := string(c.recv()); !strings.HasPrefix(got, `{"jsonrpc":"2.0","method":"rtgate.message","params":{"topic":"bulk","kind":"ended","error":"`) ||
			!strings.HasSuffix(got, `bulk producer stopped"}}`) {
			t.Errorf("ended: %s", got)
		}
		c.send(`{"jsonrpc":"2.0","id":3,"method":"rtgate.topics"}`)
		var list struct {
			Result struct{ Subscribed []string } `json:"result"`
		}
		if err := json.Unmarshal(c.recv(), &list); err != nil || len(list.Result.Subscribed) != 0 {
			t.Errorf("topics after the end: %+v, %v", list, err)
		}
		c.send(`{"jsonrpc":"2.0","id":4,"method":"rtgate.subscribe","params":{"topic":"bulk"}}`)
		c.recv()
		if p := c.recvJSON()["params"].(map[string]any); p["kind"] != "snapshot" {
			t.Errorf("after resubscribing: %v", p)
		}
	})
}

// bulkChange is a change of the bulk topic of about size bytes.
func bulkChange(i, size int) []byte {
	return []byte(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", size)))
}

// TestWSSlowConsumer: a client stops reading while changes flow. The
// others keep getting every change; its queue overflows and, once it reads
// again, it gets what was sent, an rtgate.close telling where each of its
// topics stands, and close 4008; subscribing from there replays exactly
// the rest.
func TestWSSlowConsumer(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{
			hub:      topics.Options{QueueBytes: 128 << 10},
			listener: smallBufferListener,
		})
		ctx := context.Background()
		good := make([]*client.Subscription, 3)
		for i := range good {
			s, err := e.dial(t).Subscribe(ctx, "bulk", nil)
			if err != nil {
				t.Fatal(err)
			}
			next(t, s) // snapshot
			good[i] = s
		}
		slow, err := e.dialRawWith(t, "/ws", nil, smallBufferClient())
		if err != nil {
			t.Fatal(err)
		}
		slow.send(`{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"bulk"}}`)
		slow.recv() // the answer
		slow.recv() // the snapshot

		// 800 KiB against 128 KiB of queue and ~50 KiB of buffers, paced so
		// that clients that read keep up.
		const n, size = 200, 4 << 10
		for i := 1; i <= n; i++ {
			e.bulk.pub <- bulkChange(i, size)
			time.Sleep(time.Millisecond)
		}
		for gi, s := range good {
			for i := 1; i <= n; i++ {
				m := next(t, s)
				if m.Seq != uint64(i) || !bytes.Equal(m.Data, bulkChange(i, size)) {
					t.Fatalf("good client %d: change %d is %s %d", gi, i, m.Kind, m.Seq)
				}
			}
		}

		// The slow one reads again.
		var last uint64
		var notice map[string]any
		for notice == nil {
			b, err := slow.tryRecv(10 * time.Second)
			if err != nil {
				t.Fatalf("after change %d: %v", last, err)
			}
			var m struct {
				Method string
				Params map[string]any
			}
			json.Unmarshal(b, &m)
			switch m.Method {
			case "rtgate.message":
				seq := uint64(m.Params["seq"].(float64))
				if seq != last+1 {
					t.Fatalf("seq %d after %d", seq, last)
				}
				last = seq
			case "rtgate.close":
				notice = m.Params
			default:
				t.Fatalf("unexpected %s", b)
			}
		}
		if last == 0 || last >= n {
			t.Fatalf("the slow client got %d of %d changes before it was cut", last, n)
		}
		pos := notice["positions"].(map[string]any)["bulk"].(map[string]any)
		if notice["code"] != 4008.0 || notice["topic"] != "bulk" || pos["seq"] != float64(last) {
			t.Errorf("rtgate.close %v after seq %d", notice, last)
		}
		if code, _ := slow.closeCode(10 * time.Second); code != ws.StatusSlow {
			t.Errorf("close code %d, want %d", code, ws.StatusSlow)
		}

		// Resume from the notice: exactly the rest, the first recovered.
		again := e.dial(t)
		s, err := again.Subscribe(ctx, "bulk", &client.Position{Epoch: pos["epoch"].(string), Seq: last})
		if err != nil {
			t.Fatal(err)
		}
		for i := last + 1; i <= n; i++ {
			m := next(t, s)
			if m.Seq != i || !bytes.Equal(m.Data, bulkChange(int(i), size)) || (m.Recovered != nil) != (i == last+1) {
				t.Fatalf("resumed: %s %d recovered %v, want change %d", m.Kind, m.Seq, m.Recovered, i)
			}
		}
	})
}

// TestWSStalledPeer: a client that never reads again is dropped when a
// write has waited WriteTimeout, while the others get every change.
func TestWSStalledPeer(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{
			ws:       ws.Options{WriteTimeout: 300 * time.Millisecond},
			hub:      topics.Options{QueueBytes: 16 << 20},
			listener: smallBufferListener,
		})
		ctx := context.Background()
		good, err := e.dial(t).Subscribe(ctx, "bulk", nil)
		if err != nil {
			t.Fatal(err)
		}
		next(t, good)
		stalled, err := e.dialRawWith(t, "/ws", nil, smallBufferClient())
		if err != nil {
			t.Fatal(err)
		}
		stalled.send(`{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"bulk"}}`)
		stalled.recv()
		stalled.recv()
		if got := e.handler.Conns(); got != 2 {
			t.Fatalf("%d connections", got)
		}

		const n, size = 100, 4 << 10
		for i := 1; i <= n; i++ {
			e.bulk.pub <- bulkChange(i, size)
		}
		for i := 1; i <= n; i++ {
			if m := next(t, good); m.Seq != uint64(i) {
				t.Fatalf("good client: change %d is %d", i, m.Seq)
			}
		}
		waitFor(t, func() bool { return e.handler.Conns() == 1 })
	})
}

// TestWSUnreadAnswers: a client that sends requests and never reads their
// answers fills its answer queue and is closed with 4008 (once it reads, it
// sees the answers that were written, then the close); its requests do not
// pile up in the server meanwhile, and another client is served throughout.
func TestWSUnreadAnswers(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		e := startWSEnv(t, &wsEnvOptions{
			ws:       ws.Options{CallRate: -1, WriteQueueBytes: 32 << 10},
			listener: smallBufferListener,
		})
		flood, err := e.dialRawWith(t, "/ws", nil, smallBufferClient())
		if err != nil {
			t.Fatal(err)
		}
		other := e.dialRaw(t, "/ws", nil)
		req := []byte(`{"jsonrpc":"2.0","id":1,"method":"rtgate.nothing"}`)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sent := 0
		for ; sent < 5000; sent++ {
			if err := flood.Write(ctx, websocket.MessageText, req); err != nil {
				break // closed by the server, or our buffers are full
			}
			if sent%1000 == 0 {
				other.send(`{"jsonrpc":"2.0","id":2,"method":"system.client_version"}`)
				if got := string(other.recv()); got != `{"id":2,"jsonrpc":"2.0","result":"`+ver(t)+`"}` {
					t.Fatalf("other client: %s", got)
				}
			}
		}
		answers := 0
		for {
			b, err := flood.tryRecv(10 * time.Second)
			if err != nil {
				if code := websocket.CloseStatus(err); code != ws.StatusSlow {
					t.Errorf("after %d answers to %d requests: %v, want close %d", answers, sent, err, ws.StatusSlow)
				}
				break
			}
			if bytes.Contains(b, []byte(`"method":"rtgate.close"`)) {
				continue
			}
			answers++
		}
		if answers == 0 || answers >= sent {
			t.Errorf("%d answers to %d requests", answers, sent)
		}
		t.Logf("%d requests sent, %d answered before the close", sent, answers)
	})
}

// TestWSBigMessage: a change bigger than the writer's copy threshold goes
// out without being copied, as a fragmented message, and arrives whole; with
// permessage-deflate negotiated, compressed messages arrive whole too.
func TestWSBigMessage(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		for _, compress := range []bool{false, true} {
			t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
				e := startWSEnv(t, &wsEnvOptions{ws: ws.Options{Compression: compress}})
				ctx := context.Background()
				s, err := e.dial(t).Subscribe(ctx, "bulk", nil)
				if err != nil {
					t.Fatal(err)
				}
				next(t, s)
				h := http.Header{"Authorization": {"Bearer " + e.token}}
				mode := websocket.CompressionDisabled
				if compress {
					mode = websocket.CompressionNoContextTakeover
				}
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				raw, resp, err := websocket.Dial(dctx, e.url+"/ws", &websocket.DialOptions{HTTPHeader: h, CompressionMode: mode})
				if err != nil {
					t.Fatal(err)
				}
				defer raw.CloseNow()
				raw.SetReadLimit(64 << 20)
				if got := resp.Header.Get("Sec-WebSocket-Extensions"); (got != "") != compress {
					t.Errorf("extensions %q", got)
				}
				raw.Write(dctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"bulk"}}`))
				raw.Read(dctx) // the answer
				raw.Read(dctx) // the snapshot

				for i, size := range []int{1 << 20, 100, 300 << 10} {
					change := bulkChange(i+1, size)
					e.bulk.pub <- change
					if m := next(t, s); !bytes.Equal(m.Data, change) {
						t.Fatalf("Go client: change of %d bytes arrived as %d bytes", len(change), len(m.Data))
					}
					_, b, err := raw.Read(dctx)
					if err != nil {
						t.Fatal(err)
					}
					want := fmt.Sprintf(`{"jsonrpc":"2.0","method":"rtgate.message","params":{"topic":"bulk","kind":"change","epoch":"%s","seq":%d,"data":%s}}`, s.Position().Epoch, i+1, change)
					if string(b) != want {
						t.Fatalf("raw client: %d bytes, want %d", len(b), len(want))
					}
				}
			})
		}
	})
}
