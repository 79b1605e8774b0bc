package engine_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtgate/rtgate/engine"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// benchEngine starts an engine without a session (as the rTorrent anchor
// runs without one) for a benchmark.
func benchEngine(b *testing.B, dataDir string) *engine.Engine {
	b.Helper()
	e, err := engine.New(engine.Options{DataDir: dataDir, ListenHost: "127.0.0.1", DisableDHT: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	return e
}

// benchTorrents returns n tiny torrents named as rtorrent's anchor
// benchmark names them, so both sides hold the same downloads.
func benchTorrents(b *testing.B, n int) []rtorrenttest.Torrent {
	trs := make([]rtorrenttest.Torrent, n)
	for i := range trs {
		trs[i] = rtorrenttest.MakeTorrentBytes(b, fmt.Sprintf("bench-%06d.bin", i), 1000)
	}
	return trs
}

// loadAll loads trs with method in system.multicall batches and waits
// until c lists them all.
func loadAll(b *testing.B, c caller, method string, trs []rtorrenttest.Torrent) {
	b.Helper()
	const batch = 500
	for i := 0; i < len(trs); i += batch {
		var entries []xmlrpc.Value
		for _, tr := range trs[i:min(i+batch, len(trs))] {
			entries = append(entries, mcEntry(method, xmlrpc.NewString(""), xmlrpc.NewBase64(tr.Bytes)))
		}
		call(b, c, "system.multicall", xmlrpc.NewArray(entries...))
	}
	deadline := time.Now().Add(5 * time.Minute)
	for len(call(b, c, "d.multicall2", "", "main", "d.hash=").Values()) != len(trs) {
		if time.Now().After(deadline) {
			b.Fatalf("not every download was listed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func floodParams() []xmlrpc.Value {
	ps := []xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewString("main")}
	for _, f := range floodFields {
		ps = append(ps, xmlrpc.NewString(f))
	}
	return ps
}

// BenchmarkFloodPoll is one poll of Flood's 31-field d.multicall2 over
// main, answered by the engine holding 1,000 downloads, stopped (the
// anchor's case) or started (every row read from anacrolix). It reports
// the time of the call alone and with the reply encoded as XML, which is
// what rTorrent's time includes.
func BenchmarkFloodPoll(b *testing.B) {
	for _, state := range []string{"stopped", "started"} {
		b.Run("torrents=1000/"+state, func(b *testing.B) {
			e := benchEngine(b, b.TempDir())
			method := "load.raw"
			if state == "started" {
				method = "load.raw_start"
			}
			loadAll(b, e, method, benchTorrents(b, 1000))
			if state == "started" {
				waitAll(b, e, "d.hashing=", 0)
			}
			ps := floodParams()
			var buf []byte
			var callTimes, xmlTimes []time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				v, err := e.Call(b.Context(), "d.multicall2", ps...)
				callTimes = append(callTimes, time.Since(start))
				if err != nil || v.Len() != 1000 {
					b.Fatalf("%d rows, %v", v.Len(), err)
				}
				buf, err = xmlrpc.Encoder{}.AppendResponse(buf[:0], v)
				xmlTimes = append(xmlTimes, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(ms(median(callTimes)), "engine-ms/poll")
			b.ReportMetric(ms(median(xmlTimes)), "engine+xml-ms/poll")
			b.ReportMetric(float64(len(buf)), "reply-bytes")
		})
	}
}

// BenchmarkRtorrentVsEngineFloodPoll answers the same poll of the same
// 1,000 downloads by a real rTorrent and by the engine, in one run, and
// reports their ratio. It needs rtorrent, so only `make bench-rtorrent`
// runs it (its name holds "Rtorrent").
func BenchmarkRtorrentVsEngineFloodPoll(b *testing.B) {
	rtorrenttest.EachB(b, func(b *testing.B) {
		trs := benchTorrents(b, 1000)
		rti := rtorrenttest.Start(b, &rtorrenttest.Options{SizeLimit: 32 << 20, NoSession: true})
		rt, err := rtorrent.New(rti.Addr(), nil)
		if err != nil {
			b.Fatal(err)
		}
		loadAll(b, rt, "load.raw", trs)
		e := benchEngine(b, b.TempDir())
		loadAll(b, e, "load.raw", trs)
		ps := floodParams()
		req, err := xmlrpc.Encoder{}.AppendCall(nil, "d.multicall2", ps)
		if err != nil {
			b.Fatal(err)
		}
		var buf []byte
		var rtTimes, enTimes []time.Duration
		b.ResetTimer()
		for b.Loop() {
			start := time.Now()
			reply, err := rti.RawCall(b.Context(), req)
			rtTimes = append(rtTimes, time.Since(start))
			if err != nil || !bytes.Contains(reply, []byte("<array>")) {
				b.Fatalf("rTorrent: %v", err)
			}
			start = time.Now()
			v, err := e.Call(b.Context(), "d.multicall2", ps...)
			if err == nil {
				buf, err = xmlrpc.Encoder{}.AppendResponse(buf[:0], v)
			}
			enTimes = append(enTimes, time.Since(start))
			if err != nil || v.Len() != len(trs) {
				b.Fatalf("engine: %d rows, %v", v.Len(), err)
			}
		}
		b.StopTimer()
		rtMed, enMed := median(rtTimes), median(enTimes)
		b.ReportMetric(ms(rtMed), "rtorrent-ms/poll")
		b.ReportMetric(ms(enMed), "engine+xml-ms/poll")
		b.ReportMetric(float64(enMed)/float64(rtMed), "engine/rtorrent")
	})
}

// BenchmarkIdle holds 1,000 started, complete (seeding) downloads with no
// peers and measures what the engine costs doing nothing for 10 s: CPU
// (as a share of one core), the Go heap after a collection, the process's
// resident set and its goroutines.
func BenchmarkIdle(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	e := benchEngine(b, dir)
	trs := make([]rtorrenttest.Torrent, n)
	for i := range trs {
		trs[i] = rtorrenttest.MakeTorrent(b, dir, fmt.Sprintf("idle-%06d.bin", i), 16<<10, nil)
	}
	loadAll(b, e, "load.raw_start", trs)
	waitAll(b, e, "d.is_active=", 1)
	if got := len(call(b, e, "d.multicall2", "", "seeding", "d.hash=").Values()); got != n {
		b.Fatalf("%d of %d downloads seeding", got, n)
	}
	const idle = 10 * time.Second
	var cpu, heap, rss, goroutines float64
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		before := cpuTime()
		time.Sleep(idle)
		cpu = float64(cpuTime()-before) / float64(idle) * 100
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		heap = float64(m.HeapAlloc) / (1 << 20)
		rss = float64(rssBytes()) / (1 << 20)
		goroutines = float64(runtime.NumGoroutine())
	}
	b.StopTimer()
	b.ReportMetric(cpu, "cpu-%")
	b.ReportMetric(heap, "heap-MB")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(goroutines, "goroutines")
}

// waitAll waits until field has value want on every download.
func waitAll(b *testing.B, c caller, field string, want int64) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		done := true
		for _, r := range call(b, c, "d.multicall2", "", "main", field).Values() {
			if r.Index(0).Int() != want {
				done = false
				break
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s never became %d everywhere", field, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes returns the process's resident set from /proc, or 0.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
