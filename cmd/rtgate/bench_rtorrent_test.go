package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

var (
	benchWindow = flag.Duration("rtwindow", time.Minute, "BenchmarkRtorrentPollers: the length of each measured window")
	benchSizes  = flag.String("rtsizes", "5000,10000", "BenchmarkRtorrentPollers: library sizes, comma-separated")
)

// BenchmarkRtorrentPollers measures what Flood-style pollers cost rTorrent,
// directly and through rtgate, as users load it: N pollers each send
// Flood 4.11's 31-field d.multicall2 over main every 2 s, each at its own
// random phase (not in lock-step), for one window; the library holds n
// downloads, 50 of them started. In the same run, for N = 0, 1, 5, 10
// and 20, with rtgate (a separate process, answering from its state) and
// without, it reports rTorrent's CPU seconds in the window (from
// /proc/PID/stat), the polls served, their latency (p50, p99: request sent
// to last byte read), and rtgate's CPU seconds and peak RSS. Run with
//
//	make bench-rtorrent   # go test -run '^$' -bench RtorrentPollers -benchtime 1x -timeout 90m ./cmd/rtgate/
//
// and -rtwindow, -rtsizes to shorten it. docs/BENCHMARKS.md has the numbers.
func BenchmarkRtorrentPollers(b *testing.B) {
	var sizes []int
	for _, s := range strings.Split(*benchSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("-rtsizes: %v", err)
		}
		sizes = append(sizes, n)
	}
	flood, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rtorrent-0.9.8", "flood-multicall.call.xml"))
	if err != nil {
		b.Fatal(err)
	}
	rtorrenttest.EachB(b, func(b *testing.B) {
		for _, n := range sizes {
			b.Run(strconv.Itoa(n), func(b *testing.B) {
				rt := rtorrenttest.Start(b, &rtorrenttest.Options{NoSession: true, SizeLimit: 32 << 20, StartTimeout: time.Minute})
				c := rt.Client(b)
				trs := rtorrenttest.LoadMany(b, c, "bench", n)
				for _, tr := range trs[:50] {
					if _, err := c.Call(context.Background(), "d.start", xmlrpc.NewString(tr.Hash)); err != nil {
						b.Fatal(err)
					}
				}
				pidV, err := c.Call(context.Background(), "system.pid")
				if err != nil {
					b.Fatal(err)
				}
				rtPID := int(pidV.Int())
				gate := startChild(b, rt.Addr())
				// Warm-up: rtgate learns Flood's fields.
				for range 3 {
					poll(b, gate.socket, flood)
					time.Sleep(1500 * time.Millisecond)
				}
				for _, mode := range []string{"rtgate", "direct"} {
					socket := rt.Socket
					if mode == "rtgate" {
						socket = gate.socket
					}
					for _, pollers := range []int{0, 1, 5, 10, 20} {
						if mode == "direct" && pollers == 0 {
							continue // the same as rtgate's N = 0 less rtgate's own polls: see N = 0 there
						}
						b.Run(fmt.Sprintf("%s/N=%d", mode, pollers), func(b *testing.B) {
							w := measure(b, *benchWindow, pollers, socket, flood, rtPID, gate.pid)
							b.ReportMetric(w.rtCPU, "rt-cpu-s")
							b.ReportMetric(float64(w.served), "polls")
							b.ReportMetric(w.p50, "p50-ms")
							b.ReportMetric(w.p99, "p99-ms")
							b.ReportMetric(w.gateCPU, "rtgate-cpu-s")
							b.ReportMetric(w.gateRSS, "rtgate-rss-MB")
							b.ReportMetric(0, "ns/op")
						})
					}
				}
			})
		}
	})
}

// window is one measured window.
type window struct {
	rtCPU, gateCPU float64 // CPU seconds used in the window
	gateRSS        float64 // peak resident set, MB
	served         int     // polls whose reply was read whole
	p50, p99       float64 // ms
}

// measure runs pollers for d and measures.
func measure(b *testing.B, d time.Duration, pollers int, socket string, body []byte, rtPID, gatePID int) window {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	rt0, gate0 := cpuSeconds(b, rtPID), cpuSeconds(b, gatePID)
	var rss float64
	wg.Add(1)
	go func() { // rtgate's RSS, once a second
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			rss = max(rss, rssMB(gatePID))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	for range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now().Add(time.Duration(rand.Int64N(int64(2 * time.Second))))
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				start := time.Now()
				if pollCtx(ctx, socket, body) {
					mu.Lock()
					lat = append(lat, time.Since(start))
					mu.Unlock()
				}
				// Flood polls again 2 s after the last poll began, or at
				// once when it took longer.
				next = start.Add(2 * time.Second)
			}
		}()
	}
	wg.Wait()
	w := window{rtCPU: cpuSeconds(b, rtPID) - rt0, gateCPU: cpuSeconds(b, gatePID) - gate0, gateRSS: rss, served: len(lat)}
	if len(lat) > 0 {
		slices.Sort(lat)
		w.p50 = float64(lat[len(lat)/2].Microseconds()) / 1000
		w.p99 = float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()) / 1000
	}
	return w
}

// poll sends one Flood poll and fails b if it fails.
func poll(b *testing.B, socket string, body []byte) {
	if !pollCtx(context.Background(), socket, body) {
		b.Fatalf("poll of %s failed", socket)
	}
}

// pollCtx sends body to an SCGI socket and reads the reply whole, into
// nothing; false if it failed or ctx ended first.
func pollCtx(ctx context.Context, socket string, body []byte) bool {
	c, err := scgi.NewClient(socket, &scgi.ClientOptions{Retries: -1})
	if err != nil {
		return false
	}
	resp, err := c.Do(ctx, "text/xml", body)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == 200
}

// cpuSeconds is a process's user and system CPU time.
func cpuSeconds(b *testing.B, pid int) float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("CPU of pid %d: %v", pid, err)
	}
	// Fields after the command's closing parenthesis: state is field 3;
	// utime and stime are 14 and 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// rssMB is a process's resident set in MB, 0 if unknown.
func rssMB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// child is `rtgate run` in a process of its own (this test binary, run as
// rtgate: see TestMain), so that its CPU and memory are its own.
type child struct {
	pid    int
	socket string
}

// childEnv makes TestMain run rtgate with the arguments in it instead of
// the tests.
const childEnv = "RTGATE_TEST_RUN_MAIN"

func startChild(b *testing.B, rtorrent string) *child {
	dir, err := os.MkdirTemp("", "rtgb")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "rtgate.sock")
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	args := strings.Join([]string{"-rtorrent", rtorrent, "-scgi", sock, "-http", "", "-log-level", "warn", "run"}, "\x1f")
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+args)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if b.Failed() {
			b.Logf("rtgate's output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(time.Minute)
	for !pollCtx(context.Background(), sock, []byte(`<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName></methodCall>`)) {
		if time.Now().After(deadline) {
			b.Fatalf("rtgate never answered; output:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &child{pid: cmd.Process.Pid, socket: sock}
}
