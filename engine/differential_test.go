package engine_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// These tests put the same torrents in a real rTorrent 0.9.8 and in the
// engine, make the same calls to both and compare the answers: what a
// poller or Flood sees must not tell the two apart.

// pair is a real rTorrent and an engine side by side.
type pair struct {
	rt     *rtorrent.Client
	rti    *rtorrenttest.Instance
	en     *env
	rtDir  string // rTorrent's directory.default
	engDir string // the engine's
}

func newPair(t *testing.T) *pair {
	t.Helper()
	rti := rtorrenttest.Start(t, nil)
	c, err := rtorrent.New(rti.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	en := newEnv(t)
	return &pair{rt: c, rti: rti, en: en, rtDir: rti.DownloadDir, engDir: en.dataDir}
}

// each runs f on rTorrent, then on the engine, with their data directory.
func (p *pair) each(f func(name string, c caller, dir string)) {
	f("rtorrent", p.rt, p.rtDir)
	f("engine", p.en, p.engDir)
}

// makeBoth writes the same torrent's content into both data directories.
func (p *pair) makeBoth(t *testing.T, name string, size int64, opts *rtorrenttest.TorrentOptions) rtorrenttest.Torrent {
	t.Helper()
	tr := rtorrenttest.MakeTorrent(t, p.rtDir, name, size, opts)
	if tr2 := rtorrenttest.MakeTorrent(t, p.engDir, name, size, opts); tr2.Hash != tr.Hash {
		t.Fatalf("content differs: %s, %s", tr.Hash, tr2.Hash)
	}
	return tr
}

// normalize replaces each side's data directory by a placeholder, so that
// paths compare.
func normalize(v xmlrpc.Value, dir string) xmlrpc.Value {
	switch v.Kind() {
	case xmlrpc.String:
		return xmlrpc.NewString(strings.ReplaceAll(v.String(), dir, "<dir>"))
	case xmlrpc.Array:
		vs := make([]xmlrpc.Value, v.Len())
		for i, x := range v.Values() {
			vs[i] = normalize(x, dir)
		}
		return xmlrpc.NewArray(vs...)
	}
	return v
}

// compareRows fails the test where got differs from want in shape or
// kind, or in value unless the field is in volatile. what names the
// comparison, as "flood poll: rtorrent vs engine".
func compareRows(t *testing.T, what string, fields []string, want, got [][]xmlrpc.Value, volatile map[string]bool) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: want %d rows, got %d\nwant: %v\ngot:  %v", what, len(want), len(got), want, got)
	}
	for i := range want {
		if len(want[i]) != len(got[i]) {
			t.Fatalf("%s row %d: want %d values, got %d", what, i, len(want[i]), len(got[i]))
		}
		for j := range want[i] {
			w, g := want[i][j], got[i][j]
			if w.Kind() != g.Kind() {
				t.Errorf("%s row %d field %s: want %v (%v), got %v (%v)", what, i, fields[j], w.Kind(), w, g.Kind(), g)
				continue
			}
			if !volatile[fields[j]] && !w.Equal(g) {
				t.Errorf("%s row %d field %s: want %v, got %v", what, i, fields[j], w, g)
			}
		}
	}
}

// pollBoth runs the same d.multicall2 on both and normalizes paths.
func (p *pair) pollBoth(t *testing.T, view string, fields ...string) (rt, en [][]xmlrpc.Value) {
	t.Helper()
	norm := func(rs [][]xmlrpc.Value, dir string) [][]xmlrpc.Value {
		for _, r := range rs {
			for i := range r {
				r[i] = normalize(r[i], dir)
			}
		}
		return rs
	}
	return norm(rows(t, p.rt, view, fields...), p.rtDir), norm(rows(t, p.en, view, fields...), p.engDir)
}

// TestFloodPollMatchesRtorrent loads a started complete torrent, a stopped
// one without data, a multi-file one and one with trackers into both, and
// compares Flood's 31-field poll over main: same rows, same types, same
// values for everything that does not depend on timing.
func TestFloodPollMatchesRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		p := newPair(t)
		seeded := p.makeBoth(t, "seeded.bin", 300_000, nil)
		multi := p.makeBoth(t, "multi", 200_000, &rtorrenttest.TorrentOptions{Files: 3, PieceLength: 32 << 10})
		empty := rtorrenttest.MakeTorrentBytes(t, "empty.bin", 100_000)
		tracked := rtorrenttest.MakeTorrentBytes(t, "tracked.bin", 50_000)
		tracked = rtorrenttest.MakeTorrent(t, t.TempDir(), "tracked.bin", 50_000, &rtorrenttest.TorrentOptions{
			Announce: "http://127.0.0.1:1/announce", // nothing listens: an announce fails at once
		})
		p.each(func(name string, c caller, dir string) {
			load(t, c, "load.raw_start", seeded, "d.custom.set=addtime,1700000000", `d.custom1.set="tag%20a,b"`)
			load(t, c, "load.raw", empty, "d.priority.set=3", "d.custom2.set=VRS24mrkerhello")
			load(t, c, "load.raw_start", multi)
			load(t, c, "load.raw", tracked)
			for _, h := range []string{seeded.Hash, multi.Hash} {
				waitRow(t, c, h, 20*time.Second, func(r []xmlrpc.Value) bool {
					return r[0].Int() == 1 && r[1].Int() == 0 && r[2].Int() == 1
				}, "d.complete=", "d.hashing=", "d.is_active=")
			}
		})

		rt, en := p.pollBoth(t, "main", floodFields...)
		volatile := map[string]bool{
			"d.timestamp.finished=": true, // when each finished checking
		}
		compareRows(t, "flood poll (want rTorrent, got engine)", floodFields, rt, en, volatile)
		for i, r := range rt {
			if fin := r[24].Int(); (fin != 0) != (en[i][24].Int() != 0) {
				t.Errorf("row %d: d.timestamp.finished rTorrent %d, engine %d: one says finished, the other not", i, fin, en[i][24].Int())
			}
		}
	})
}

// TestCommandStringsMatchRtorrent runs command-string forms as d.multicall2
// fields on both: quoting, escapes, lists, "$" substitution, nesting and
// the parse errors, answer for answer.
func TestCommandStringsMatchRtorrent(t *testing.T) {
	// The engine answers as 0.9.8 (doc.go); 0.16.17's faults and defaults differ.
	rtorrenttest.Only(t, rtorrenttest.V098, func(t *testing.T) {
		p := newPair(t)
		tr := p.makeBoth(t, "cmds.bin", 50_000, &rtorrenttest.TorrentOptions{Announce: "http://127.0.0.1:1/a"})
		p.each(func(_ string, c caller, _ string) { load(t, c, "load.raw", tr, "d.custom.set=k,v") })

		forms := []string{
			"false=", "false=x", "value=5", "value=", "cat=", "cat=a,b,$d.name=", "cat={a,b}", "cat={|||}",
			`cat="x y"`, "d.state= 1", " d.hash=", "d.hash= ", "cat = x", "cat=$d.state=", "cat=$d.name=,$d.state=",
			`cat="$d.name="`, `cat=" a "`, "cat= a , b ", "cat={a,{b,c}}", "cat={a b}", "cat={ a , b }", "cat={a,,b}",
			"cat=a,,b", "cat=,", "cat={,}", "cat=a}", "cat=#x", "#cat=x", "cat=a;b", "cat=a;;b", "d.hash=;d.name=",
			"cat=a\nb", "cat=$", "cat=$cat=x,y", "cat=$value=5", `cat=a\,b`, `cat="a,b"`, `cat=\"`, `cat="x\"y"`,
			`cat=a\\b`, "cat={}", "cat={{a}}", `cat="{a,b}"`, "cat=x,$value=3", "cat={$d.state=}", `cat="$d.name=" ,x`,
			"value=$value=5", "cat=a=b", "cat=$cat=a=b", "cat==", "d.name==x", "d.custom=k", "d.custom=", "d.custom=nokey",
			"cat=$t.multicall=d.hash=,t.url=,cat={|||}", `cat="$t.multicall=d.hash=,t.url=,cat={|||}"`,
			`cat="$t.multicall=d.hash=,t.is_enabled=,t.url=,cat={|||}"`, `cat="$f.multicall=d.hash=,f.path=,cat={;}"`,
			`cat="$f.multicall=d.hash=,f.size_bytes=,f.size_chunks=,cat=;"`,
			`cat="$t.multicall=d.hash=,t.is_enabled=,cat=|,t.scrape_complete=,cat=|,t.scrape_incomplete=,cat=|,t.url=,cat={|||}"`,
			"not=$d.state=", "cat=$not=$d.state=", "or={d.state=,d.is_open=}", "and={d.is_open=,d.state=}",
			"or={d.name=}", "not=$d.name=", "and={d.name=}", "not=$d.custom1=", "or={{d.state=,d.is_open=}}",
			"or=1", "or=0", "not=0", "not=", "and=", "or=", "equal={d.name=,d.name=}", "equal={d.name=}",
			"equal=$d.name=,$d.name=", "not={d.state=}", "and=d.state=",
			"equal={d.custom=k,cat=v}", "equal={d.state=,value=0}", "less={d.size_bytes=,value=100000}",
			"greater={d.size_bytes=,value=100000}", `match={d.name=,"cmds.*"}`, `match={d.name=,"md"}`,
			"d.size_bytes=", "cat=$d.size_bytes=", "d.name=$d.hash=",
			// Parse errors and unknown commands.
			"bogus=", "d.hash", `cat="x"y`, "cat=a b", "cat={a}b", "cat={a", `cat="a`, `cat=a\`, "cat=$d.name",
			"cat=$or={d.state=,d.is_open=}", "d.custom=addtime,extra", "equal={d.state=,cat=0}", "cat=$bogus=",
		}
		for _, f := range forms {
			var answers [2]string
			i := 0
			p.each(func(_ string, c caller, _ string) {
				v, err := c.Call(ctxT(t), "d.multicall2", params(t, "", "main", f)...)
				var fl *xmlrpc.Fault
				switch {
				case errors.As(err, &fl):
					answers[i] = fmt.Sprintf("fault %d %q", fl.Code, fl.Message)
				case err != nil:
					t.Fatalf("%q: %v", f, err)
				default:
					answers[i] = fmt.Sprintf("%v %v", v.Index(0).Index(0).Kind(), v.Index(0).Index(0))
				}
				i++
			})
			if answers[0] != answers[1] {
				t.Errorf("field %q: rTorrent %s, engine %s", f, answers[0], answers[1])
			}
		}
	})
}

// TestFaultsMatchRtorrent compares the faults of bad calls: unknown
// methods, unknown commands inside fields, bad targets, missing arguments.
func TestFaultsMatchRtorrent(t *testing.T) {
	// The engine answers as 0.9.8 (doc.go); 0.16.17's faults and defaults differ.
	rtorrenttest.Only(t, rtorrenttest.V098, func(t *testing.T) {
		p := newPair(t)
		tr := p.makeBoth(t, "faults.bin", 50_000, &rtorrenttest.TorrentOptions{Files: 2})
		p.each(func(_ string, c caller, _ string) { load(t, c, "load.raw", tr) })
		h := tr.Hash
		unknown := strings.Repeat("0", 40)
		calls := []struct {
			name   string
			method string
			args   []any
		}{
			{"unknown method", "no.such.method", []any{""}},
			{"unknown method no params", "d.nonexistent", nil},
			{"unknown command in a field", "d.multicall2", []any{"", "main", "d.hash=", "bogus.cmd="}},
			{"unknown command nested", "d.multicall2", []any{"", "main", `cat="$f.multicall=,bogus="`}},
			{"missing =", "d.multicall2", []any{"", "main", "d.hash"}},
			{"unknown view", "d.multicall2", []any{"", "nosuchview", "d.hash="}},
			{"no view", "d.multicall2", []any{""}},
			{"no params", "d.multicall2", nil},
			{"bad target string", "d.multicall2", []any{"x", "main", "d.hash="}},
			{"unknown hash", "d.name", []any{unknown}},
			{"hash plus junk", "d.name", []any{h + "x"}},
			{"no target", "d.name", nil},
			{"empty target", "d.name", []any{""}},
			{"file target to d.*", "d.name", []any{h + ":f0"}},
			{"file index out of range", "f.path", []any{h + ":f9"}},
			{"tracker index out of range", "t.url", []any{h + ":t0"}},
			{"tracker index not a number", "t.url", []any{h + ":tx"}},
			{"peer id not hex", "p.address", []any{h + ":p00"}},
			{"global command with junk target", "system.pid", []any{"x"}},
			{"d.custom without key", "d.custom", []any{h}},
			{"d.custom.set without key", "d.custom.set", []any{h}},
			{"d.custom.set without value", "d.custom.set", []any{h, "k"}},
			{"d.custom.set number key", "d.custom.set", []any{h, 1, "v"}},
			{"d.custom2.set number", "d.custom2.set", []any{h, 5}},
			{"d.priority.set text", "d.priority.set", []any{h, "abc"}},
			{"f.priority.set 3", "f.priority.set", []any{h + ":f0", 3}},
			{"f.priority.set -1", "f.priority.set", []any{h + ":f0", -1}},
			{"f.multicall on a file", "f.multicall", []any{h + ":f0", "", "f.path="}},
			{"f.multicall without pattern", "f.multicall", []any{h}},
			{"t.multicall without target", "t.multicall", []any{"", "", "t.url="}},
			{"t.multicall without pattern", "t.multicall", []any{h}},
			{"p.multicall without pattern", "p.multicall", []any{h}},
			{"d.multicall.filtered too few", "d.multicall.filtered", []any{"", "main"}},
			{"view.size unknown view", "view.size", []any{"", "nosuch"}},
			{"view.size no view", "view.size", nil},
			{"value junk", "value", []any{"", "1k"}},
			{"value nothing", "value", nil},
			{"throttle rate text", "throttle.global_down.max_rate.set", []any{"", "abc"}},
			{"throttle rate missing", "throttle.global_down.max_rate.set", []any{""}},
			{"listMethods with params", "system.listMethods", []any{""}},
			{"multicall no params", "system.multicall", nil},
			{"erase unknown", "d.erase", []any{unknown}},
		}
		for _, c := range calls {
			var faults [2]*xmlrpc.Fault
			i := 0
			p.each(func(who string, cl caller, _ string) {
				faults[i] = callFault(t, cl, c.method, c.args...)
				i++
			})
			if *faults[0] != *faults[1] {
				t.Errorf("%s: rTorrent fault %d %q, engine %d %q", c.name, faults[0].Code, faults[0].Message, faults[1].Code, faults[1].Message)
			}
		}

		// A fault inside system.multicall stays in its entry's place.
		entries := xmlrpc.NewArray(
			mcEntry("d.name", xmlrpc.NewString(h)),
			mcEntry("nosuch"),
			mcEntry("d.name", xmlrpc.NewString("zz")),
			mcEntry("d.name", xmlrpc.NewString(unknown)),
		)
		var got [2]xmlrpc.Value
		i := 0
		p.each(func(_ string, c caller, _ string) {
			v, err := c.Call(ctxT(t), "system.multicall", entries)
			if err != nil {
				t.Fatal(err)
			}
			got[i] = v
			i++
		})
		if !got[0].Equal(got[1]) {
			t.Errorf("system.multicall with faults:\nrtorrent %v\nengine   %v", got[0], got[1])
		}
		for _, bad := range []struct {
			name string
			arg  xmlrpc.Value
		}{
			{"entry not a struct", xmlrpc.NewArray(xmlrpc.NewString("x"))},
			{"recursive", xmlrpc.NewArray(mcEntry("system.multicall", xmlrpc.NewArray()))},
			{"no methodName", xmlrpc.NewArray(xmlrpc.NewStruct(xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray()}))},
			{"no params", xmlrpc.NewArray(xmlrpc.NewStruct(xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString("system.pid")}))},
		} {
			var faults [2]*xmlrpc.Fault
			i := 0
			p.each(func(_ string, c caller, _ string) {
				_, err := c.Call(ctxT(t), "system.multicall", bad.arg)
				if !errors.As(err, &faults[i]) {
					t.Fatalf("system.multicall %s: %v", bad.name, err)
				}
				i++
			})
			if *faults[0] != *faults[1] {
				t.Errorf("system.multicall %s: rTorrent %d %q, engine %d %q", bad.name, faults[0].Code, faults[0].Message, faults[1].Code, faults[1].Message)
			}
		}
	})
}

func mcEntry(method string, ps ...xmlrpc.Value) xmlrpc.Value {
	return xmlrpc.NewStruct(
		xmlrpc.Member{Name: "methodName", Value: xmlrpc.NewString(method)},
		xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(ps...)},
	)
}

// TestStateMachineMatchesRtorrent runs the same sequences of d.start,
// d.stop, d.open, d.close, d.pause and d.resume on both and compares
// d.state, d.is_open and d.is_active after each step.
func TestStateMachineMatchesRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		p := newPair(t)
		seqs := [][]string{
			{"d.start", "d.stop", "d.close", "d.open", "d.pause", "d.resume", "d.start", "d.pause", "d.resume"},
			{"d.start", "d.close", "d.start", "d.open", "d.resume", "d.pause", "d.start"},
			{"d.open", "d.start", "d.stop", "d.start", "d.close", "d.resume", "d.stop", "d.pause", "d.start"},
			{"d.resume", "d.pause", "d.close", "d.stop", "d.start", "d.close", "d.close", "d.open"},
		}
		fields := []string{"d.state=", "d.is_open=", "d.is_active=", "d.hashing="}
		for n, seq := range seqs {
			tr := p.makeBoth(t, fmt.Sprintf("state%d.bin", n), 20_000, nil)
			p.each(func(_ string, c caller, _ string) { load(t, c, "load.raw", tr) })
			for step, m := range seq {
				var got [2][]xmlrpc.Value
				i := 0
				p.each(func(_ string, c caller, _ string) {
					call(t, c, m, tr.Hash)
					settled(t, c, tr.Hash)
					got[i] = row(t, c, tr.Hash, fields...)
					i++
				})
				if !xmlrpc.NewArray(got[0]...).Equal(xmlrpc.NewArray(got[1]...)) {
					t.Errorf("sequence %d step %d (%s of %v): rTorrent %v, engine %v (fields %v)", n, step, m, seq, got[0], got[1], fields)
				}
			}
		}
	})
}

// TestViewsMatchRtorrent compares every stock view's members.
func TestViewsMatchRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		p := newPair(t)
		seeding := p.makeBoth(t, "v-seeding.bin", 40_000, nil)
		leeching := rtorrenttest.MakeTorrentBytes(t, "v-leeching.bin", 40_000)
		stopped := p.makeBoth(t, "v-stopped.bin", 40_000, nil)
		paused := p.makeBoth(t, "v-paused.bin", 40_000, nil)
		p.each(func(_ string, c caller, _ string) {
			load(t, c, "load.raw_start", seeding)
			load(t, c, "load.raw_start", leeching)
			load(t, c, "load.raw", stopped)
			load(t, c, "load.raw_start", paused)
			for _, h := range []string{seeding.Hash, leeching.Hash, paused.Hash} {
				settled(t, c, h)
			}
			call(t, c, "d.pause", paused.Hash)
		})
		var views []string
		for _, v := range call(t, p.rt, "view.list", "").Values() {
			views = append(views, v.String())
		}
		if got := call(t, p.en, "view.list", ""); !got.Equal(call(t, p.rt, "view.list", "")) {
			t.Errorf("view.list: rTorrent %v, engine %v", views, got)
		}
		for _, v := range views {
			rt, en := p.pollBoth(t, v, "d.name=")
			if !slices.EqualFunc(rt, en, func(a, b []xmlrpc.Value) bool { return a[0].Equal(b[0]) }) {
				t.Errorf("view %s: rTorrent %v, engine %v", v, rt, en)
			}
			if got, want := call(t, p.en, "view.size", "", v), call(t, p.rt, "view.size", "", v); !got.Equal(want) {
				t.Errorf("view.size %s: rTorrent %v, engine %v", v, want, got)
			}
		}
	})
}

// TestDetailsMatchRtorrent compares f.multicall and t.multicall, the
// detail calls of Flood and the poller.
func TestDetailsMatchRtorrent(t *testing.T) {
	// The engine answers as 0.9.8 (doc.go); 0.16.17's faults and defaults differ.
	rtorrenttest.Only(t, rtorrenttest.V098, func(t *testing.T) {
		p := newPair(t)
		multi := p.makeBoth(t, "details", 150_000, &rtorrenttest.TorrentOptions{Files: 4, PieceLength: 16 << 10})
		tracked := p.makeBoth(t, "details-tracked.bin", 30_000, &rtorrenttest.TorrentOptions{Announce: "http://127.0.0.1:1/announce"})
		p.each(func(_ string, c caller, _ string) {
			load(t, c, "load.raw_start", multi)
			load(t, c, "load.raw", tracked)
			settled(t, c, multi.Hash)
			waitRow(t, c, multi.Hash, 10*time.Second, func(r []xmlrpc.Value) bool { return r[0].Int() == 1 }, "d.complete=")
		})
		fileFields := []string{"f.path=", "f.priority=", "f.size_bytes=", "f.size_chunks=", "f.completed_chunks=",
			"f.offset=", "f.path_components=", "f.path_depth=", "f.range_first=", "f.range_second=", "f.frozen_path="}
		for _, pattern := range []string{"", "*", "*1.bin", "f1.bin", "*.bin"} {
			var got [2][][]xmlrpc.Value
			i := 0
			p.each(func(_ string, c caller, dir string) {
				v := call(t, c, "f.multicall", append([]any{multi.Hash, pattern}, anys(fileFields)...)...)
				for _, r := range normalize(v, dir).Values() {
					got[i] = append(got[i], r.Values())
				}
				i++
			})
			compareRows(t, "f.multicall "+pattern+" (want rTorrent, got engine)", fileFields, got[0], got[1], nil)
		}

		trackerFields := []string{"t.url=", "t.type=", "t.is_enabled=", "t.group=", "t.scrape_complete=", "t.scrape_incomplete=", "t.scrape_downloaded=", "t.min_interval=", "t.normal_interval="}
		var got [2][][]xmlrpc.Value
		i := 0
		p.each(func(_ string, c caller, _ string) {
			v := call(t, c, "t.multicall", append([]any{tracked.Hash, ""}, anys(trackerFields)...)...)
			for _, r := range v.Values() {
				got[i] = append(got[i], r.Values())
			}
			i++
		})
		compareRows(t, "t.multicall (want rTorrent, got engine)", trackerFields, got[0], got[1], nil)

		// File priorities, then Flood's percentage.
		p.each(func(_ string, c caller, _ string) {
			call(t, c, "f.priority.set", multi.Hash+":f1", 0)
			call(t, c, "f.priority.set", multi.Hash+":f2", "2")
			call(t, c, "d.update_priorities", multi.Hash)
		})
		rt := call(t, p.rt, "f.multicall", multi.Hash, "", "f.priority=")
		en := call(t, p.en, "f.multicall", multi.Hash, "", "f.priority=")
		if !rt.Equal(en) {
			t.Errorf("f.priority after f.priority.set: rTorrent %v, engine %v", rt, en)
		}
	})
}

// TestSettingsMatchRtorrent reads every setting Flood reads, in one
// system.multicall as Flood does, and compares types and the defaults
// that do not depend on the machine.
func TestSettingsMatchRtorrent(t *testing.T) {
	// The engine answers as 0.9.8 (doc.go); 0.16.17's faults and defaults differ.
	rtorrenttest.Only(t, rtorrenttest.V098, func(t *testing.T) {
		p := newPair(t)
		settings := []string{"dht.statistics", "dht.port", "directory.default", "network.http.max_open",
			"network.local_address", "network.max_open_files", "network.port_open", "network.port_random",
			"network.port_range", "pieces.hash.on_completion", "pieces.memory.max", "protocol.pex",
			"throttle.global_down.max_rate", "throttle.global_up.max_rate", "throttle.max_downloads",
			"throttle.max_downloads.global", "throttle.max_peers.normal", "throttle.max_peers.seed",
			"throttle.max_uploads", "throttle.max_uploads.global", "throttle.min_peers.normal",
			"throttle.min_peers.seed", "trackers.numwant", "throttle.global_down.rate", "throttle.global_down.total",
			"throttle.global_up.rate", "throttle.global_up.total", "session.path", "system.client_version",
			"system.library_version", "system.api_version", "system.pid"}
		stable := map[string]bool{"network.http.max_open": true, "network.local_address": true, "network.max_open_files": true,
			"network.port_open": true, "pieces.hash.on_completion": true, "pieces.memory.max": true,
			"throttle.global_down.max_rate": true, "throttle.global_up.max_rate": true, "throttle.max_downloads": true,
			"throttle.max_downloads.global": true, "throttle.max_peers.normal": true, "throttle.max_peers.seed": true,
			"throttle.max_uploads": true, "throttle.max_uploads.global": true, "throttle.min_peers.normal": true,
			"throttle.min_peers.seed": true, "trackers.numwant": true, "system.client_version": true,
			"system.library_version": true, "system.api_version": true}
		var entries []xmlrpc.Value
		for _, s := range settings {
			entries = append(entries, mcEntry(s, xmlrpc.NewString("")))
		}
		rt := call(t, p.rt, "system.multicall", xmlrpc.NewArray(entries...)).Values()
		en := call(t, p.en, "system.multicall", xmlrpc.NewArray(entries...)).Values()
		for i, s := range settings {
			w, g := rt[i].Index(0), en[i].Index(0)
			if w.Kind() != g.Kind() {
				t.Errorf("%s: rTorrent %v %v, engine %v %v", s, w.Kind(), w, g.Kind(), g)
			} else if stable[s] && !w.Equal(g) {
				t.Errorf("%s: rTorrent %v, engine %v", s, w, g)
			}
		}

		// Setters answer as rTorrent's do.
		for _, set := range []struct {
			method string
			arg    any
		}{
			{"throttle.global_down.max_rate.set", "2048"}, {"throttle.global_up.max_rate.set", 1000},
			{"throttle.global_up.max_rate.set_kb", "5"}, {"throttle.global_down.max_rate.set", "5k"},
			{"throttle.max_peers.normal.set", "100"}, {"throttle.min_peers.seed.set", "-1"},
			{"protocol.pex.set", "0"}, {"trackers.numwant.set", 50}, {"network.http.max_open.set", "32"},
			{"pieces.memory.max.set", 1000000000}, {"dht.mode.set", "disable"}, {"directory.default.set", "/tmp"},
			{"network.port_open.set", "1"}, {"throttle.max_uploads.global.set", "0"},
		} {
			want := call(t, p.rt, set.method, "", set.arg)
			got := call(t, p.en, set.method, "", set.arg)
			if !want.Equal(got) {
				t.Errorf("%s(%v): rTorrent %v, engine %v", set.method, set.arg, want, got)
			}
			get := strings.TrimSuffix(strings.TrimSuffix(set.method, ".set"), ".set_kb")
			if get == "dht.mode" {
				continue
			}
			want, got = call(t, p.rt, get, ""), call(t, p.en, get, "")
			if !want.Equal(got) {
				t.Errorf("%s after %s(%v): rTorrent %v, engine %v", get, set.method, set.arg, want, got)
			}
		}
	})
}

// TestLoadCommandsMatchRtorrent loads with Flood's extra commands and the
// file-path form, and compares what the downloads became.
func TestLoadCommandsMatchRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		p := newPair(t)
		single := rtorrenttest.MakeTorrentBytes(t, "load-single.bin", 30_000)
		multi := rtorrenttest.MakeTorrent(t, t.TempDir(), "load-multi", 60_000, &rtorrenttest.TorrentOptions{Files: 2})
		torrentFile := filepath.Join(t.TempDir(), "load-multi.torrent")
		writeFile(t, torrentFile, multi.Bytes)
		other := t.TempDir()
		p.each(func(_ string, c caller, _ string) {
			load(t, c, "load.raw", single, "d.custom.set=addtime,1700000000", `d.directory.set="`+other+`"`,
				`d.custom1.set="tag%20a,b"`, `d.tied_to_file.set=""`, "d.priority.set=3", "d.custom2.set=VRS24mrkerhi", "bogus.cmd=1")
			call(t, c, "load.normal", "", torrentFile)
			waitRow(t, c, multi.Hash, 10*time.Second, func([]xmlrpc.Value) bool { return true })
			call(t, c, "load.raw", "", single.Bytes) // a duplicate: ignored
			call(t, c, "load.raw", "", []byte("not a torrent"))
			call(t, c, "load.normal", "", "/nonexistent.torrent")
		})
		fields := []string{"d.hash=", "d.name=", "d.directory=", "d.directory_base=", "d.base_path=", "d.custom=addtime",
			"d.custom1=", "d.custom2=", "d.priority=", "d.state=", "d.is_multi_file=", "d.tied_to_file=", "d.size_files=",
			"d.size_bytes=", "d.size_chunks=", "d.chunk_size=", "d.creation_date="}
		rt, en := p.pollBoth(t, "main", fields...)
		compareRows(t, "after load (want rTorrent, got engine)", fields, rt, en, nil)

		// d.directory.set and d.directory_base.set on a multi-file download.
		p.each(func(_ string, c caller, _ string) {
			call(t, c, "d.directory.set", multi.Hash, other)
		})
		rt, en = p.pollBoth(t, "main", fields[:5]...)
		compareRows(t, "after d.directory.set (want rTorrent, got engine)", fields[:5], rt, en, nil)
		p.each(func(_ string, c caller, _ string) {
			call(t, c, "d.directory_base.set", multi.Hash, other)
		})
		rt, en = p.pollBoth(t, "main", fields[:5]...)
		compareRows(t, "after d.directory_base.set (want rTorrent, got engine)", fields[:5], rt, en, nil)
	})
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestMagnetPlaceholderMatchesRtorrent: before its metadata arrives, a
// magnet download looks the same in both.
func TestMagnetPlaceholderMatchesRtorrent(t *testing.T) {
	// 0.16.17 keeps magnets' placeholders in magnet.path; the engine
	// answers as 0.9.8.
	rtorrenttest.Only(t, rtorrenttest.V098, func(t *testing.T) {
		p := newPair(t)
		h := rtorrenttest.MakeTorrentBytes(t, "placeholder.bin", 1000).Hash
		uri := "magnet:?xt=urn:btih:" + h + "&dn=hello&tr=http%3A%2F%2F127.0.0.1%3A1%2Fann"
		p.each(func(_ string, c caller, _ string) {
			call(t, c, "load.normal", "", uri)
			waitRow(t, c, h, 10*time.Second, func([]xmlrpc.Value) bool { return true })
		})
		fields := []string{"d.hash=", "d.name=", "d.size_bytes=", "d.size_chunks=", "d.chunk_size=", "d.state=", "d.is_open=",
			"d.complete=", "d.bytes_done=", "d.directory=", "d.base_path=", "d.is_multi_file=", "d.size_files=", "d.is_private=",
			"d.creation_date=", "d.tied_to_file=", `cat="$t.multicall=d.hash=,t.is_enabled=,t.url=,cat={|||}"`,
			`cat="$f.multicall=d.hash=,f.path=,f.size_bytes=,f.size_chunks=,cat={|||}"`}
		rt, en := p.pollBoth(t, "main", fields...)
		compareRows(t, "magnet (want rTorrent, got engine)", fields, rt, en, nil)
	})
}

// TestFilteredMatchesRtorrent runs d.multicall.filtered with the filters
// rtgate's poller uses (one hash, several hashes, a regular expression)
// and others.
func TestFilteredMatchesRtorrent(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		p := newPair(t)
		var hashes []string
		for i := range 4 {
			tr := p.makeBoth(t, fmt.Sprintf("filtered-%d.bin", i), 20_000+int64(i)*10_000, nil)
			hashes = append(hashes, tr.Hash)
			method := "load.raw"
			if i%2 == 1 {
				method = "load.raw_start"
			}
			p.each(func(_ string, c caller, _ string) { load(t, c, method, tr) })
		}
		for _, h := range hashes {
			p.each(func(_ string, c caller, _ string) { settled(t, c, h) })
		}
		filters := []string{
			"equal={d.hash=,cat=" + hashes[2] + "}",
			"or={equal={d.hash=,cat=" + hashes[0] + "},equal={d.hash=,cat=" + hashes[3] + "}}",
			`match={d.hash=,"^(` + hashes[1] + "|" + hashes[2] + `)$"}`,
			`match={d.name=,"filtered-[02].*"}`,
			"d.state=", "not=$d.state=", "d.name=", "bogus=", "true=", "and={d.state=,d.complete=}",
			"less={d.size_bytes=,value=35000}", "greater={d.size_bytes=,value=35000}", "d.custom1=",
			`or={"equal={d.hash=,cat=` + hashes[0] + `}","equal={d.hash=,cat=` + hashes[3] + `}"}`,
			"or={d.state=,d.is_open=}", "and={d.state=,value=1}", "or={d.state=,1}", "or=d.state=",
		}
		for _, f := range filters {
			for _, view := range []string{"main", "started", "stopped"} {
				want := call(t, p.rt, "d.multicall.filtered", "", view, f, "d.name=", "d.state=")
				got := call(t, p.en, "d.multicall.filtered", "", view, f, "d.name=", "d.state=")
				if !want.Equal(got) {
					t.Errorf("filter %q over %s: rTorrent %v, engine %v", f, view, want, got)
				}
			}
		}
	})
}
