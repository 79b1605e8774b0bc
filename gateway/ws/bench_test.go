package ws_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/gateway/ws"
	"github.com/rtgate/rtgate/topics"
)

// The WebSocket benchmarks serve real connections over loopback TCP. The
// clients run in a child process (this test binary again, as
// TestWSBenchClients): 10,000 connections need 20,000 descriptors in one
// process, this machine's hard limit, and the server's memory and latency
// are measured without the clients' goroutines in the same heap.
//
//	go test -run '^$' -bench WSIdleMemory -benchtime 1x ./gateway/   # measures once, whatever b.N
//	go test -run '^$' -bench WSFanout -benchtime 50x ./gateway/      # 50 changes to 10,000 subscribers
//
// -args -wsbench.conns=N changes the number of connections.
var wsBenchConns = flag.Int("wsbench.conns", 10000, "connections for the WebSocket benchmarks")

// benchServer is a ws.Handler over a hub whose only topic, "bench", is a
// bulkProducer, served by a plain http.Server as cmd serves it.
type benchServer struct {
	hub  *topics.Hub
	prod *bulkProducer
	h    *ws.Handler
	srv  *http.Server
	url  string
	done chan error
}

func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	prod := &bulkProducer{pub: make(chan []byte, 16)}
	hub := topics.NewHub(func(name string) (topics.Producer, error) {
		if name != "bench" {
			return nil, topics.ErrUnknownTopic
		}
		return prod, nil
	}, nil)
	h := ws.New(gateway.NewCoalescer(callerFunc(nil), nil), hub, &ws.Options{MaxConns: -1, Logger: quiet})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &benchServer{hub: hub, prod: prod, h: h, srv: &http.Server{Handler: h}, url: "ws://" + l.Addr().String() + "/ws", done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(l) }()
	b.Cleanup(func() {
		h.Close()
		s.srv.Close()
		<-s.done
		hub.Close()
	})
	return s
}

// benchClients is the child process holding the client connections.
type benchClients struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines *bufio.Scanner
}

// startBenchClients starts n client connections in a child process,
// subscribed to topic unless it is empty, and returns once all are ready.
func startBenchClients(b *testing.B, url string, n int, topic string) *benchClients {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWSBenchClients$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RTGATE_WSBENCH_URL="+url, "RTGATE_WSBENCH_N="+strconv.Itoa(n), "RTGATE_WSBENCH_TOPIC="+topic)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &benchClients{cmd: cmd, in: in, lines: bufio.NewScanner(out)}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	if line := c.expect(b, "ready"); line == "" {
		b.Fatal("clients did not get ready")
	}
	return c
}

// expect reads lines until one starts with prefix and returns it.
func (c *benchClients) expect(b *testing.B, prefix string) string {
	b.Helper()
	for c.lines.Scan() {
		if line := c.lines.Text(); strings.HasPrefix(line, prefix) {
			return line
		}
	}
	b.Fatalf("clients ended before %q: %v", prefix, c.lines.Err())
	return ""
}

// liveBytes is the heap in use by live objects plus goroutine stacks, after
// two collections (the second frees what sync.Pools kept).
func liveBytes() (heap, stack uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// BenchmarkWSIdleMemory measures the server's heap and stack per idle
// connection: connected and authenticated, then also subscribed to a topic
// (its snapshot delivered) with nothing flowing. Everything the server holds
// per connection counts: net/http's hijacked buffers, the websocket, the
// handler's connection, its topics.Subscriber, two goroutines' stacks.
func BenchmarkWSIdleMemory(b *testing.B) {
	for _, mode := range []struct{ name, topic string }{{"bare", ""}, {"subscribed", "bench"}} {
		b.Run(mode.name, func(b *testing.B) {
			n := *wsBenchConns
			s := startBenchServer(b)
			heap0, stack0 := liveBytes()
			startBenchClients(b, s.url, n, mode.topic)
			for s.h.Conns() < n {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // the last writers go back to waiting
			heap1, stack1 := liveBytes()
			heap := float64(int64(heap1)-int64(heap0)) / float64(n) / 1024
			stack := float64(int64(stack1)-int64(stack0)) / float64(n) / 1024
			b.ReportMetric(heap, "heap-KiB/conn")
			b.ReportMetric(stack, "stack-KiB/conn")
			b.ReportMetric(heap+stack, "KiB/conn")
			b.ReportMetric(float64(runtime.NumGoroutine())/float64(n), "goroutines/conn")
		})
	}
}

// BenchmarkWSFanout measures change-to-client latency with many
// subscribers: a test producer publishes a change holding its publishing
// time, every connection receives it as an rtgate.message, and the client
// process records now minus that time (one clock: same machine). One op is
// one change delivered to every connection; the next is published when the
// last connection has it.
func BenchmarkWSFanout(b *testing.B) {
	n := *wsBenchConns
	s := startBenchServer(b)
	clients := startBenchClients(b, s.url, n, "bench")
	for s.h.Conns() < n {
		time.Sleep(10 * time.Millisecond)
	}
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		s.prod.pub <- []byte(`{"t":` + strconv.FormatInt(time.Now().UnixNano(), 10) + `}`)
		clients.expect(b, "got "+strconv.Itoa(i)+" ")
	}
	b.StopTimer()
	fmt.Fprintln(clients.in, "stats")
	fields := strings.Fields(clients.expect(b, "stats"))
	p50, _ := strconv.ParseFloat(fields[1], 64)
	p99, _ := strconv.ParseFloat(fields[2], 64)
	max, _ := strconv.ParseFloat(fields[3], 64)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(max, "max-ms")
	b.ReportMetric(float64(n), "subscribers")
}

// TestWSBenchClients is the benchmarks' client process, not a test: it
// skips unless a benchmark started it. It dials RTGATE_WSBENCH_N
// connections, subscribes each to RTGATE_WSBENCH_TOPIC and prints "ready";
// then, for each change, the latency of every delivery, printing
// "got <n> " once every connection has change n; "stats" on stdin prints
// "stats <p50 ms> <p99 ms> <max ms>". It exits when stdin closes.
func TestWSBenchClients(t *testing.T) {
	url := os.Getenv("RTGATE_WSBENCH_URL")
	if url == "" {
		t.Skip("the WebSocket benchmarks' client process")
	}
	n, _ := strconv.Atoi(os.Getenv("RTGATE_WSBENCH_N"))
	topic := os.Getenv("RTGATE_WSBENCH_TOPIC")
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}

	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	say := func(s string) {
		outMu.Lock()
		out.WriteString(s + "\n")
		out.Flush()
		outMu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 64)
	var dialErr atomic.Value
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var c *websocket.Conn
			var err error
			for attempt := 0; attempt < 5; attempt++ {
				dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
				c, _, err = websocket.Dial(dctx, url, nil)
				dcancel()
				if err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				dialErr.Store(err)
				return
			}
			if topic != "" {
				c.Write(ctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"method":"rtgate.subscribe","params":{"topic":"`+topic+`"}}`))
				for range 2 { // the answer, the snapshot
					if _, _, err := c.Read(ctx); err != nil {
						dialErr.Store(err)
						return
					}
				}
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if err := dialErr.Load(); err != nil {
		t.Fatalf("dial: %v", err)
	}
	// Per connection latencies, and per change a count of the connections
	// that have it: no lock shared by the readers.
	type record struct {
		mu sync.Mutex // stats reads it
		l  []time.Duration
	}
	perConn := make([]record, n)
	var counts [1 << 16]atomic.Int64
	seqKey := []byte(`"seq":`)
	tKey := []byte(`"t":`)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				seq, ts := jsonInt(b, seqKey), jsonInt(b, tKey)
				r := &perConn[i]
				r.mu.Lock()
				r.l = append(r.l, time.Duration(now-ts))
				r.mu.Unlock()
				if counts[seq%int64(len(counts))].Add(1) == int64(n) {
					say("got " + strconv.FormatInt(seq, 10) + " ")
				}
			}
		}()
	}
	say("ready")

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "stats" {
			var l []time.Duration
			for i := range perConn {
				r := &perConn[i]
				r.mu.Lock()
				l = append(l, r.l...)
				r.mu.Unlock()
			}
			slices.Sort(l)
			ms := func(q float64) string {
				if len(l) == 0 {
					return "0"
				}
				return strconv.FormatFloat(float64(l[min(len(l)-1, int(q*float64(len(l))))])/1e6, 'f', 2, 64)
			}
			say("stats " + ms(0.5) + " " + ms(0.99) + " " + ms(1))
		}
	}
	cancel()
	for _, c := range conns {
		c.CloseNow()
	}
	wg.Wait()
}

// jsonInt returns the integer after key in b, or 0.
func jsonInt(b, key []byte) int64 {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0
	}
	b = b[i+len(key):]
	end := 0
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	v, _ := strconv.ParseInt(string(b[:end]), 10, 64)
	return v
}
