package topics_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/topics"
)

// blob is the benchmark producer: a state of fixed bytes whose Snapshot
// copies it, standing in for an encoder.
type blob struct {
	state []byte
	topic chan *topics.Topic
}

func (p *blob) Run(ctx context.Context, t *topics.Topic) error {
	p.topic <- t
	<-ctx.Done()
	return nil
}

func (p *blob) Snapshot() ([]byte, error) { return bytes.Clone(p.state), nil }

// blobHub returns a hub whose only topic "t" is p, and p's Topic once a
// first subscriber (returned) has started it.
func blobHub(b *testing.B, p *blob, opts *topics.Options) (*topics.Hub, *topics.Topic) {
	b.Helper()
	p.topic = make(chan *topics.Topic, 1)
	h := topics.NewHub(func(string) (topics.Producer, error) { return p, nil }, opts)
	b.Cleanup(func() { h.Close() })
	s := h.NewSubscriber()
	defer s.Close()
	if err := s.Subscribe("t", nil); err != nil {
		b.Fatal(err)
	}
	return h, <-p.topic
}

// BenchmarkPublish10kSubscribers publishes one 1 KiB change per op to one
// topic and waits until every subscriber has it. "goroutines" reads as the
// gateway will, one goroutine per subscriber blocked in Next; "inline"
// drains every subscriber from the publishing goroutine, which is the
// hub's own cost without the scheduler's. subs=1 is the in-run baseline;
// ns/sub is ns/op divided by the subscriber count, cpu-ns/sub the same in
// CPU time of the whole process (all its threads), which a busy machine
// disturbs less than wall time.
func BenchmarkPublish10kSubscribers(b *testing.B) {
	for _, readers := range []string{"goroutines", "inline"} {
		for _, n := range []int{1, 10_000} {
			b.Run(fmt.Sprintf("readers=%s/subs=%d", readers, n), func(b *testing.B) {
				benchPublish(b, n, readers == "goroutines")
			})
		}
	}
}

func benchPublish(b *testing.B, n int, goroutines bool) {
	h, t := blobHub(b, &blob{state: []byte("{}")}, nil)
	ctx := context.Background()
	subs := make([]*topics.Subscriber, n)
	for i := range subs {
		s := h.NewSubscriber()
		if err := s.Subscribe("t", nil); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Next(ctx); err != nil { // the snapshot
			b.Fatal(err)
		}
		subs[i] = s
	}

	var (
		wg        sync.WaitGroup
		remaining atomic.Int64
		delivered = make(chan struct{})
	)
	if goroutines {
		for _, s := range subs {
			wg.Go(func() {
				for {
					if _, err := s.Next(ctx); err != nil {
						return
					}
					if remaining.Add(-1) == 0 {
						delivered <- struct{}{}
					}
				}
			})
		}
	}
	defer func() {
		for _, s := range subs {
			s.Close()
		}
		wg.Wait()
	}()

	change := bytes.Repeat([]byte("x"), 1024)
	publish := func() ([]byte, error) { return change, nil }
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		if cpu == 0 {
			cpu = cpuTime()
		}
		remaining.Store(int64(n))
		if err := t.Update(publish); err != nil {
			b.Fatal(err)
		}
		if goroutines {
			<-delivered
			continue
		}
		for _, s := range subs {
			if _, err := s.Next(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sub")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/sub")
}

// BenchmarkSubscribeSnapshot measures a new subscriber getting a 1 MiB
// snapshot: "shared" when the topic has not changed since the previous
// one (the encoded snapshot is reused), "fresh" when a change in between
// makes the producer encode (here: copy) it again.
func BenchmarkSubscribeSnapshot(b *testing.B) {
	for _, fresh := range []bool{false, true} {
		name := "shared"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) {
			h, t := blobHub(b, &blob{state: bytes.Repeat([]byte("x"), 1<<20)}, nil)
			ctx := context.Background()
			change := []byte("{}")
			b.SetBytes(1 << 20)
			b.ReportAllocs()
			for b.Loop() {
				if fresh {
					if err := t.Update(func() ([]byte, error) { return change, nil }); err != nil {
						b.Fatal(err)
					}
				}
				s := h.NewSubscriber()
				if err := s.Subscribe("t", nil); err != nil {
					b.Fatal(err)
				}
				m, err := s.Next(ctx)
				if err != nil || len(m.Data) != 1<<20 {
					b.Fatalf("Next = %d bytes, %v", len(m.Data), err)
				}
				s.Close()
			}
		})
	}
}
