package topics_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtgate/rtgate/topics"
)

func TestSnapshotThenChanges(t *testing.T) {
	tests := []struct {
		name     string
		before   int // changes published before the subscriber joins
		unread   int // changes published after Subscribe, before the first Next
		after    int // changes published after the snapshot was read
		wantSnap uint64
	}{
		{name: "fresh topic", after: 3, wantSnap: 0},
		{name: "topic with changes", before: 5, after: 3, wantSnap: 5},
		{name: "changes before first Next are in the snapshot", before: 2, unread: 4, after: 2, wantSnap: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.sub(t, "t1") // keeps the producer running
			p := e.p(t, "t1")
			p.set(t, tt.before)

			s := e.sub(t, "t1")
			p.set(t, tt.unread)
			c := &client{}
			m := next(t, s)
			if m.Kind != topics.Snapshot || m.Seq != tt.wantSnap || m.Topic != "t1" {
				t.Fatalf("first message %v %s:%d, want snapshot at %d", m.Kind, m.Topic, m.Seq, tt.wantSnap)
			}
			if err := c.apply(m); err != nil {
				t.Fatal(err)
			}
			p.set(t, tt.after)
			for range tt.after {
				if err := c.apply(next(t, s)); err != nil {
					t.Fatal(err)
				}
			}
			none(t, s)
			if got := p.T(t).Position(); got != *c.pos() {
				t.Errorf("client at %v, topic at %v", c.pos(), got)
			}
		})
	}
}

// TestConcurrentJoin has subscribers join while changes are published and
// checks that each gets a snapshot and then every later change, no gap,
// no duplicate, reproducing the producer's state.
func TestConcurrentJoin(t *testing.T) {
	const (
		iterations = 20
		joiners    = 12
		changes    = 300
	)
	e := newEnv(t, nil)
	for i := range iterations {
		name := fmt.Sprintf("t%d", i)
		first := e.sub(t, name)
		p := e.p(t, name)

		var wg sync.WaitGroup
		errs := make(chan error, joiners)
		for j := range joiners {
			wg.Go(func() {
				time.Sleep(time.Duration(j) * 100 * time.Microsecond)
				s := e.hub.NewSubscriber()
				defer s.Close()
				if err := s.Subscribe(name, nil); err != nil {
					errs <- err
					return
				}
				c := &client{}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for c.seq < changes {
					m, err := s.Next(ctx)
					if err == nil {
						err = c.apply(m)
					}
					if err != nil {
						errs <- fmt.Errorf("joiner %d: %w", j, err)
						return
					}
				}
			})
		}
		p.set(t, changes)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		first.Close()
	}
}

// TestSharedSnapshot checks that subscribers asking at the same position
// get the same bytes from one Snapshot call.
func TestSharedSnapshot(t *testing.T) {
	e := newEnv(t, nil)
	a := e.sub(t, "t1")
	p := e.p(t, "t1")
	p.set(t, 3)
	b := e.sub(t, "t1")
	ma, mb := next(t, a), next(t, b)
	if ma.Seq != 3 || mb.Seq != 3 {
		t.Fatalf("snapshots at %d and %d, want 3", ma.Seq, mb.Seq)
	}
	if &ma.Data[0] != &mb.Data[0] {
		t.Error("snapshot encoded twice")
	}
	if n := p.snapshots.Load(); n != 1 {
		t.Errorf("Snapshot called %d times, want 1", n)
	}
	p.set(t, 1)
	c := e.sub(t, "t1")
	if m := next(t, c); m.Seq != 4 || p.snapshots.Load() != 2 {
		t.Errorf("snapshot at %d after %d calls; want a new one at 4", m.Seq, p.snapshots.Load())
	}
}

// TestBigMessages checks that a snapshot or a change bigger than the whole
// queue bound still goes through.
func TestBigMessages(t *testing.T) {
	e := newEnv(t, &topics.Options{QueueBytes: 30})
	s := e.sub(t, "t1")
	p := e.p(t, "t1")
	p.set(t, 10) // a snapshot of ~60 bytes; s has no live backlog yet
	if m := next(t, s); m.Kind != topics.Snapshot || len(m.Data) <= 30 {
		t.Fatalf("got %v of %d bytes, want a snapshot over 30", m.Kind, len(m.Data))
	}
	err := p.T(t).Update(func() ([]byte, error) { return make([]byte, 1000), nil })
	if err != nil {
		t.Fatal(err)
	}
	if m := next(t, s); m.Kind != topics.Change || len(m.Data) != 1000 {
		t.Fatalf("got %v of %d bytes, want the 1000-byte change", m.Kind, len(m.Data))
	}
}

func TestSubscribeErrors(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		setup func(*topics.Subscriber)
		want  error
	}{
		{name: "empty", topic: "", want: topics.ErrInvalidTopic},
		{name: "space", topic: "t a", want: topics.ErrInvalidTopic},
		{name: "control", topic: "t\n", want: topics.ErrInvalidTopic},
		{name: "non-ASCII", topic: "té", want: topics.ErrInvalidTopic},
		{name: "too long", topic: "t" + strings.Repeat("x", 200), want: topics.ErrInvalidTopic},
		{name: "longest", topic: "t" + strings.Repeat("x", 199)},
		{name: "unknown", topic: "nope", want: topics.ErrUnknownTopic},
		{
			name: "already", topic: "t1", want: topics.ErrAlreadySubscribed,
			setup: func(s *topics.Subscriber) { s.Subscribe("t1", nil) },
		},
		{
			name: "closed", topic: "t1", want: topics.ErrClosed,
			setup: func(s *topics.Subscriber) { s.Close() },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s := e.sub(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			err := s.Subscribe(tt.topic, nil)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Subscribe(%q) = %v, want %v", tt.topic, err, tt.want)
			}
		})
	}
}

// TestUnsubscribe checks that leaving one topic drops its queued messages
// and leaves the others alone.
func TestUnsubscribe(t *testing.T) {
	e := newEnv(t, &topics.Options{Linger: 10 * time.Millisecond})
	s := e.sub(t, "ta", "tb")
	pa, pb := e.p(t, "ta"), e.p(t, "tb")
	for _, name := range []string{"ta", "tb"} {
		if m := next(t, s); m.Kind != topics.Snapshot || m.Topic != name {
			t.Fatalf("got %v of %s, want snapshot of %s", m.Kind, m.Topic, name)
		}
	}
	pa.set(t, 2)
	pb.set(t, 2)
	pa.set(t, 2)
	if err := s.Unsubscribe("ta"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe("ta"); !errors.Is(err, topics.ErrNotSubscribed) {
		t.Errorf("second Unsubscribe = %v, want ErrNotSubscribed", err)
	}
	pb.set(t, 1)
	for seq := uint64(1); seq <= 3; seq++ {
		if m := next(t, s); m.Topic != "tb" || m.Seq != seq {
			t.Fatalf("got %s:%d, want tb:%d", m.Topic, m.Seq, seq)
		}
	}
	none(t, s)
	pa.waitStopped(t) // its last subscriber left
	if pb.isStopped() {
		t.Error("producer of tb stopped")
	}
	if got := e.hub.Topics(); len(got) != 1 || got[0] != "tb" {
		t.Errorf("Topics() = %v, want [tb]", got)
	}
}

func TestNextContext(t *testing.T) {
	e := newEnv(t, nil)
	s := e.sub(t, "t1")
	next(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next = %v, want context.Canceled", err)
	}
	e.p(t, "t1").set(t, 1)
	if m := next(t, s); m.Seq != 1 {
		t.Fatalf("after a cancelled Next got seq %d, want 1", m.Seq)
	}
}

func TestSubscriberClose(t *testing.T) {
	e := newEnv(t, nil)
	s := e.sub(t, "ta", "tb")
	next(t, s) // ta's snapshot
	e.p(t, "ta").set(t, 2)
	if err := s.Err(); err != nil {
		t.Fatalf("Err before Close = %v", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := s.Next(context.Background())
		for err == nil {
			_, err = s.Next(context.Background())
		}
		got <- err
	}()
	s.Close()
	s.Close()
	var ce *topics.CloseError
	if err := <-got; !errors.As(err, &ce) || ce.Reason != topics.ReasonClosed {
		t.Fatalf("Next = %v, want CloseError closed", err)
	}
	if !errors.Is(s.Err(), topics.ErrClosed) || s.Err() != error(ce) {
		t.Errorf("Err = %v, want the same CloseError", s.Err())
	}
	if err := s.Unsubscribe("ta"); !errors.Is(err, topics.ErrClosed) {
		t.Errorf("Unsubscribe after Close = %v", err)
	}
}

// TestStress runs subscribers that join, leave, resume and close at random
// while producers publish and reset, and checks every stream they see.
func TestStress(t *testing.T) {
	e := newEnv(t, &topics.Options{Linger: time.Millisecond, QueueBytes: 4 << 10, History: 64})
	names := []string{"t0", "t1", "t2", "t3"}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()

	var wg sync.WaitGroup
	// Publishers, one per topic, publishing on whichever activation is the
	// latest (topics linger out and restart all the time here).
	for _, name := range names {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				p := e.latest(name)
				var err error
				switch {
				case p == nil || p.topic.Load() == nil:
					err = topics.ErrStopped
				case i%500 == 499:
					err = p.reset(p.topic.Load())
				default:
					err = p.update(p.topic.Load())
				}
				if errors.Is(err, topics.ErrStopped) || i%16 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
	}
	var snapshots, recovered, slow atomic.Int64
	errs := make(chan error, 64)
	for w := range 16 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			clients := map[string]*client{}
			var from map[string]topics.Position
			for ctx.Err() == nil {
				s := e.hub.NewSubscriber()
				for _, n := range names {
					if r.IntN(2) == 0 {
						continue
					}
					var pos *topics.Position
					if p, ok := from[n]; ok {
						pos = &p
					} else {
						clients[n] = &client{}
					}
					if err := s.Subscribe(n, pos); errors.Is(err, topics.ErrClosed) {
						break // cut as slow while subscribing
					} else if err != nil {
						errs <- err
						return
					}
				}
				for range r.IntN(200) {
					m, err := s.Next(ctx)
					if err != nil {
						break // closed as slow, or time is up
					}
					if m.Kind == topics.Ended {
						errs <- m.Err
						return
					}
					c := clients[m.Topic]
					if c == nil {
						errs <- fmt.Errorf("message for %s, not subscribed", m.Topic)
						return
					}
					if err := c.apply(m); err != nil {
						errs <- fmt.Errorf("%s: %w", m.Topic, err)
						return
					}
					if m.Kind == topics.Snapshot {
						snapshots.Add(1)
					}
					if m.Recovered {
						recovered.Add(1)
					}
					if r.IntN(50) == 0 {
						err := s.Unsubscribe(m.Topic)
						if errors.Is(err, topics.ErrClosed) {
							break // cut as slow meanwhile
						}
						if err != nil {
							errs <- err
							return
						}
						delete(clients, m.Topic)
					}
				}
				s.Close()
				ce := s.Err().(*topics.CloseError)
				if ce.Reason == topics.ReasonSlow {
					slow.Add(1)
				}
				from = ce.Positions
				for n := range clients {
					if _, ok := from[n]; !ok {
						delete(clients, n)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d snapshots, %d recovered resumes, %d cut as slow", snapshots.Load(), recovered.Load(), slow.Load())
}
