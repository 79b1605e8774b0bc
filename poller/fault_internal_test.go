package poller

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// fakeCaller is a Caller made of a function: here, a real rTorrent with
// faults injected into what it answers, for the failures a real rTorrent
// does not produce on demand.
type fakeCaller struct {
	call func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

func (f fakeCaller) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	return f.call(ctx, method, params...)
}

var _ Caller = fakeCaller{}
var _ Caller = (*rtorrent.Client)(nil)

// methodsOf returns the method names of a system.multicall's entries.
func methodsOf(params []xmlrpc.Value) []string {
	if len(params) != 1 {
		return nil
	}
	var out []string
	for _, e := range params[0].Values() {
		m, _ := e.Member("methodName")
		out = append(out, m.String())
	}
	return out
}

// replace returns the system.multicall reply v with entry i replaced.
func replace(v xmlrpc.Value, i int, e xmlrpc.Value) xmlrpc.Value {
	vs := append([]xmlrpc.Value(nil), v.Values()...)
	vs[i] = e
	return xmlrpc.NewArray(vs...)
}

func faultEntry(code int64, msg string) xmlrpc.Value {
	return xmlrpc.NewStruct(
		xmlrpc.Member{Name: "faultCode", Value: xmlrpc.NewInt(code)},
		xmlrpc.Member{Name: "faultString", Value: xmlrpc.NewString(msg)})
}

// tickIndex returns the index of the fast started-view poll in a tick's
// entries (after the event hooks' calls, system.pid and view.size), or -1
// if these are not a tick's.
func tickIndex(methods []string) int {
	i := slices.Index(methods, "system.pid")
	if i < 0 || len(methods) < i+3 || methods[i+1] != "view.size" {
		return -1
	}
	return i + 2
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFaults injects, while on is set, one kind of failure into every
// poll. Polls that fail that way are dropped whole (the state does not
// take half of one) or, for transport failures, make the poller reconnect;
// once the fault stops, the state catches up with rTorrent.
func TestFaults(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		tr := rtorrenttest.MakeTorrentBytes(t, "f.bin", 16<<10) // the hash of the download each subtest loads
		tests := []struct {
			name string
			// inject rewrites a reply (or fails the call) while on.
			inject func(ctx context.Context, methods []string, v xmlrpc.Value, err error) (xmlrpc.Value, error)
			// disconnects: the failure is a transport one.
			disconnects bool
			log         string // in the log, once
		}{
			{
				name: "row of the wrong width",
				inject: func(_ context.Context, ms []string, v xmlrpc.Value, err error) (xmlrpc.Value, error) {
					if i := tickIndex(ms); i >= 0 && err == nil {
						v = replace(v, i, xmlrpc.NewArray(xmlrpc.NewArray(xmlrpc.NewArray(xmlrpc.NewString(tr.Hash)))))
					}
					return v, err
				},
				log: "row is array of 1 values",
			},
			{
				name: "string where an integer belongs",
				inject: func(_ context.Context, ms []string, v xmlrpc.Value, err error) (xmlrpc.Value, error) {
					if i := tickIndex(ms); i >= 0 && err == nil {
						v = replace(v, i-1, xmlrpc.NewArray(xmlrpc.NewString("many")))
					}
					return v, err
				},
				log: "view.size returned string",
			},
			{
				name: "fault in one entry mid-poll",
				inject: func(_ context.Context, ms []string, v xmlrpc.Value, err error) (xmlrpc.Value, error) {
					if i := tickIndex(ms); i >= 0 && err == nil {
						v = replace(v, i, faultEntry(-503, "Could not find view."))
					}
					return v, err
				},
				log: "Could not find view.",
			},
			{
				name: "fault of the whole call",
				inject: func(_ context.Context, ms []string, v xmlrpc.Value, err error) (xmlrpc.Value, error) {
					if tickIndex(ms) >= 0 {
						return xmlrpc.Value{}, &xmlrpc.Fault{Code: xmlrpc.FaultSizeLimit, Message: "XML-RPC response too large"}
					}
					return v, err
				},
				log: "response too large",
			},
			{
				name: "malformed multicall reply",
				inject: func(_ context.Context, ms []string, v xmlrpc.Value, err error) (xmlrpc.Value, error) {
					if tickIndex(ms) >= 0 {
						return xmlrpc.NewString("not an array"), nil
					}
					return v, err
				},
				log: "system.multicall returned string",
			},
			{
				name: "timeout",
				inject: func(ctx context.Context, ms []string, v xmlrpc.Value, err error) (xmlrpc.Value, error) {
					<-ctx.Done() // rTorrent hangs
					return xmlrpc.Value{}, ctx.Err()
				},
				disconnects: true,
				log:         "backend unreachable",
			},
			{
				name: "connection refused",
				inject: func(_ context.Context, _ []string, _ xmlrpc.Value, _ error) (xmlrpc.Value, error) {
					return xmlrpc.Value{}, errors.New("dial unix: connect: connection refused")
				},
				disconnects: true,
				log:         "connection refused",
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rt := rtorrenttest.Start(t, nil)
				c, err := rtorrent.New(rt.Addr(), nil)
				if err != nil {
					t.Fatal(err)
				}
				rtorrenttest.MakeTorrent(t, rt.DownloadDir, "f.bin", 16<<10, nil)
				loadAndWait(t, c, tr)

				var on atomic.Bool
				fake := fakeCaller{call: func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
					v, err := c.Call(ctx, method, params...)
					if on.Load() && method == "system.multicall" {
						return tt.inject(ctx, methodsOf(params), v, err)
					}
					return v, err
				}}
				var logs syncBuffer
				p := New(fake, &Options{
					Interval: 10 * time.Millisecond, FullSweep: -1, Timeout: 100 * time.Millisecond,
					BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
					Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				})
				runPoller(t, p)
				waitUntil(t, "connected", func() bool { return p.Health().State == StateConnected })

				on.Store(true)
				if _, err := c.Call(t.Context(), "d.stop", xmlrpc.NewString(tr.Hash)); err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "the fault is logged", func() bool { return strings.Contains(logs.String(), tt.log) })
				time.Sleep(50 * time.Millisecond) // several more failed polls
				if got, _ := p.Torrent(tr.Hash); !got.State {
					t.Error("the state took in part of a failed poll")
				}
				if tt.disconnects {
					waitUntil(t, "reconnecting", func() bool { return p.Health().State == StateReconnecting })
				} else if h := p.Health(); h.State != StateConnected || !strings.Contains(h.Error, tt.log) {
					t.Errorf("Health = %+v, want connected with the error", h)
				}
				if n := strings.Count(logs.String(), tt.log); n != 1 && !tt.disconnects {
					t.Errorf("logged %d times:\n%s", n, logs.String())
				}

				on.Store(false)
				waitUntil(t, "the state catches up", func() bool {
					got, _ := p.Torrent(tr.Hash)
					h := p.Health()
					return !got.State && h.State == StateConnected && h.Error == ""
				})
			})
		}
	})
}

// TestRestartBehindTheBack: rTorrent restarted between two polls (another
// pid, or, with the same pid, global totals that went down) makes the
// poller resync without ever seeing it disconnected.
func TestRestartBehindTheBack(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			inject func(methods []string, v xmlrpc.Value) xmlrpc.Value
		}{
			{"another pid", func(ms []string, v xmlrpc.Value) xmlrpc.Value {
				if i := slices.Index(ms, "system.pid"); i >= 0 && len(ms) > 1 {
					return replace(v, i, xmlrpc.NewArray(xmlrpc.NewInt(v.Index(i).Index(0).Int()+1)))
				}
				return v
			}},
			{"totals went down", func(ms []string, v xmlrpc.Value) xmlrpc.Value {
				for i, m := range ms {
					if m == "throttle.global_up.total" {
						return replace(v, i, xmlrpc.NewArray(xmlrpc.NewInt(-1)))
					}
				}
				return v
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rt := rtorrenttest.Start(t, nil)
				c, err := rtorrent.New(rt.Addr(), nil)
				if err != nil {
					t.Fatal(err)
				}
				var on atomic.Bool
				var connects atomic.Int32
				fake := fakeCaller{call: func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
					v, err := c.Call(ctx, method, params...)
					ms := methodsOf(params)
					if len(ms) > 0 && ms[0] == "system.client_version" {
						connects.Add(1)
					}
					if err == nil && on.Load() && len(ms) > 0 && tickIndex(ms) >= 0 {
						on.Store(false)
						v = tt.inject(ms, v)
					}
					return v, err
				}}
				p := New(fake, &Options{Interval: 10 * time.Millisecond, FullSweep: -1})
				runPoller(t, p)
				waitUntil(t, "connected", func() bool { return p.Health().State == StateConnected })
				since := p.Health().Since
				time.Sleep(30 * time.Millisecond) // a tick or two, for the totals
				on.Store(true)
				waitUntil(t, "connected again", func() bool {
					return connects.Load() == 2 && p.Health().State == StateConnected && p.Health().Since.After(since)
				})
			})
		}
	})
}

// TestFewerMethods: a backend offering no views but main, no view.size and
// no system.pid is polled over main, and its missing fields are left out.
func TestFewerMethods(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		rt := rtorrenttest.Start(t, nil)
		c, err := rtorrent.New(rt.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := rtorrenttest.MakeTorrent(t, rt.DownloadDir, "few.bin", 16<<10, nil)
		loadAndWait(t, c, tr)
		hidden := map[string]bool{"view.size": true, "system.pid": true, "view.list": true, "d.custom1": true}
		fake := fakeCaller{call: func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
			v, err := c.Call(ctx, method, params...)
			if err != nil || method != "system.multicall" {
				return v, err
			}
			for i, m := range methodsOf(params) {
				switch {
				case m == "system.listMethods":
					var keep []xmlrpc.Value
					for _, name := range v.Index(i).Index(0).Values() {
						if !hidden[name.String()] {
							keep = append(keep, name)
						}
					}
					v = replace(v, i, xmlrpc.NewArray(xmlrpc.NewArray(keep...)))
				case hidden[m]:
					v = replace(v, i, faultEntry(-506, "Method '"+m+"' not defined"))
				}
			}
			return v, nil
		}}
		p := New(fake, &Options{Interval: 10 * time.Millisecond, FullSweep: -1})
		runPoller(t, p)
		waitUntil(t, "connected", func() bool { return p.Health().State == StateConnected })
		p.mu.Lock()
		s := p.st.schema
		p.mu.Unlock()
		if s.pos[colCustom1] >= 0 || s.pos[colIsSequential] >= 0 {
			t.Errorf("schema keeps fields the backend lacks: %v", s.ids)
		}
		if _, err := c.Call(t.Context(), "d.stop", xmlrpc.NewString(tr.Hash)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the stop is seen over main", func() bool {
			got, _ := p.Torrent(tr.Hash)
			return !got.State
		})
	})
}

func loadAndWait(t *testing.T, c *rtorrent.Client, tr rtorrenttest.Torrent) {
	t.Helper()
	if _, err := c.Call(t.Context(), "load.raw_start", xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "loaded", func() bool {
		rows, err := c.DMulticall(t.Context(), "main", "d.hash=", "d.complete=")
		return err == nil && len(rows) == 1 && rows[0][1].Int() == 1
	})
}

func runPoller(t *testing.T, p *Poller) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
