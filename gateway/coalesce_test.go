package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// slow delays every upstream call by d, so that concurrent callers overlap
// for certain; it counts calls and the most in flight at once.
type slow struct {
	d                 time.Duration
	calls, inFlight   atomic.Int64
	maxInFlight       atomic.Int64
	mu                sync.Mutex
	canceledUpstreams int
}

func (s *slow) enter() func() {
	s.calls.Add(1)
	n := s.inFlight.Add(1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { s.inFlight.Add(-1) }
}

func (s *slow) wait(ctx context.Context) error {
	select {
	case <-time.After(s.d):
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		s.canceledUpstreams++
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *slow) caller(c gateway.Caller) gateway.Caller {
	return callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
		defer s.enter()()
		if err := s.wait(ctx); err != nil {
			return xmlrpc.Value{}, err
		}
		return c.Call(ctx, method, params...)
	})
}

func (s *slow) raw(c gateway.RawCaller) gateway.RawCaller {
	return rawFunc(func(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
		defer s.enter()()
		if err := s.wait(ctx); err != nil {
			return nil, err
		}
		return c.Do(ctx, contentType, body)
	})
}

// together runs f n times at once and waits for all.
func together(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

func TestCoalesceReads(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		for i := range 3 {
			loadTorrent(t, b.client, rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("coalesce-%d", i), 1000))
		}
		want, err := b.client.Call(context.Background(), "d.multicall2", floodPollParams()...)
		if err != nil {
			t.Fatal(err)
		}
		s := &slow{d: 200 * time.Millisecond}
		co := gateway.NewCoalescer(s.caller(b.client), nil)
		const n = 20
		results := make([]xmlrpc.Value, n)
		together(n, func(i int) {
			v, err := co.Call(context.Background(), "d.multicall2", floodPollParams()...)
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		})
		if got := s.calls.Load(); got != 1 {
			t.Errorf("%d upstream calls for %d identical reads, want 1", got, n)
		}
		for i, v := range results {
			if !v.Equal(want) {
				t.Errorf("caller %d got %v", i, v)
			}
		}

		// Different params are different calls.
		s.calls.Store(0)
		together(4, func(i int) {
			if _, err := co.Call(context.Background(), "d.multicall2", strs("", "main", fmt.Sprintf("d.custom=k%d", i%2))...); err != nil {
				t.Error(err)
			}
		})
		if got := s.calls.Load(); got != 2 {
			t.Errorf("%d upstream calls for 2 distinct reads, want 2", got)
		}
	})
}

// TestCoalesceDoors sends identical reads to both doors at once: one
// upstream call, and every client gets rTorrent's reply byte for byte.
func TestCoalesceDoors(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		for i := range 3 {
			loadTorrent(t, b.client, rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("doors-%d", i), 1000))
		}
		call := encodeCall(t, "d.multicall2", floodPollParams()...)
		direct, err := b.rt.RawCall(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		_, want, _ := bytes.Cut(direct, []byte("\r\n\r\n"))
		s := &slow{d: 300 * time.Millisecond}
		d := startDoor(t, s.caller(b.client), &gateway.CoalesceOptions{Raw: s.raw(b.raw)}, nil)
		const n = 16
		together(n, func(i int) {
			r := transports[i%2].send(d, t, "text/xml", call)
			if !bytes.Equal(r.body, want) {
				t.Errorf("client %d: reply differs from rTorrent's", i)
			}
		})
		if got := s.calls.Load(); got != 1 {
			t.Errorf("%d upstream calls for %d identical reads, want 1", got, n)
		}

		// With a Window, reads one after another share too, and a reply whose
		// readers all finished stays whole for the next.
		s = &slow{}
		d = startDoor(t, s.caller(b.client), &gateway.CoalesceOptions{Raw: s.raw(b.raw), Window: time.Minute}, nil)
		for i := range 4 {
			if r := transports[i%2].send(d, t, "text/xml", call); !bytes.Equal(r.body, want) {
				t.Errorf("read %d: reply differs from rTorrent's", i)
			}
		}
		if got := s.calls.Load(); got != 1 {
			t.Errorf("%d upstream calls for 4 reads within the window, want 1", got)
		}
	})
}

func TestCoalesceWrites(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		tr1 := rtorrenttest.MakeTorrentBytes(t, "write-1", 1000)
		tr2 := rtorrenttest.MakeTorrentBytes(t, "write-2", 1000)
		loadTorrent(t, b.client, tr1)
		loadTorrent(t, b.client, tr2)

		var mu sync.Mutex
		var writes []string
		s := &slow{d: 100 * time.Millisecond}
		co := gateway.NewCoalescer(s.caller(b.client), &gateway.CoalesceOptions{
			Window: time.Minute, // reads would be shared for a minute; writes never are
			OnWrite: func(method string, targets []string) {
				mu.Lock()
				writes = append(writes, fmt.Sprintf("%s %v", method, targets))
				mu.Unlock()
			},
		})
		const n = 5
		together(n, func(int) {
			if _, err := co.Call(context.Background(), "d.custom.set", strs(tr1.Hash, "k", "v")...); err != nil {
				t.Error(err)
			}
		})
		if got := s.calls.Load(); got != n {
			t.Errorf("%d upstream calls for %d identical writes, want %d", got, n, n)
		}

		tr3 := rtorrenttest.MakeTorrentBytes(t, "write-3", 1000)
		mu.Lock()
		writes = nil
		mu.Unlock()
		for _, c := range []struct {
			method string
			params []xmlrpc.Value
		}{
			{"d.stop", strs(tr1.Hash)},
			{"f.priority.set", []xmlrpc.Value{str(tr1.Hash + ":f0"), xmlrpc.NewInt(0)}},
			{"system.multicall", []xmlrpc.Value{xmlrpc.NewArray(
				entry("d.name", str(tr2.Hash)), entry("d.close", str(tr2.Hash)), entry("d.custom1.set", str(tr1.Hash), str("x")))}},
			{"load.raw", []xmlrpc.Value{str(""), xmlrpc.NewBase64(tr3.Bytes)}},
			{"throttle.global_up.max_rate.set", strs("", "0")},
			{"d.multicall2", strs("", "main", "d.hash=", "d.custom2.set=y")},
		} {
			if _, err := co.Call(context.Background(), c.method, c.params...); err != nil {
				t.Errorf("%s: %v", c.method, err)
			}
		}
		// A read is not a write.
		co.Call(context.Background(), "d.name", str(tr1.Hash))

		want := []string{
			"d.stop [" + tr1.Hash + "]",
			"f.priority.set [" + tr1.Hash + "]",
			// A multicall's writes one by one (its read is no write).
			"d.close [" + tr2.Hash + "]",
			"d.custom1.set [" + tr1.Hash + "]",
			"load.raw [" + tr3.Hash + "]",
			"throttle.global_up.max_rate.set []",
			"d.multicall2 []",
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(writes, want) {
			t.Errorf("OnWrite calls\n %q\nwant\n %q", writes, want)
		}
	})
}

// TestCoalesceCancel checks that one caller giving up does not fail the
// others sharing its call, and that the shared call is canceled when all
// have given up.
func TestCoalesceCancel(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		s := &slow{d: 300 * time.Millisecond}
		co := gateway.NewCoalescer(s.caller(b.client), nil)

		ctx, cancel := context.WithCancel(context.Background())
		var quitter error
		together(6, func(i int) {
			if i == 0 {
				// The first to arrive may well be the one that started the call.
				qctx, qcancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer qcancel()
				_, quitter = co.Call(qctx, "system.client_version")
				return
			}
			if v, err := co.Call(ctx, "system.client_version"); err != nil || v.String() != ver(t) {
				t.Errorf("caller %d: %v %v", i, v, err)
			}
		})
		if !errors.Is(quitter, context.DeadlineExceeded) {
			t.Errorf("the caller that gave up got %v", quitter)
		}
		if got := s.calls.Load(); got != 1 {
			t.Errorf("%d upstream calls, want 1", got)
		}

		// Everyone gives up: the upstream call is canceled.
		together(3, func(int) {
			qctx, qcancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer qcancel()
			co.Call(qctx, "system.pid")
		})
		waitFor(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.canceledUpstreams == 1
		})
		cancel()
	})
}

func TestCoalesceWindow(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		tests := []struct {
			name       string
			window     time.Duration
			sequential int   // calls one after another
			concurrent int   // calls at once
			want       int64 // upstream calls
		}{
			{"in flight only: sequential calls each go", 0, 3, 0, 3},
			{"window: sequential calls share", time.Minute, 3, 0, 1},
			{"off: concurrent calls each go", -1, 0, 4, 4},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := &slow{d: 50 * time.Millisecond}
				co := gateway.NewCoalescer(s.caller(b.client), &gateway.CoalesceOptions{Window: tt.window})
				for range tt.sequential {
					if _, err := co.Call(context.Background(), "view.list", str("")); err != nil {
						t.Fatal(err)
					}
				}
				together(tt.concurrent, func(int) { co.Call(context.Background(), "view.list", str("")) })
				if got := s.calls.Load(); got != tt.want {
					t.Errorf("%d upstream calls, want %d", got, tt.want)
				}
			})
		}

		// A window's result expires.
		s := &slow{}
		co := gateway.NewCoalescer(s.caller(b.client), &gateway.CoalesceOptions{Window: 100 * time.Millisecond})
		co.Call(context.Background(), "view.list", str(""))
		co.Call(context.Background(), "view.list", str(""))
		time.Sleep(250 * time.Millisecond)
		co.Call(context.Background(), "view.list", str(""))
		if got := s.calls.Load(); got != 2 {
			t.Errorf("%d upstream calls across an expired window, want 2", got)
		}
	})
}

func TestCoalesceFresh(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		var n counter
		held := xmlrpc.NewArray(xmlrpc.NewArray(str("HELD")))
		var mu sync.Mutex
		var asked []string
		fresh := func(method string, params []xmlrpc.Value) (xmlrpc.Value, uint64, bool) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, method)
			return held, 1, method == "d.multicall2"
		}
		co := &gateway.CoalesceOptions{Fresh: fresh}
		d := startDoor(t, n.caller(b.client), co, nil)
		r := d.postHTTP(t, "text/xml", encodeCall(t, "d.multicall2", floodPollParams()...))
		if v, fault := decodeReply(t, r); fault != nil || !v.Equal(held) {
			t.Errorf("fresh read answered %v %v", v, fault)
		}
		r = d.postHTTP(t, "text/xml", encodeCall(t, "system.client_version"))
		if v, _ := decodeReply(t, r); v.String() != ver(t) {
			t.Errorf("read Fresh declined: %v", v)
		}
		d.postHTTP(t, "text/xml", encodeCall(t, "d.stop", str(hash))) // a write: Fresh is not asked
		if got := n.calls.Load(); got != 2 {
			t.Errorf("%d upstream calls, want 2", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(asked, []string{"d.multicall2", "system.client_version"}) {
			t.Errorf("Fresh asked for %q", asked)
		}
	})
}

func TestCoalesceMaxUpstream(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		s := &slow{d: 100 * time.Millisecond}
		co := gateway.NewCoalescer(s.caller(b.client), &gateway.CoalesceOptions{MaxUpstream: 2})
		together(8, func(i int) {
			// Distinct reads and writes: nothing to share.
			if _, err := co.Call(context.Background(), "d.multicall2", strs("", "main", fmt.Sprintf("d.custom=x%d", i))...); err != nil {
				t.Error(err)
			}
		})
		if got := s.maxInFlight.Load(); got != 2 {
			t.Errorf("%d upstream calls in flight at most, want 2", got)
		}

		// A caller that cannot get a slot in time gives up cleanly.
		blocked := &slow{d: time.Second}
		co = gateway.NewCoalescer(blocked.caller(b.client), &gateway.CoalesceOptions{MaxUpstream: 1})
		go co.Call(context.Background(), "d.stop", str(hash))
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := co.Call(ctx, "d.start", str(hash)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want a deadline", err)
		}
		waitFor(t, func() bool { return blocked.inFlight.Load() == 0 })
	})
}

// TestCoalesceReadAfterWrite checks that a read issued after a write
// returned never shares the answer of a read that began before it.
func TestCoalesceReadAfterWrite(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		b := startBackend(t, nil)
		tr := rtorrenttest.MakeTorrentBytes(t, "after-write", 1000)
		loadTorrent(t, b.client, tr)
		b.client.Call(context.Background(), "d.custom.set", strs(tr.Hash, "k", "old")...)
		// Reads are answered by rTorrent at once and handed back late, so the
		// first is still in flight when the write returns.
		lateReads := callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
			v, err := b.client.Call(ctx, method, params...)
			if method == "d.custom" {
				time.Sleep(300 * time.Millisecond)
			}
			return v, err
		})
		co := gateway.NewCoalescer(lateReads, nil)
		first := make(chan xmlrpc.Value)
		go func() {
			v, _ := co.Call(context.Background(), "d.custom", strs(tr.Hash, "k")...)
			first <- v
		}()
		time.Sleep(50 * time.Millisecond)
		if _, err := co.Call(context.Background(), "d.custom.set", strs(tr.Hash, "k", "new")...); err != nil {
			t.Fatal(err)
		}
		after, err := co.Call(context.Background(), "d.custom", strs(tr.Hash, "k")...)
		if err != nil || after.String() != "new" {
			t.Errorf("read after the write: %v %v, want new", after, err)
		}
		if v := <-first; v.String() != "old" {
			t.Errorf("read before the write: %v, want old", v)
		}
	})
}
