package topics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rtgate/rtgate/topics"
)

const linger = 30 * time.Millisecond

func TestProducerLifecycle(t *testing.T) {
	e := newEnv(t, &topics.Options{Linger: linger})
	if got := e.hub.Topics(); len(got) != 0 {
		t.Fatalf("Topics() = %v before any subscriber", got)
	}
	a := e.sub(t, "t1")
	b := e.sub(t, "t1")
	p := e.p(t, "t1")
	p.T(t) // running
	if n := e.activations("t1"); n != 1 {
		t.Fatalf("%d activations for two subscribers, want 1", n)
	}
	epoch := p.T(t).Position().Epoch

	// Leaving and coming back within Linger keeps producer and epoch.
	a.Close()
	b.Close()
	c := e.sub(t, "t1")
	time.Sleep(2 * linger)
	if p.isStopped() || e.activations("t1") != 1 {
		t.Fatal("producer restarted although a subscriber came back within Linger")
	}
	if m := next(t, c); m.Epoch != epoch {
		t.Errorf("epoch %s, want %s", m.Epoch, epoch)
	}

	// Gone for longer than Linger: stopped.
	if err := c.Unsubscribe("t1"); err != nil {
		t.Fatal(err)
	}
	stopping := time.Now()
	p.waitStopped(t)
	if d := time.Since(stopping); d < linger/2 {
		t.Errorf("stopped after %v, want about %v", d, linger)
	}
	if err := p.update(p.T(t)); !errors.Is(err, topics.ErrStopped) {
		t.Errorf("Update on a stopped topic = %v, want ErrStopped", err)
	}
	for len(e.hub.Topics()) != 0 {
		time.Sleep(time.Millisecond)
	}

	// And a new subscriber starts a new producer with a new epoch.
	d := e.sub(t, "t1")
	if n := e.activations("t1"); n != 2 {
		t.Fatalf("%d activations, want 2", n)
	}
	if m := next(t, d); m.Kind != topics.Snapshot || m.Epoch == epoch {
		t.Errorf("got %v in epoch %s after a restart", m.Kind, m.Epoch)
	}
}

// TestProducerEnds checks that a producer whose Run returns on its own
// ends its topic for every subscriber, after the changes already queued.
func TestProducerEnds(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		runErr  error
		wantErr error
	}{
		{name: "error", runErr: boom, wantErr: boom},
		{name: "nil", runErr: nil, wantErr: topics.ErrStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &topics.Options{Linger: linger})
			s := e.sub(t, "t1", "t2")
			p := e.p(t, "t1")
			next(t, s)
			next(t, s)
			p.set(t, 2)
			p.fail <- tt.runErr
			p.waitStopped(t)
			for seq := uint64(1); seq <= 2; seq++ {
				if m := next(t, s); m.Kind != topics.Change || m.Seq != seq {
					t.Fatalf("got %v %d, want change %d", m.Kind, m.Seq, seq)
				}
			}
			m := next(t, s)
			if m.Kind != topics.Ended || m.Topic != "t1" || !errors.Is(m.Err, tt.wantErr) {
				t.Fatalf("got %v of %s (%v), want t1 ended with %v", m.Kind, m.Topic, m.Err, tt.wantErr)
			}
			if err := s.Unsubscribe("t1"); !errors.Is(err, topics.ErrNotSubscribed) {
				t.Errorf("Unsubscribe of an ended topic = %v", err)
			}
			if got := e.hub.Topics(); len(got) != 1 || got[0] != "t2" {
				t.Errorf("Topics() = %v, want [t2]", got)
			}
			// Subscribing again starts it again.
			if err := s.Subscribe("t1", nil); err != nil {
				t.Fatal(err)
			}
			if m := next(t, s); m.Kind != topics.Snapshot || e.activations("t1") != 2 {
				t.Errorf("got %v after %d activations", m.Kind, e.activations("t1"))
			}
			e.p(t, "t2").set(t, 1)
			if m := next(t, s); m.Topic != "t2" || m.Seq != 1 {
				t.Errorf("got %s:%d, want t2:1", m.Topic, m.Seq)
			}
		})
	}
}

// TestEndedUnread checks that a topic whose Ended has not been read yet
// is still there for Subscribe and Unsubscribe, and that Unsubscribe drops
// the Ended.
func TestEndedUnread(t *testing.T) {
	e := newEnv(t, nil)
	s := e.sub(t, "t1", "t2")
	p := e.p(t, "t1")
	p.fail <- nil
	p.waitStopped(t)
	if err := s.Subscribe("t1", nil); !errors.Is(err, topics.ErrAlreadySubscribed) {
		t.Fatalf("Subscribe before reading Ended = %v, want ErrAlreadySubscribed", err)
	}
	if err := s.Unsubscribe("t1"); err != nil {
		t.Fatal(err)
	}
	if m := next(t, s); m.Topic != "t2" || m.Kind != topics.Snapshot {
		t.Fatalf("got %v of %s, want only t2's snapshot", m.Kind, m.Topic)
	}
	none(t, s)
}

// TestProducerFailsAtOnce checks that a producer that always fails at
// once is reported by Ended, whichever way the race with Subscribe goes.
func TestProducerFailsAtOnce(t *testing.T) {
	boom := errors.New("boom")
	h := topics.NewHub(func(string) (topics.Producer, error) {
		return failing{boom}, nil
	}, nil)
	defer h.Close()
	for range 50 {
		s := h.NewSubscriber()
		if err := s.Subscribe("x", nil); err != nil {
			t.Fatal(err)
		}
		m := next(t, s)
		if m.Kind == topics.Snapshot { // Subscribe won the race
			m = next(t, s)
		}
		if m.Kind != topics.Ended || !errors.Is(m.Err, boom) {
			t.Fatalf("got %v (%v), want ended with boom", m.Kind, m.Err)
		}
		s.Close()
	}
}

type failing struct{ err error }

func (f failing) Run(context.Context, *topics.Topic) error { return f.err }
func (f failing) Snapshot() ([]byte, error)                { return []byte("{}"), nil }

func TestSnapshotError(t *testing.T) {
	e := newEnv(t, nil)
	a := e.sub(t, "t1")
	next(t, a)
	p := e.p(t, "t1")
	p.set(t, 1) // so b's snapshot is not the cached one
	oops := errors.New("oops")
	p.snapErr.Store(&oops)
	b := e.sub(t, "t1")
	if m := next(t, b); m.Kind != topics.Ended || !errors.Is(m.Err, oops) {
		t.Fatalf("got %v (%v), want ended with oops", m.Kind, m.Err)
	}
	p.snapErr.Store(nil)
	p.set(t, 1)
	for seq := uint64(1); seq <= 2; seq++ {
		if m := next(t, a); m.Seq != seq {
			t.Fatalf("a got %d, want %d", m.Seq, seq)
		}
	}
	none(t, b)
}

func TestHubClose(t *testing.T) {
	e := newEnv(t, nil)
	a := e.sub(t, "t1", "t2")
	b := e.sub(t, "t2")
	pa := e.p(t, "t1")
	pa.T(t)
	e.p(t, "t2").T(t)
	got := make(chan error, 2)
	for _, s := range []*topics.Subscriber{a, b} {
		go func() {
			var err error
			for err == nil {
				_, err = s.Next(context.Background())
			}
			got <- err
		}()
	}
	if err := e.hub.Close(); err != nil {
		t.Fatal(err)
	}
	if !pa.isStopped() || !e.p(t, "t2").isStopped() {
		t.Fatal("Close returned before the producers")
	}
	for range 2 {
		var ce *topics.CloseError
		if err := <-got; !errors.As(err, &ce) || ce.Reason != topics.ReasonHubClosed {
			t.Fatalf("Next = %v, want CloseError hub closed", err)
		}
	}
	if err := e.hub.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if got := e.hub.Topics(); len(got) != 0 {
		t.Errorf("Topics() = %v after Close", got)
	}
	if err := pa.update(pa.T(t)); !errors.Is(err, topics.ErrStopped) {
		t.Errorf("Update after Close = %v, want ErrStopped", err)
	}
	c := e.hub.NewSubscriber()
	var ce *topics.CloseError
	if err := c.Subscribe("t1", nil); !errors.As(err, &ce) || ce.Reason != topics.ReasonHubClosed {
		t.Errorf("Subscribe after Close = %v, want CloseError hub closed", err)
	}
}
