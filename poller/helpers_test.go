package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/xmlrpc"
)

// backend is a real rTorrent for one test, with a client of its own.
type backend struct {
	rt *rtorrenttest.Instance
	c  *rtorrent.Client
}

func startBackend(t *testing.T, opts *rtorrenttest.Options) *backend {
	t.Helper()
	rt := rtorrenttest.Start(t, opts)
	c, err := rtorrent.New(rt.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &backend{rt: rt, c: c}
}

// call calls method with string params and fails the test on error.
func (b *backend) call(t *testing.T, method string, params ...string) xmlrpc.Value {
	t.Helper()
	ps := make([]xmlrpc.Value, len(params))
	for i, p := range params {
		ps[i] = xmlrpc.NewString(p)
	}
	v, err := b.c.Call(t.Context(), method, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// load loads tr (load.raw_start when start, else load.raw) and waits until
// rTorrent lists it.
func (b *backend) load(t *testing.T, tr rtorrenttest.Torrent, start bool) {
	t.Helper()
	rtorrenttest.Load(t, b.c, tr, &rtorrenttest.LoadOptions{Start: start})
}

// waitFor polls cond until it holds (rtorrenttest.WaitFor).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	rtorrenttest.WaitFor(t, what, cond)
}

// fixture is a running Poller on a backend, with a hub of its topics.
type fixture struct {
	*backend
	p       *poller.Poller
	hub     *topics.Hub
	stopRun func()
}

// startPoller runs a Poller of b until the test ends, and waits until it
// is connected.
func startPoller(t *testing.T, b *backend, opts *poller.Options) *fixture {
	t.Helper()
	return startPollerOn(t, b, b.c, opts)
}

// startPollerOn is startPoller polling through c (b's client, wrapped).
func startPollerOn(t *testing.T, b *backend, c poller.Caller, opts *poller.Options) *fixture {
	t.Helper()
	p := poller.New(c, opts)
	hub := topics.NewHub(p.Factory(), &topics.Options{Linger: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(func() {
		stop()
		hub.Close()
	})
	waitFor(t, "the poller connects", func() bool { return p.Health().State == poller.StateConnected })
	return &fixture{backend: b, p: p, hub: hub, stopRun: stop}
}

// stop ends the poller's Run and waits for it.
func (f *fixture) stop() { f.stopRun() }

// client is one subscriber that keeps, per topic, the state its messages
// build, as a gateway client would.
type client struct {
	t    *testing.T
	sub  *topics.Subscriber
	last map[string]topics.Message
	// tables holds, for the keyed topics, KEY → field → value as decoded
	// by encoding/json.
	tables map[string]map[string]map[string]any
	// objects holds, for transfer and backend, field → value.
	objects map[string]map[string]any
	events  []map[string]any
	states  []string // of the backend topic, one per message
}

func newClient(t *testing.T, hub *topics.Hub) *client {
	sub := hub.NewSubscriber()
	t.Cleanup(func() { sub.Close() })
	return &client{t: t, sub: sub, last: map[string]topics.Message{},
		tables: map[string]map[string]map[string]any{}, objects: map[string]map[string]any{}}
}

func (c *client) subscribe(topic string, from *topics.Position) {
	c.t.Helper()
	if err := c.sub.Subscribe(topic, from); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message, applied, failing t after 15 s.
func (c *client) next(t *testing.T) topics.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	m, err := c.sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	c.apply(t, m)
	return m
}

// tryNext is next that returns false after d without a message.
func (c *client) tryNext(t *testing.T, d time.Duration) (topics.Message, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	m, err := c.sub.Next(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return m, false
	}
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	c.apply(t, m)
	return m, true
}

// until reads messages until cond holds, failing t after 15 s.
func (c *client) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		c.tryNext(t, time.Until(deadline))
	}
}

// apply checks that m follows the last message of its topic without a gap
// or a repeat, and applies it to the client's state.
func (c *client) apply(t *testing.T, m topics.Message) {
	t.Helper()
	prev, seen := c.last[m.Topic]
	switch m.Kind {
	case topics.Change:
		if seen && m.Epoch == prev.Epoch && m.Seq != prev.Seq+1 {
			t.Fatalf("%s: change %d after %d", m.Topic, m.Seq, prev.Seq)
		}
		if seen && m.Epoch != prev.Epoch {
			t.Fatalf("%s: change of epoch %s after %s without a snapshot", m.Topic, m.Epoch, prev.Epoch)
		}
	case topics.Ended:
		t.Fatalf("%s ended: %v", m.Topic, m.Err)
	}
	c.last[m.Topic] = m
	if m.Kind != topics.Snapshot && m.Kind != topics.Change {
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(m.Data, &doc); err != nil {
		t.Fatalf("%s: %v in %s", m.Topic, err, m.Data)
	}
	switch {
	case m.Topic == "events":
		if m.Kind == topics.Change {
			c.events = append(c.events, doc)
		}
	case m.Topic == "backend":
		c.objects[m.Topic] = doc
		c.states = append(c.states, doc["state"].(string))
	case m.Topic == "transfer":
		if m.Kind == topics.Snapshot {
			c.objects[m.Topic] = doc
			return
		}
		maps.Copy(c.objects[m.Topic], doc)
	default: // torrents, torrent.<HASH>, and the detail topics
		if m.Kind == topics.Snapshot {
			if len(doc) != 1 {
				t.Fatalf("%s: snapshot %s", m.Topic, m.Data)
			}
			tab := map[string]map[string]any{}
			for _, v := range doc {
				for k, o := range v.(map[string]any) {
					tab[k] = o.(map[string]any)
				}
			}
			c.tables[m.Topic] = tab
			return
		}
		tab := c.tables[m.Topic]
		for k, o := range asMap(doc["added"]) {
			if _, dup := tab[k]; dup {
				t.Fatalf("%s: %s added twice", m.Topic, k)
			}
			tab[k] = o.(map[string]any)
		}
		for k, o := range asMap(doc["changed"]) {
			if tab[k] == nil {
				t.Fatalf("%s: change of unknown %s", m.Topic, k)
			}
			maps.Copy(tab[k], o.(map[string]any))
		}
		if doc["removed"] != nil {
			for _, k := range doc["removed"].([]any) {
				if tab[k.(string)] == nil {
					t.Fatalf("%s: removal of unknown %s", m.Topic, k)
				}
				delete(tab, k.(string))
			}
		}
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// eventsOf returns the names of the events the client got for hash, in
// order.
func (c *client) eventsOf(hash string) []string {
	var out []string
	for _, e := range c.events {
		if e["target"] == hash {
			out = append(out, e["event"].(string))
		}
	}
	return out
}

// directFields is how this test reads a download straight from rTorrent,
// independently of the poller: the JSON name, the d.multicall2 field and
// the conversion to what encoding/json decodes the poller's JSON to.
// Tracker fields are read the way Flood reads them.
var directFields = []struct {
	name, cmd string
	conv      func(xmlrpc.Value) any
}{
	{"hash", "d.hash=", asString},
	{"name", "d.name=", asString},
	{"message", "d.message=", asString},
	{"state", "d.state=", asBool},
	{"isActive", "d.is_active=", asBool},
	{"isOpen", "d.is_open=", asBool},
	{"isComplete", "d.complete=", asBool},
	{"hashing", "d.hashing=", asNumber},
	{"isPrivate", "d.is_private=", asBool},
	{"isMultiFile", "d.is_multi_file=", asBool},
	{"connectionSeed", "d.connection_seed=", asString},
	{"priority", "d.priority=", asNumber},
	{"upRate", "d.up.rate=", asNumber},
	{"upTotal", "d.up.total=", asNumber},
	{"downRate", "d.down.rate=", asNumber},
	{"downTotal", "d.down.total=", asNumber},
	{"ratio", "d.ratio=", func(v xmlrpc.Value) any { return float64(v.Int()) / 1000 }},
	{"bytesDone", "d.bytes_done=", asNumber},
	{"sizeBytes", "d.size_bytes=", asNumber},
	{"leftBytes", "d.left_bytes=", asNumber},
	{"directory", "d.directory=", asString},
	{"basePath", "d.base_path=", asString},
	{"dateAdded", "d.custom=addtime", func(v xmlrpc.Value) any {
		n, _ := strconv.ParseInt(v.String(), 10, 64)
		return float64(n)
	}},
	{"dateCreated", "d.creation_date=", asNumber},
	{"dateStarted", "d.timestamp.started=", asNumber},
	{"dateFinished", "d.timestamp.finished=", asNumber},
	{"custom1", "d.custom1=", asString},
	{"custom2", "d.custom2=", asString},
	{"trackerURIs", `cat="$t.multicall=d.hash=,t.is_enabled=,t.url=,cat={|||}"`, func(v xmlrpc.Value) any {
		urls := []any{}
		for _, tr := range strings.Split(v.String(), "|||") {
			if tr != "" && tr[0] != '0' {
				urls = append(urls, tr[1:])
			}
		}
		return urls
	}},
	{"seedsTotal", `cat="$t.multicall=d.hash=,t.scrape_complete=,cat={|||}"`, firstScrape},
	{"peersTotal", `cat="$t.multicall=d.hash=,t.scrape_incomplete=,cat={|||}"`, firstScrape},
	{"seedsConnected", "d.peers_complete=", asNumber},
	{"peersConnected", "d.peers_accounted=", asNumber},
	{"connections", "d.peers_connected=", asNumber},
}

func asString(v xmlrpc.Value) any { return v.String() }
func asBool(v xmlrpc.Value) any   { return v.Int() != 0 }
func asNumber(v xmlrpc.Value) any { return float64(v.Int()) }
func firstScrape(v xmlrpc.Value) any {
	s, _, _ := strings.Cut(v.String(), "|||")
	n, _ := strconv.ParseInt(s, 10, 64)
	return float64(n)
}

// direct reads every download straight from rTorrent with one full
// d.multicall2, in the JSON form of the torrents topic.
func (b *backend) direct(t *testing.T) map[string]map[string]any {
	t.Helper()
	cmds := make([]string, len(directFields))
	for i, f := range directFields {
		cmds[i] = f.cmd
	}
	rows, err := b.c.DMulticall(t.Context(), "main", cmds...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, r := range rows {
		o := map[string]any{}
		for i, f := range directFields {
			o[f.name] = f.conv(r[i])
		}
		out[r[0].String()] = o
	}
	return out
}

// sameState reports how got (a client's torrents table) differs from want
// (a direct read), or "" if it does not.
func sameState(got, want map[string]map[string]any) string {
	var diffs []string
	for h, w := range want {
		g, ok := got[h]
		if !ok {
			diffs = append(diffs, "missing "+h)
			continue
		}
		for k, wv := range w {
			if gv, ok := g[k]; !ok || !reflect.DeepEqual(gv, wv) {
				diffs = append(diffs, fmt.Sprintf("%s %s = %v, want %v", h[:8], k, gv, wv))
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s has unexpected field %s", h[:8], k))
			}
		}
	}
	for h := range got {
		if _, ok := want[h]; !ok {
			diffs = append(diffs, "extra "+h)
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

// converge reads messages until the client's table of topic equals a direct
// read (which changes while a download is being checked, so both are
// retried), failing with the difference after 15 s.
func (c *client) converge(t *testing.T, b *backend, topic string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d := sameState(c.tables[topic], b.direct(t))
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never matched a direct read: %s", topic, d)
		}
		c.tryNext(t, 50*time.Millisecond)
	}
}

// reconnect returns a client with c's state on a new subscriber of hub,
// resubscribed to each of c's topics from the last position c saw, as a
// gateway client does after a dropped connection.
func (c *client) reconnect(t *testing.T, hub *topics.Hub) *client {
	t.Helper()
	n := newClient(t, hub)
	n.last, n.tables, n.objects, n.events, n.states = c.last, c.tables, c.objects, c.events, c.states
	for _, topic := range slices.Sorted(maps.Keys(c.last)) {
		pos := c.last[topic].Position()
		n.subscribe(topic, &pos)
	}
	return n
}
