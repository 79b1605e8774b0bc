package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/client"
	"github.com/rtgate/rtgate/protocol"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

func dial(t *testing.T, s *server, opts *client.Options) *client.Client {
	t.Helper()
	if opts == nil {
		opts = &client.Options{}
	}
	opts.Token = token
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, s.url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// countOf returns n of a change {"i":n} or a snapshot {"n":n}.
func countOf(t *testing.T, m client.Message) int {
	t.Helper()
	var d struct{ I, N int }
	if err := json.Unmarshal(m.Data, &d); err != nil {
		t.Fatalf("%s data %q: %v", m.Kind, m.Data, err)
	}
	if m.Kind == client.KindSnapshot {
		return d.N
	}
	return d.I
}

// TestWatchResumesAcrossDrops: Watch's connection is cut twice while
// changes flow; it reconnects, resumes from the last message it delivered,
// and fn sees every change exactly once, in order, after one snapshot.
func TestWatchResumesAcrossDrops(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		s := startServer(t, nil)
		const total = 300
		go func() {
			for i := 1; i <= total; i++ {
				s.count.next <- i // buffered: never blocks
				time.Sleep(2 * time.Millisecond)
			}
		}()

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var reconnects atomic.Int32
		var got []client.Message
		cut := map[int]bool{100: true, 200: true}
		err := client.Watch(ctx, s.url, &client.Options{Token: token}, "count",
			&client.WatchOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
				OnReconnect: func(error, time.Duration) { reconnects.Add(1) }},
			func(m client.Message) error {
				got = append(got, m)
				if m.Kind != client.KindChange {
					return nil
				}
				i := countOf(t, m)
				if cut[i] {
					delete(cut, i)
					s.proxy.cut()
				}
				if i == total {
					return errStop
				}
				return nil
			})
		if !errors.Is(err, errStop) {
			t.Fatalf("Watch returned %v after %d messages", err, len(got))
		}
		if reconnects.Load() < 2 {
			t.Errorf("%d reconnects, want 2", reconnects.Load())
		}
		if got[0].Kind != client.KindSnapshot {
			t.Fatalf("first message %s", got[0].Kind)
		}
		want := countOf(t, got[0]) + 1
		recovered := 0
		for _, m := range got[1:] {
			if m.Recovered != nil && *m.Recovered {
				recovered++
			}
			switch m.Kind {
			case client.KindResumed:
				continue
			case client.KindChange:
			default:
				t.Fatalf("a %s after the first snapshot", m.Kind)
			}
			if i := countOf(t, m); i != want {
				t.Fatalf("change %d where %d was due (gap or duplicate)", i, want)
			}
			if m.Epoch != got[0].Epoch {
				t.Fatalf("epoch changed: %s", m.Epoch)
			}
			want++
		}
		if want != total+1 {
			t.Errorf("ended at %d", want-1)
		}
		if recovered < 2 {
			t.Errorf("%d recovered resumes, want 2", recovered)
		}
	})
}

// TestSubscriptionOverflow: a subscription whose reader falls QueueLen
// behind ends with ErrOverflow after what it holds; subscribing again on the
// same connection from its Position replays the rest exactly.
func TestSubscriptionOverflow(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		s := startServer(t, nil)
		c := dial(t, s, &client.Options{QueueLen: 5})
		ctx := context.Background()
		sub, err := c.Subscribe(ctx, "count", nil)
		if err != nil {
			t.Fatal(err)
		}
		// 8 changes against a queue of 5: what the second subscription
		// replays fits in its queue.
		const total = 8
		for i := 1; i <= total; i++ {
			s.count.next <- i
		}
		// Let everything arrive before reading anything.
		for deadline := time.Now().Add(10 * time.Second); s.count.published() < total; {
			if time.Now().After(deadline) {
				t.Fatal("the changes were not published")
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		var last client.Message
		for {
			m, err := sub.Next(ctx)
			if errors.Is(err, client.ErrOverflow) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			last = m
		}
		if sub.Position() != last.Position() {
			t.Errorf("Position %v, last message %v", sub.Position(), last.Position())
		}
		pos := sub.Position()
		again, err := c.Subscribe(ctx, "count", &pos)
		if err != nil {
			t.Fatal(err)
		}
		n := countOf(t, last)
		for n < total {
			m, err := again.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != client.KindChange || countOf(t, m) != n+1 {
				t.Fatalf("after %d: %s %s", n, m.Kind, m.Data)
			}
			n++
		}
	})
}

// TestClientCalls: calls on one connection; a call's context ending does
// not end the connection; Close is idempotent and later calls fail; a
// server shutting down ends the client with 1001.
func TestClientCalls(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		s := startServer(t, nil)
		c := dial(t, s, nil)
		ctx := context.Background()
		if v, err := c.Call(ctx, "system.client_version"); err != nil || string(v) != `"`+ver(t)+`"` {
			t.Fatalf("system.client_version = %s, %v", v, err)
		}
		short, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Call(short, "system.client_version"); !errors.Is(err, context.Canceled) {
			t.Errorf("canceled call: %v", err)
		}
		if _, err := c.Call(ctx, "system.no_such_method"); err == nil {
			t.Errorf("no error from an unknown method")
		} else {
			var e *client.Error
			if !errors.As(err, &e) || e.Data == nil {
				t.Errorf("unknown method: %v", err)
			}
		}
		if v, err := c.Call(ctx, "system.client_version"); err != nil || string(v) != `"`+ver(t)+`"` {
			t.Errorf("after a canceled call: %s, %v", v, err)
		}
		if _, err := c.Subscribe(ctx, "nothing", nil); !isCode(err, protocol.CodeUnknownTopic) {
			t.Errorf("unknown topic: %v", err)
		}

		other := dial(t, s, nil)
		s.handler.Close()
		<-other.Done()
		if code := client.CloseCode(other.Err()); code != 1001 {
			t.Errorf("after the server's shutdown: %v (code %d)", other.Err(), code)
		}
		c.Close()
		c.Close()
		if _, err := c.Call(ctx, "system.client_version"); err == nil {
			t.Error("a call after Close succeeded")
		}
	})
}

func isCode(err error, code int) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Code == code
}

// TestDialRefused: a wrong token is a *HandshakeError with 401, and Watch
// gives up on it at once.
func TestDialRefused(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		s := startServer(t, nil)
		_, err := client.Dial(context.Background(), s.url, &client.Options{Token: "wrong"})
		var hs *client.HandshakeError
		if !errors.As(err, &hs) || hs.StatusCode != http.StatusUnauthorized {
			t.Errorf("Dial: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = client.Watch(ctx, s.url, &client.Options{Token: "wrong"}, "count", nil, func(client.Message) error { return nil })
		if !errors.As(err, &hs) {
			t.Errorf("Watch: %v", err)
		}
	})
}
