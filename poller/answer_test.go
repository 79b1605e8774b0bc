package poller_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

func entry(method string, params ...xmlrpc.Value) xmlrpc.Value {
	return xmlrpc.NewStruct(
		xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(method)},
		xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)})
}

func sv(ss ...string) []xmlrpc.Value {
	out := make([]xmlrpc.Value, len(ss))
	for i, s := range ss {
		out[i] = xmlrpc.NewString(s)
	}
	return out
}

// libraryPoller is a poller over a fresh rTorrent holding rtorrenttest.LoadMix.
func libraryPoller(t *testing.T, opts *poller.Options) (*fixture, map[string]string) {
	t.Helper()
	b := startBackend(t, nil)
	m := rtorrenttest.LoadMix(t, b.rt, b.c)
	hashes := map[string]string{"stopped": m.Stopped, "seeding": m.Seeding, "paused": m.Paused, "leeching": m.Leeching, "multi": m.Multi}
	return startPoller(t, b, opts), hashes
}

// call is one read a legacy client makes.
type call struct {
	name   string
	method string
	params []xmlrpc.Value
}

// clientReads are the reads the differential tests compare: Flood's and
// ruTorrent's polls, pyrosimple-style lists of every standard view,
// getters and globals.
func clientReads(v rtorrenttest.Version, hashes map[string]string) []call {
	flood := append(sv("", "main"), sv(rtorrenttest.FloodFields()...)...)
	reads := []call{{name: "Flood's list", method: "d.multicall2", params: flood}}
	for _, c := range rtorrenttest.RuTorrentPoll(v) {
		reads = append(reads, call{name: "ruTorrent's " + c.Method, method: c.Method, params: c.Params})
	}
	for _, view := range []string{"main", "default", "name", "started", "stopped", "complete", "incomplete", "hashing", "seeding", "leeching", "active", "rtgatetest"} {
		reads = append(reads, call{name: "view " + view, method: "d.multicall2", params: sv("", view, "d.hash=", "d.name=", "d.state=", "d.is_active=", "d.complete=", "d.size_bytes=", "d.custom=addtime", "d.tied_to_file=", "d.views=")})
	}
	for _, pred := range []string{"d.complete=", "not=$d.state=", "equal=d.name=,cat=a-stopped", "or={d.complete=,d.is_active=}",
		"and={d.complete=,d.state=}", "greater=d.size_bytes=,value=1000", "less=d.name=,value=5", "and=d.complete=", "cat=$d.custom1=", "false="} {
		reads = append(reads, call{name: "filtered " + pred, method: "d.multicall.filtered", params: sv("", "main", pred, "d.hash=", "d.name=")})
	}
	reads = append(reads,
		call{name: "the default view, unnamed", method: "d.multicall2", params: sv("", "", "d.hash=", "d.name=")},
		call{name: "filtered default view", method: "d.multicall.filtered", params: sv("", "", "d.state=", "d.hash=")},
		call{name: "ruTorrent's throttles", method: "d.multicall2", params: sv("", "", "d.hash=", "d.throttle_name=", "cat=$throttle.up.max=$d.throttle_name=", "cat=$throttle.down.max=$d.throttle_name=")},
	)
	h := hashes["stopped"]
	for _, d := range []struct{ name, hash string }{{"stopped", h}, {"seeding", hashes["seeding"]}, {"multi", hashes["multi"]}} {
		reads = append(reads,
			call{name: "Flood's files of " + d.name, method: "f.multicall", params: sv(d.hash, "", "f.path=", "f.priority=", "f.size_bytes=", "f.size_chunks=", "f.completed_chunks=")},
			call{name: "Flood's peers of " + d.name, method: "p.multicall", params: sv(d.hash, "", "p.address=", "p.client_version=", "p.completed_percent=", "p.down_rate=", "p.up_rate=", "p.is_encrypted=", "p.is_incoming=")},
			call{name: "Flood's trackers of " + d.name, method: "t.multicall", params: sv(d.hash, "", "t.url=", "t.type=", "t.is_enabled=")},
		)
	}
	reads = append(reads,
		call{name: "d.name", method: "d.name", params: sv(h)},
		call{name: "d.custom addtime", method: "d.custom", params: sv(h, "addtime")},
		call{name: "d.custom1", method: "d.custom1", params: sv(hashes["multi"])},
		call{name: "d.size_bytes", method: "d.size_bytes", params: sv(hashes["seeding"])},
		call{name: "getters of two downloads", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray(
			entry("d.name", sv(h)...), entry("d.state", sv(hashes["seeding"])...), entry("d.custom1", sv(h)...), entry("d.priority", sv(hashes["paused"])...))}},
		call{name: "client version", method: "system.client_version"},
		call{name: "directory.default", method: "directory.default", params: sv("")},
		call{name: "Flood's transfer summary", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray(
			entry("throttle.global_down.rate", sv("")...), entry("throttle.global_down.total", sv("")...),
			entry("throttle.global_up.rate", sv("")...), entry("throttle.global_up.total", sv("")...))}},
	)
	settings := []string{"dht.port", "directory.default", "network.local_address", "network.max_open_files", "network.port_open", "network.port_random", "network.port_range", "pieces.hash.on_completion", "pieces.memory.max", "protocol.pex", "throttle.global_down.max_rate", "throttle.global_up.max_rate", "throttle.max_peers.normal", "throttle.max_peers.seed", "throttle.max_downloads", "throttle.max_downloads.global", "throttle.max_uploads", "throttle.max_uploads.global", "throttle.min_peers.normal", "throttle.min_peers.seed", "trackers.numwant"}
	var es []xmlrpc.Value
	for _, s := range settings {
		es = append(es, entry(s, sv("")...))
	}
	reads = append(reads, call{name: "Flood's settings", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray(es...)}})
	return reads
}

// answered waits until the poller answers c from state (it learns what it
// lacks from the first asks) and returns the answer.
func answered(t *testing.T, p *poller.Poller, c call) xmlrpc.Value {
	t.Helper()
	var v xmlrpc.Value
	rtorrenttest.WaitForWithin(t, 10*time.Second, c.name+" answered from state", func() bool {
		var ok bool
		v, _, ok = p.Answer(c.method, c.params)
		return ok
	})
	return v
}

// sameMoment compares an answer from state with rTorrent's answers just
// before and just after it: the answer must equal one of them (values
// that change on their own may move in between), retried over a few
// ticks. d.free_diskspace, which moves with every byte any process writes
// to the disk, is compared as present, not by value.
func sameMoment(t *testing.T, f *fixture, c call) {
	t.Helper()
	var before, got, after xmlrpc.Value
	for range 10 {
		var err error
		if before, err = f.c.Call(t.Context(), c.method, c.params...); err != nil {
			t.Fatalf("%s: rTorrent: %v", c.name, err)
		}
		got = answered(t, f.p, c)
		if after, err = f.c.Call(t.Context(), c.method, c.params...); err != nil {
			t.Fatal(err)
		}
		before, got, after = maskFreeSpace(c, before), maskFreeSpace(c, got), maskFreeSpace(c, after)
		if got.Equal(before) || got.Equal(after) {
			return
		}
		time.Sleep(60 * time.Millisecond)
	}
	t.Errorf("%s: answered\n%v\nrTorrent answers\n%v\nthen\n%v", c.name, got, before, after)
}

// maskFreeSpace zeroes the d.free_diskspace column of a list.
func maskFreeSpace(c call, v xmlrpc.Value) xmlrpc.Value {
	col := -1
	for i, p := range c.params {
		if p.String() == "d.free_diskspace=" {
			col = i - 2
		}
	}
	if col < 0 || v.Kind() != xmlrpc.Array {
		return v
	}
	rows := make([]xmlrpc.Value, v.Len())
	for i, r := range v.Values() {
		vals := append([]xmlrpc.Value(nil), r.Values()...)
		if col < len(vals) && vals[col].Kind() == xmlrpc.Int {
			vals[col] = xmlrpc.NewInt(0)
		}
		rows[i] = xmlrpc.NewArray(vals...)
	}
	return xmlrpc.NewArray(rows...)
}

// TestAnswersEqualRTorrent: after warm-up, every read of Flood's and
// ruTorrent's polls, of the standard views, getters and settings, is
// answered from state with rTorrent's own answer; with no write and no
// event, polls reach rTorrent only as the poller's own ticks.
func TestAnswersEqualRTorrent(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		f, hashes := libraryPoller(t, &poller.Options{Interval: 50 * time.Millisecond, FullSweep: -1})
		for _, c := range clientReads(rtorrenttest.VersionOf(t), hashes) {
			t.Run(c.name, func(t *testing.T) { sameMoment(t, f, c) })
		}
	})
}

// TestAnswerNeverGuesses: reads the state cannot hold exactly are never
// answered — unknown fields, views and downloads, setters in a field,
// volatile globals of another target, params rTorrent would refuse —
// and rTorrent's own fault stays rTorrent's.
func TestAnswerNeverGuesses(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		f, hashes := libraryPoller(t, &poller.Options{Interval: 50 * time.Millisecond, FullSweep: -1})
		b := f.backend
		unknown := strings.Repeat("AB", 20)
		tests := []call{
			{name: "unknown field", method: "d.multicall2", params: sv("", "main", "d.hash=", "d.no_such_thing=")},
			{name: "unknown view", method: "d.multicall2", params: sv("", "nosuchview", "d.hash=")},
			{name: "no target", method: "d.multicall2", params: sv("main", "d.hash=")},
			{name: "setter in a field", method: "d.multicall2", params: sv("", "main", "d.hash=", "d.custom1.set=x")},
			{name: "unknown download", method: "d.name", params: sv(unknown)},
			{name: "lower-case hash", method: "d.name", params: sv(strings.ToLower(hashes["stopped"]))},
			{name: "getter with two args", method: "d.custom", params: sv(hashes["stopped"], "a", "b")},
			{name: "global with a target", method: "directory.default", params: sv("x")},
			{name: "unknown global", method: "no.such.global", params: sv("")},
			{name: "multicall with an unanswerable entry", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray(
				entry("d.name", sv(hashes["stopped"])...), entry("d.name", sv(unknown)...))}},
			{name: "nested multicall", method: "system.multicall", params: []xmlrpc.Value{xmlrpc.NewArray(entry("system.multicall", xmlrpc.NewArray()))}},
		}
		for _, c := range tests {
			t.Run(c.name, func(t *testing.T) {
				for range 4 { // several ticks: learning must not make it answerable
					if v, _, ok := f.p.Answer(c.method, c.params); ok {
						t.Fatalf("answered %v", v)
					}
					time.Sleep(60 * time.Millisecond)
				}
			})
		}
		// A stale state answers nothing.
		c := call{name: "d.name", method: "d.name", params: sv(hashes["stopped"])}
		answered(t, f.p, c)
		b.rt.Stop()
		waitFor(t, "answers stop once polls fail", func() bool {
			_, _, ok := f.p.Answer(c.method, c.params)
			return !ok
		})
	})
}

// TestAnswerReadYourWrites: after a write noted with NoteWrite, what it
// may have changed is not answered until a poll has read it again, then
// is answered with the new value; views wait for their lists.
func TestAnswerReadYourWrites(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		// No tick while the test runs: only NoteWrite's refresh reads,
		// and the gate holds it while the test looks.
		b := startBackend(t, nil)
		m := rtorrenttest.LoadMix(t, b.rt, b.c)
		hashes := map[string]string{"stopped": m.Stopped, "multi": m.Multi}
		g := &gate{c: b.c}
		f := startPollerOn(t, b, g, &poller.Options{Interval: time.Hour, FullSweep: -1, EventCheck: -1})
		h := hashes["stopped"]
		custom1 := call{name: "d.custom1", method: "d.custom1", params: sv(h)}
		list := call{name: "list", method: "d.multicall2", params: sv("", "main", "d.hash=", "d.custom1=")}
		setting := call{name: "max rate", method: "throttle.global_down.max_rate", params: sv("")}
		files := call{name: "files", method: "f.multicall", params: sv(hashes["multi"], "", "f.path=", "f.priority=")}
		for _, c := range []call{custom1, list, setting, files} {
			f.p.Answer(c.method, c.params)
		}
		f.p.RequestRefresh() // a sweep reads what was asked
		for _, c := range []call{custom1, list, setting, files} {
			answered(t, f.p, c)
		}

		for i, w := range []struct {
			method  string
			params  []string
			targets []string
			reads   []call
		}{
			{"d.custom1.set", []string{h, "new tag"}, []string{h}, []call{custom1, list}},
			{"throttle.global_down.max_rate.set", []string{"", "1048576"}, nil, []call{setting}},
			{"f.priority.set", []string{hashes["multi"] + ":f1", "2"}, []string{hashes["multi"]}, []call{files}},
		} {
			b.call(t, w.method, w.params...)
			g.hold()
			f.p.NoteWrite(w.method, w.targets)
			for _, c := range w.reads {
				// Not from the state read before the write.
				if v, _, ok := f.p.Answer(c.method, c.params); ok {
					t.Errorf("write %d: %s answered %v before a poll read it again", i, c.name, v)
				}
			}
			g.release()
			for _, c := range w.reads {
				got := answered(t, f.p, c)
				want, err := b.c.Call(t.Context(), c.method, c.params...)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(want) {
					t.Errorf("write %d: %s answered %v after the write, rTorrent has %v", i, c.name, got, want)
				}
			}
		}
	})
}

// gate is a Caller that, while held, makes calls wait for release.
type gate struct {
	c  poller.Caller
	mu sync.Mutex
	ch chan struct{} // closed on release; nil when not held
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ch = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.ch)
	g.ch = nil
}

func (g *gate) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return xmlrpc.Value{}, ctx.Err()
		}
	}
	return g.c.Call(ctx, method, params...)
}

// TestAnswerSeesLifecycleBehindItsBack: with the event hooks, an erase and
// a load made directly on rTorrent within one tick show in the next
// answer of a view, and on the events topic as rTorrent raised them.
func TestAnswerSeesLifecycleBehindItsBack(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		f, hashes := libraryPoller(t, &poller.Options{Interval: 200 * time.Millisecond, FullSweep: -1})
		b := f.backend
		list := call{name: "main", method: "d.multicall2", params: sv("", "main", "d.hash=")}
		answered(t, f.p, list)
		sub := newClient(t, f.hub)
		sub.subscribe("events", nil)
		sub.next(t) // the empty snapshot

		tr := rtorrenttest.MakeTorrentBytes(t, "z-new", 1000)
		b.call(t, "d.erase", hashes["stopped"])
		rtorrenttest.Load(t, b.c, tr, nil)
		waitFor(t, "the view answered without the erased download, with the new one", func() bool {
			v, _, ok := f.p.Answer(list.method, list.params)
			if !ok {
				return false
			}
			var hs []string
			for _, r := range v.Values() {
				hs = append(hs, r.Index(0).String())
			}
			return !slices.Contains(hs, hashes["stopped"]) && slices.Contains(hs, tr.Hash)
		})
		want, err := b.c.Call(t.Context(), list.method, list.params...)
		if err != nil {
			t.Fatal(err)
		}
		if got := answered(t, f.p, list); !got.Equal(want) {
			t.Errorf("answered %v, rTorrent lists %v", got, want)
		}
		sub.until(t, "both events", func() bool { return len(sub.eventsOf(hashes["stopped"])) > 0 && len(sub.eventsOf(tr.Hash)) > 0 })
		if got := sub.eventsOf(hashes["stopped"]); !slices.Equal(got, []string{"event.download.erased"}) {
			t.Errorf("events of the erased download %v", got)
		}
		if got := sub.eventsOf(tr.Hash); !slices.Equal(got, []string{"event.download.inserted"}) {
			t.Errorf("events of the new download %v", got)
		}
	})
}

// TestEventHooksInstalledAndRemoved: the poller's hooks sort after
// rTorrent's own handlers on every event, and Run removes them, and the
// commands they use, when it returns.
func TestEventHooksInstalledAndRemoved(t *testing.T) {
	t.Parallel()
	rtorrenttest.Each(t, func(t *testing.T) {
		t.Parallel()
		b := startBackend(t, nil)
		f := startPoller(t, b, &poller.Options{Interval: 50 * time.Millisecond})
		for _, ev := range []string{"inserted", "erased", "finished", "hash_failed"} {
			keys := b.call(t, "method.list_keys", "", "event.download."+ev)
			var ks []string
			for _, k := range keys.Values() {
				ks = append(ks, k.String())
			}
			if len(ks) == 0 || ks[len(ks)-1] != "~rtgate" {
				t.Errorf("event.download.%s keys %v: rtgate's must be there, last", ev, ks)
			}
		}
		f.stop()
		keys := b.call(t, "method.list_keys", "", "event.download.inserted")
		for _, k := range keys.Values() {
			if k.String() == "~rtgate" {
				t.Errorf("hook left after Run returned: %v", keys)
			}
		}
		if _, err := b.c.Call(t.Context(), "rtgate.gen"); err == nil {
			t.Error("rtgate.gen left after Run returned")
		}
	})
}
