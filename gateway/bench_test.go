package gateway_test

import (
	"context"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
)

// timedRaw counts the calls through a RawCaller and sums their time, from
// sending the request to closing the reply: rTorrent's RPC work.
type timedRaw struct {
	c     gateway.RawCaller
	calls atomic.Int64
	nanos atomic.Int64
}

func (r *timedRaw) Do(ctx context.Context, contentType string, body []byte) (*scgi.Response, error) {
	start := time.Now()
	r.calls.Add(1)
	resp, err := r.c.Do(ctx, contentType, body)
	if err != nil {
		r.nanos.Add(int64(time.Since(start)))
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { r.nanos.Add(int64(time.Since(start))) }}
	return resp, nil
}

type timedBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// BenchmarkRtorrentCoalescedPolling measures what rtgate saves rTorrent
// when several Flood instances poll it: pollers each send Flood's 31-field
// d.multicall2 over 5,000 downloads, all at once, round after round (Flood
// polls every 2 s; the rounds compress that time). "direct" pollers call
// rTorrent themselves; "rtgate" ones call rtgate's SCGI door, which shares
// one upstream call among identical reads in flight. Per round it reports
// the upstream calls and their total time (rTorrent's RPC work), and the
// median and worst latency a poller sees. Run it with
//
//	go test -run '^$' -bench 'Rtorrent' -benchtime 20x -timeout 30m ./gateway/
func BenchmarkRtorrentCoalescedPolling(b *testing.B) {
	rtorrenttest.EachB(b, func(b *testing.B) {
		const torrents = 5_000
		be := startBackend(b, &rtorrenttest.Options{NoSession: true, SizeLimit: 32 << 20})
		loader := be.door(b, true, nil, nil)
		rtorrenttest.LoadMany(b, loader.client(b), "many", torrents)
		call := encodeCall(b, "d.multicall2", floodPollParams()...)

		for _, pollers := range []int{1, 10} {
			for _, via := range []string{"direct", "rtgate"} {
				b.Run(via+"/pollers="+strconv.Itoa(pollers), func(b *testing.B) {
					up := &timedRaw{c: be.raw}
					var client gateway.RawCaller = up
					if via == "rtgate" {
						d := startDoor(b, be.client, &gateway.CoalesceOptions{Raw: up}, nil)
						client = d.scgi
					}
					var latencies []time.Duration
					var mu sync.Mutex
					b.ResetTimer()
					for b.Loop() {
						together(pollers, func(int) {
							start := time.Now()
							resp, err := client.Do(context.Background(), "text/xml", call)
							if err != nil {
								b.Error(err)
								return
							}
							n, err := io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if err != nil || n < 1<<20 {
								b.Errorf("poll: %d bytes, %v", n, err)
							}
							mu.Lock()
							latencies = append(latencies, time.Since(start))
							mu.Unlock()
						})
					}
					b.StopTimer()
					rounds := float64(b.N)
					slices.Sort(latencies)
					b.ReportMetric(float64(up.calls.Load())/rounds, "upstream-calls/round")
					b.ReportMetric(float64(up.nanos.Load())/1e6/rounds, "upstream-ms/round")
					b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "poll-p50-ms")
					b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "poll-max-ms")
				})
			}
		}
	})
}
