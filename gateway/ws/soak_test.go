package ws_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// soakFull runs TestChurnReturnsToBaseline at the size of the report it
// answers (make soak): 5,000 downloads, 1,000 subscribers a round.
var soakFull = flag.Bool("soak", false, "churn 1,000 subscribers over 5,000 downloads (make soak)")

// TestChurnReturnsToBaseline connects rounds of WebSocket subscribers to
// the torrents topic of a real rTorrent, has each read its snapshot and
// leave, and checks after every round that the heap in use (after a GC)
// and the goroutine count are back at their baseline, within 10 % (the heap
// within at least 1 MiB): the
// connections, their subscribers and the topic's snapshot are all
// released. make test runs a small size; make soak the full one.
func TestChurnReturnsToBaseline(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		downloads, subscribers, rounds := 1_000, 200, 10
		if *soakFull {
			downloads, subscribers = 5_000, 1_000
		}
		e := startWSEnv(t, &wsEnvOptions{backend: &rtorrenttest.Options{NoSession: true, SizeLimit: 32 << 20}})
		rtorrenttest.LoadMany(t, e.b.client, "soak", downloads)
		rtorrenttest.WaitFor(t, "the poller lists every download", func() bool { return len(e.poller.Hashes()) == downloads })

		round := func() {
			var wg sync.WaitGroup
			errs := make(chan error, subscribers)
			sem := make(chan struct{}, 64) // dials at once
			for i := range subscribers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					if err := e.subscribeOnce(i); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			rtorrenttest.WaitFor(t, "every connection closed", func() bool { return e.handler.Conns() == 0 })
		}
		measure := func() (heap uint64, goroutines int) {
			// Past the hub's linger, so that an idle topic is gone as it
			// would be in production.
			time.Sleep(50 * time.Millisecond)
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapInuse, runtime.NumGoroutine()
		}

		round() // warm-up: pools, the topic's producer, buffers
		baseHeap, baseG := measure()
		t.Logf("baseline after a warm-up round of %d subscribers over %d downloads: heap in use %.1f MB, %d goroutines", subscribers, downloads, mb(baseHeap), baseG)
		for r := 1; r <= rounds; r++ {
			round()
			heap, g := measure()
			t.Logf("round %d: heap in use %.1f MB, %d goroutines", r, mb(heap), g)
			// 10 % of the baseline, and at least 1 MiB: a few-MB heap moves
			// by half a MB from one GC to the next with nothing leaking
			// (measured: 4.0 MB baseline, rounds between 4.1 and 4.5).
			if slack := max(0.1*float64(baseHeap), 1<<20); float64(heap) > float64(baseHeap)+slack {
				t.Errorf("round %d: heap in use %.1f MB, more than %.1f MB over the baseline %.1f MB", r, mb(heap), mb(uint64(slack)), mb(baseHeap))
			}
			if float64(g) > 1.1*float64(baseG) {
				t.Errorf("round %d: %d goroutines, more than 10 %% over the baseline %d", r, g, baseG)
			}
		}
	})
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// subscribeOnce connects, subscribes to torrents, reads the snapshot to
// its end without keeping it, and leaves.
func (e *wsEnv) subscribeOnce(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.url+"/ws", &websocket.DialOptions{HTTPHeader: map[string][]string{"Authorization": {"Bearer " + e.token}}})
	if err != nil {
		return fmt.Errorf("subscriber %d: dial: %w", i, err)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	req := `{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"method":"rtgate.subscribe","params":{"topic":"torrents"}}`
	if err := c.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		return fmt.Errorf("subscriber %d: subscribe: %w", i, err)
	}
	for n := 0; n < 2; n++ { // the answer, then the snapshot
		_, r, err := c.Reader(ctx)
		if err != nil {
			return fmt.Errorf("subscriber %d: read %d: %w", i, n, err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return fmt.Errorf("subscriber %d: read %d: %w", i, n, err)
		}
	}
	return c.Close(websocket.StatusNormalClosure, "")
}
