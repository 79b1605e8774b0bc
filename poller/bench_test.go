package poller_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/xmlrpc"
)

// rtorrentReplyTime10k is what rTorrent 0.9.8 takes on this machine to
// produce Flood's poll of 10,000 downloads (BenchmarkRtorrentFloodPoll in
// ./rtorrent, docs/reference/rtorrent-rpc.md): the budget the diff is
// measured against when no real rTorrent is at hand.
const rtorrentReplyTime10k = 365 * time.Millisecond

// The fields of a sweep as 0.9.8 answers them, in the poller's column
// order (see schema.go), with the methods 0.9.8 lists.
var benchColumns = []struct {
	method string
	kind   byte // i int, s string, t tracker summary
}{
	{"d.name", 's'}, {"d.message", 's'}, {"d.state", 'i'}, {"d.is_active", 'i'}, {"d.is_open", 'i'},
	{"d.complete", 'i'}, {"d.hashing", 'i'}, {"d.is_private", 'i'}, {"d.is_multi_file", 'i'},
	{"d.connection_seed", 's'}, {"d.priority", 'i'}, {"d.up.rate", 'i'}, {"d.up.total", 'i'},
	{"d.down.rate", 'i'}, {"d.down.total", 'i'}, {"d.ratio", 'i'}, {"d.bytes_done", 'i'},
	{"d.size_bytes", 'i'}, {"d.left_bytes", 'i'}, {"d.directory", 's'}, {"d.base_path", 's'},
	{"d.custom", 's'}, {"d.creation_date", 'i'}, {"d.timestamp.started", 'i'},
	{"d.timestamp.finished", 'i'}, {"d.custom1", 's'}, {"d.custom2", 's'}, {"t.multicall", 't'},
	{"d.peers_complete", 'i'}, {"d.peers_accounted", 'i'}, {"d.peers_connected", 'i'},
}

// synthetic is an in-memory backend of n downloads answering the
// poller's calls the way rTorrent does, for benchmarks of the poller's
// own work (a load generator, not a test double).
type synthetic struct {
	rows []xmlrpc.Value // the sweep's rows, replaced (never modified) on change
}

func newSynthetic(n int) *synthetic {
	s := &synthetic{rows: make([]xmlrpc.Value, n)}
	for i := range n {
		s.rows[i] = s.row(i, 0)
	}
	return s
}

// row returns download i's row at version v: transfer fields move with v.
func (s *synthetic) row(i, v int) xmlrpc.Value {
	vals := []xmlrpc.Value{xmlrpc.NewString(fmt.Sprintf("%040X", i))}
	for j, c := range benchColumns {
		switch {
		case c.kind == 't':
			vals = append(vals, xmlrpc.NewString("1|12|3|http://tracker.example.org:6969/announce|||"))
		case c.kind == 's' && c.method == "d.name":
			vals = append(vals, xmlrpc.NewString(fmt.Sprintf("Some.Linux.Distribution.%06d.x86_64.iso", i)))
		case c.kind == 's' && (c.method == "d.directory" || c.method == "d.base_path"):
			vals = append(vals, xmlrpc.NewString("/srv/torrents/downloads/complete"))
		case c.kind == 's':
			vals = append(vals, xmlrpc.NewString(""))
		case c.method == "d.up.total" || c.method == "d.down.rate":
			vals = append(vals, xmlrpc.NewInt(int64(1000*i+v)))
		default:
			vals = append(vals, xmlrpc.NewInt(int64(i*j%7)))
		}
	}
	return xmlrpc.NewArray(vals...)
}

func (s *synthetic) methods() xmlrpc.Value {
	ms := []string{"system.multicall", "d.multicall2", "d.hash", "view.size", "view.list", "system.pid", "cat",
		"throttle.global_down.rate", "throttle.global_down.total", "throttle.global_up.rate",
		"throttle.global_up.total", "throttle.global_down.max_rate", "throttle.global_up.max_rate"}
	for _, c := range benchColumns {
		ms = append(ms, c.method)
	}
	vs := make([]xmlrpc.Value, len(ms))
	for i, m := range ms {
		vs[i] = xmlrpc.NewString(m)
	}
	return xmlrpc.NewArray(vs...)
}

func (s *synthetic) Call(_ context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	if method != "system.multicall" {
		return xmlrpc.Value{}, fmt.Errorf("synthetic: %s", method)
	}
	var out []xmlrpc.Value
	for _, e := range params[0].Values() {
		m, _ := e.Member("methodName")
		ps, _ := e.Member("params")
		var v xmlrpc.Value
		switch m.String() {
		case "system.client_version":
			v = xmlrpc.NewString("0.9.8")
		case "system.listMethods":
			v = s.methods()
		case "system.pid":
			v = xmlrpc.NewInt(1)
		case "view.list":
			v = xmlrpc.NewArray(xmlrpc.NewString("main"), xmlrpc.NewString("started"), xmlrpc.NewString("hashing"))
		case "view.size":
			v = xmlrpc.NewInt(int64(len(s.rows)))
		case "d.multicall2":
			if ps.Index(1).String() == "main" && ps.Len() == 2+1+len(benchColumns) {
				v = xmlrpc.NewArray(s.rows...) // shared: rows are replaced, never modified
			} else {
				v = xmlrpc.NewArray()
			}
		default: // throttle.*
			v = xmlrpc.NewInt(0)
		}
		out = append(out, xmlrpc.NewArray(v))
	}
	return xmlrpc.NewArray(out...), nil
}

// BenchmarkDiff10k times the poller's work on a full sweep of 10,000
// downloads of which 1% changed (two fields each) since the last: merging
// the decoded rows into the state, the delta, and encoding the change for
// a subscribed torrents topic. Its baselines, from the same run: decoding
// the same sweep's XML with the xmlrpc package, and rTorrent's own 365 ms
// to produce Flood's 10k poll.
func BenchmarkDiff10k(b *testing.B) {
	const n, changed = 10_000, 100
	s := newSynthetic(n)
	p := poller.New(s, &poller.Options{FullSweep: -1})
	ctx := context.Background()
	if err := p.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	hub := topics.NewHub(p.Factory(), nil)
	defer hub.Close()
	sub := hub.NewSubscriber()
	defer sub.Close()
	if err := sub.Subscribe("torrents", nil); err != nil {
		b.Fatal(err)
	}
	var published atomic.Int64
	drained := make(chan struct{})
	go func() { // a reader, as the gateway's writer would be
		defer close(drained)
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			published.Add(int64(len(m.Data)))
		}
	}()
	defer func() { sub.Close(); <-drained }()

	// Baseline: decoding the sweep's reply.
	reply, err := xmlrpc.Encoder{}.AppendResponse(nil, xmlrpc.NewArray(s.rows...))
	if err != nil {
		b.Fatal(err)
	}
	dec := xmlrpc.NewDecoder(nil, nil)
	var decodes []time.Duration
	for range 5 {
		start := time.Now()
		dec.Reset(bytes.NewReader(reply))
		if _, err := dec.DecodeResponse(); err != nil {
			b.Fatal(err)
		}
		decodes = append(decodes, time.Since(start))
	}
	decode := median(decodes)

	v := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		v++
		for k := range changed {
			i := (v*changed + k*(n/changed)) % n
			s.rows[i] = s.row(i, v)
		}
		b.StartTimer()
		if err := p.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "diff-ms/sweep")
	b.ReportMetric(float64(decode.Microseconds())/1000, "decode-ms/sweep")
	b.ReportMetric(float64(per)/float64(decode), "diff/decode")
	b.ReportMetric(float64(per)/float64(rtorrentReplyTime10k), "diff/rtorrent")
	b.ReportMetric(float64(len(reply)), "reply-bytes")
}

// BenchmarkSnapshot10k times encoding the torrents topic's snapshot of
// 10,000 downloads, made when a subscriber's Next reaches it.
func BenchmarkSnapshot10k(b *testing.B) {
	s := newSynthetic(10_000)
	p := poller.New(s, nil)
	if err := p.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	pr, err := p.Factory()("torrents")
	if err != nil {
		b.Fatal(err)
	}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		data, err := pr.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// timedCaller calls rTorrent over SCGI and adds up rTorrent's time: from
// sending a request to reading the last byte of its reply, as
// BenchmarkRtorrentFloodPoll measures it (decoding is not counted).
type timedCaller struct {
	sc *scgi.Client
	rt atomic.Int64 // ns
}

func (c *timedCaller) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	body, err := xmlrpc.Encoder{}.AppendCall(nil, method, params)
	if err != nil {
		return xmlrpc.Value{}, err
	}
	start := time.Now()
	resp, err := c.sc.Do(ctx, "text/xml", body)
	if err != nil {
		return xmlrpc.Value{}, err
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.rt.Add(int64(time.Since(start)))
	if err != nil {
		return xmlrpc.Value{}, err
	}
	return xmlrpc.DecodeResponse(bytes.NewReader(reply))
}

// took returns rTorrent's time in calls made by f.
func (c *timedCaller) took(f func()) time.Duration {
	before := c.rt.Load()
	f()
	return time.Duration(c.rt.Load() - before)
}

// floodFields is Flood 4.11's torrent-list poll as it sends it to 0.9.8,
// from the byte-exact capture.
var floodFields = rtorrenttest.FloodFields()

// BenchmarkRtorrentTickWork measures what rtgate's polling costs a real
// rTorrent holding 10,000 downloads, 100 of them started, against Flood's
// 31-field poll of the same library, all in rTorrent time (request sent to
// last reply byte). Each iteration is one tick; a full sweep is timed too
// and spread over the ticks of a default FullSweep (30 s of 1 s ticks).
// Also reported: one download's refresh the poller's way (a system.multicall
// of per-download calls) and with d.multicall.filtered. At the end, the
// poller's state must equal a direct read. Run with `make bench-rtorrent`
// (its package list must include ./poller/).
func BenchmarkRtorrentTickWork(b *testing.B) {
	rtorrenttest.EachB(b, func(b *testing.B) {
		const n, started = 10_000, 100
		rt := rtorrenttest.Start(b, &rtorrenttest.Options{SizeLimit: 32 << 20, NoSession: true})
		c, err := rtorrent.New(rt.Addr(), nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var hashes []string
		for _, tr := range rtorrenttest.LoadMany(b, c, "bench", n) {
			hashes = append(hashes, tr.Hash)
		}
		calls := make([]rtorrent.MethodCall, started)
		for i := range calls {
			calls[i] = rtorrent.MethodCall{Method: "d.start", Params: []xmlrpc.Value{xmlrpc.NewString(hashes[i*(n/started)])}}
		}
		if _, err := c.SystemMulticall(ctx, calls); err != nil {
			b.Fatal(err)
		}
		for {
			rows, err := c.DMulticall(ctx, "started", "d.hash=", "d.hashing=")
			if err != nil {
				b.Fatal(err)
			}
			if len(rows) == started && !slices.ContainsFunc(rows, func(r []xmlrpc.Value) bool { return r[1].Int() != 0 }) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}

		sc, err := scgi.NewClient(rt.Addr(), nil)
		if err != nil {
			b.Fatal(err)
		}
		tc := &timedCaller{sc: sc}
		p := poller.New(tc, &poller.Options{FullSweep: -1})
		if err := p.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		flood := make([]xmlrpc.Value, 0, 2+len(floodFields))
		flood = append(flood, xmlrpc.NewString(""), xmlrpc.NewString("main"))
		for _, f := range floodFields {
			flood = append(flood, xmlrpc.NewString(f))
		}
		filtered := []xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewString("main"),
			xmlrpc.NewString("equal={d.hash=,cat=" + hashes[n/2] + "}")}
		for _, f := range sweepFields(b, c) {
			filtered = append(filtered, xmlrpc.NewString(f))
		}
		var floods, sweeps, refreshes, filters []time.Duration
		for range 5 {
			floods = append(floods, tc.took(func() {
				if _, err := tc.Call(ctx, "d.multicall2", flood...); err != nil {
					b.Fatal(err)
				}
			}))
			sweeps = append(sweeps, tc.took(func() {
				if err := p.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}))
			refreshes = append(refreshes, tc.took(func() {
				if err := p.Refresh(ctx, hashes[n/2]); err != nil {
					b.Fatal(err)
				}
			}))
			filters = append(filters, tc.took(func() {
				if _, err := tc.Call(ctx, "d.multicall.filtered", filtered...); err != nil {
					b.Fatal(err)
				}
			}))
		}

		var ticks []time.Duration
		b.ResetTimer()
		for b.Loop() {
			ticks = append(ticks, tc.took(func() {
				if err := p.Tick(ctx); err != nil {
					b.Fatal(err)
				}
			}))
		}
		b.StopTimer()

		tick, sweep, fl := median(ticks), median(sweeps), median(floods)
		perTick := tick + sweep/30 // a sweep every 30 s, a tick every second
		b.ReportMetric(ms(tick), "tick-ms")
		b.ReportMetric(ms(sweep), "sweep-ms")
		b.ReportMetric(ms(perTick), "rtgate-ms/tick")
		b.ReportMetric(ms(fl), "flood-ms/poll")
		b.ReportMetric(float64(fl)/float64(perTick), "flood/rtgate")
		b.ReportMetric(ms(median(refreshes)), "refresh1-ms")
		b.ReportMetric(ms(median(filters)), "filtered1-ms")

		// The poller's state is rTorrent's.
		got := p.Torrents()
		rows, err := c.DMulticall(ctx, "main", "d.hash=", "d.name=", "d.state=", "d.is_active=", "d.complete=", "d.bytes_done=", "d.left_bytes=")
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(rows) {
			b.Fatalf("poller has %d downloads, rTorrent %d", len(got), len(rows))
		}
		for _, r := range rows {
			g := got[r[0].String()]
			if g.Name != r[1].String() || g.State != (r[2].Int() != 0) || g.IsActive != (r[3].Int() != 0) ||
				g.IsComplete != (r[4].Int() != 0) || g.BytesDone != r[5].Int() || g.LeftBytes != r[6].Int() {
				b.Fatalf("poller has %+v, rTorrent %v", g, r)
			}
		}
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sweepFields returns the fields of a poller's sweep of c, as it sends
// them (read back from a recorded call).
func sweepFields(b *testing.B, c *rtorrent.Client) []string {
	var fields []string
	rec := fakeRecorder{c: c, on: func(method string, params []xmlrpc.Value) {
		for _, e := range params[0].Values() {
			m, _ := e.Member("methodName")
			ps, _ := e.Member("params")
			if m.String() == "d.multicall2" && ps.Index(1).String() == "main" && fields == nil {
				for _, p := range ps.Values()[2:] {
					fields = append(fields, p.String())
				}
			}
		}
	}}
	if err := poller.New(rec, nil).Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	if !strings.HasPrefix(fields[0], "d.hash=") {
		b.Fatalf("sweep fields %v", fields)
	}
	return fields
}

// fakeRecorder passes calls to c, showing each to on.
type fakeRecorder struct {
	c  *rtorrent.Client
	on func(method string, params []xmlrpc.Value)
}

func (r fakeRecorder) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	r.on(method, params)
	return r.c.Call(ctx, method, params...)
}
