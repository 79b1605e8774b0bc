package rtorrent_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// BenchmarkRtorrentFloodPoll is the anchor every speed target is measured
// against: one poll of Flood's 31-field d.multicall2 over "main", answered
// by a real rTorrent holding n downloads. It reports, per poll, rTorrent's
// time (request sent to last reply byte read), the reply size, and rtgate's
// time to decode that reply — in the same run, so their ratio holds on a
// noisy machine. Run it with `make bench-rtorrent`.
func BenchmarkRtorrentFloodPoll(b *testing.B) {
	rtorrenttest.EachB(b, func(b *testing.B) {
		for _, n := range []int{1_000, 5_000, 10_000} {
			b.Run("torrents="+strconv.Itoa(n), func(b *testing.B) {
				rt := rtorrenttest.Start(b, &rtorrenttest.Options{
					SizeLimit: 32 << 20, // 0.9.8 refuses more
					NoSession: true,     // bulk loads take seconds instead of minutes
				})
				c, err := rtorrent.New(rt.Addr(), nil)
				if err != nil {
					b.Fatal(err)
				}
				rtorrenttest.LoadMany(b, c, "bench", n)

				sc, err := scgi.NewClient(rt.Addr(), nil)
				if err != nil {
					b.Fatal(err)
				}
				params := []xmlrpc.Value{xmlrpc.NewString(""), xmlrpc.NewString("main")}
				for _, f := range floodFields {
					params = append(params, xmlrpc.NewString(f))
				}
				call, err := xmlrpc.Encoder{}.AppendCall(nil, "d.multicall2", params)
				if err != nil {
					b.Fatal(err)
				}
				dec := xmlrpc.NewDecoder(nil, nil)
				var rtTimes, decTimes []time.Duration
				var size int

				b.ResetTimer()
				for b.Loop() {
					start := time.Now()
					body := rawPoll(b, sc, call)
					rtTimes = append(rtTimes, time.Since(start))
					size = len(body)

					start = time.Now()
					dec.Reset(bytes.NewReader(body))
					v, err := dec.DecodeResponse()
					decTimes = append(decTimes, time.Since(start))
					if err != nil || v.Len() != n {
						b.Fatalf("decoded %d rows, err %v", v.Len(), err)
					}
				}
				b.StopTimer()
				rtMed, decMed := median(rtTimes), median(decTimes)
				b.ReportMetric(float64(rtMed.Microseconds())/1000, "rtorrent-ms/poll")
				b.ReportMetric(float64(decMed.Microseconds())/1000, "decode-ms/poll")
				b.ReportMetric(float64(size), "reply-bytes")
				b.ReportMetric(float64(decMed)/float64(rtMed), "decode/rtorrent")
			})
		}
	})
}

func rawPoll(b *testing.B, sc *scgi.Client, call []byte) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := sc.Do(ctx, "text/xml", call)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
