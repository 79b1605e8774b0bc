package topics_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rtgate/rtgate/topics"
)

// TestSlowConsumer has one subscriber that stops reading among fast ones:
// it is cut loose with ReasonSlow while the others get everything without
// waiting, and it then resumes exactly from CloseError.Positions.
func TestSlowConsumer(t *testing.T) {
	const (
		fast    = 5
		changes = 200
	)
	e := newEnv(t, &topics.Options{QueueBytes: 2000})
	slow := e.sub(t, "ta", "tb")
	pa, pb := e.p(t, "ta"), e.p(t, "tb")
	slowA, slowB := &client{}, &client{}
	for _, c := range []*client{slowA, slowB} {
		if err := c.apply(next(t, slow)); err != nil {
			t.Fatal(err)
		}
	}
	pb.set(t, 2)
	for range 2 {
		if err := slowB.apply(next(t, slow)); err != nil {
			t.Fatal(err)
		}
	}

	// Fast readers, each acknowledging every change of ta on its channel.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	acks := make([]chan uint64, fast)
	errs := make(chan error, fast)
	for i := range fast {
		acks[i] = make(chan uint64, 1)
		s := e.sub(t, "ta")
		c := &client{}
		if err := c.apply(next(t, s)); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for c.seq < changes {
				m, err := s.Next(ctx)
				if err == nil {
					err = c.apply(m)
				}
				if err != nil {
					errs <- fmt.Errorf("fast %d: %w", i, err)
					return
				}
				if m.Kind == topics.Change {
					acks[i] <- m.Seq
				}
			}
		})
	}
	// Publish in step with the fast readers; the slow one falls behind.
	start := time.Now()
	for seq := uint64(1); seq <= changes; seq++ {
		pa.set(t, 1)
		for i := range fast {
			select {
			case got := <-acks[i]:
				if got != seq {
					t.Fatalf("fast %d acked %d, want %d", i, got, seq)
				}
			case err := <-errs:
				t.Fatal(err)
			case <-ctx.Done():
				t.Fatal("fast readers stalled")
			}
		}
	}
	wg.Wait()
	t.Logf("%d changes to %d fast readers beside a stalled one in %v", changes, fast, time.Since(start))

	_, err := slow.Next(context.Background())
	var ce *topics.CloseError
	if !errors.As(err, &ce) || ce.Reason != topics.ReasonSlow || ce.Topic != "ta" {
		t.Fatalf("slow Next = %v, want CloseError slow on ta", err)
	}
	if ce.Positions["ta"] != *slowA.pos() || ce.Positions["tb"] != *slowB.pos() {
		t.Fatalf("Positions = %v, want ta %v tb %v", ce.Positions, slowA.pos(), slowB.pos())
	}
	if err := slow.Subscribe("ta", nil); !errors.Is(err, topics.ErrClosed) {
		t.Errorf("Subscribe after the cut = %v", err)
	}

	// Resume both topics where the cut subscriber's client stands.
	pb.set(t, 1)
	again := e.hub.NewSubscriber()
	defer again.Close()
	for _, name := range []string{"ta", "tb"} {
		pos := ce.Positions[name]
		if err := again.Subscribe(name, &pos); err != nil {
			t.Fatal(err)
		}
	}
	clients := map[string]*client{"ta": slowA, "tb": slowB}
	for range changes + 1 {
		m := next(t, again)
		if m.Kind != topics.Change {
			t.Fatalf("got %v of %s, want the missed changes", m.Kind, m.Topic)
		}
		if err := clients[m.Topic].apply(m); err != nil {
			t.Fatal(err)
		}
	}
	if slowA.seq != changes || slowB.seq != 3 {
		t.Errorf("resumed to ta:%d tb:%d, want ta:%d tb:3", slowA.seq, slowB.seq, changes)
	}
	none(t, again)
}
