package topics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rtgate/rtgate/topics"
)

// TestResume drops a subscriber that has read a snapshot and 3 changes,
// lets things happen, and resubscribes from its last position.
func TestResume(t *testing.T) {
	tests := []struct {
		name   string
		opts   topics.Options
		missed int                                   // changes published while away
		from   func(topics.Position) topics.Position // the position resumed from
		away   func(t *testing.T, e *env)            // anything else while away
		// wantRecovered: the missed changes are replayed (or Resumed when
		// none); otherwise a snapshot at wantSnap.
		wantRecovered bool
		wantSnap      uint64
	}{
		{name: "exact", missed: 4, wantRecovered: true},
		{name: "nothing missed", missed: 0, wantRecovered: true},
		{name: "whole history", opts: topics.Options{History: 6}, missed: 6, wantRecovered: true},
		{name: "history overflow by count", opts: topics.Options{History: 6}, missed: 7, wantSnap: 10},
		{name: "history overflow by bytes", opts: topics.Options{HistoryBytes: 60}, missed: 7, wantSnap: 10},
		{
			name: "no history", opts: topics.Options{History: -1}, missed: 0, wantRecovered: true,
		},
		{name: "no history, missed one", opts: topics.Options{History: -1}, missed: 1, wantSnap: 4},
		{
			name: "wrong epoch", missed: 2, wantSnap: 5,
			from: func(p topics.Position) topics.Position { p.Epoch = "0123456789abcdef"; return p },
		},
		{
			name: "future seq", missed: 2, wantSnap: 5,
			from: func(p topics.Position) topics.Position { p.Seq += 3; return p },
		},
		{
			name: "reset", missed: 2, wantSnap: 0,
			away: func(t *testing.T, e *env) {
				p := e.p(t, "t1")
				if err := p.reset(p.T(t)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "producer restarted", opts: topics.Options{Linger: time.Millisecond}, wantSnap: 0,
			away: func(t *testing.T, e *env) { e.p(t, "t1").waitStopped(t) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &tt.opts)
			a := e.sub(t, "t1")
			p := e.p(t, "t1")
			c := &client{}
			if err := c.apply(next(t, a)); err != nil {
				t.Fatal(err)
			}
			p.set(t, 3)
			for range 3 {
				if err := c.apply(next(t, a)); err != nil {
					t.Fatal(err)
				}
			}
			var keep *topics.Subscriber
			if tt.missed > 0 {
				keep = e.sub(t, "t1") // keeps the producer while a is gone
			}
			a.Close()
			if pos := a.Err().(*topics.CloseError).Positions["t1"]; pos != *c.pos() {
				t.Fatalf("CloseError position %v, want %v", pos, c.pos())
			}
			p.set(t, tt.missed)
			if tt.away != nil {
				tt.away(t, e)
			}

			from := *c.pos()
			if tt.from != nil {
				from = tt.from(from)
			}
			b := e.hub.NewSubscriber()
			defer b.Close()
			if err := b.Subscribe("t1", &from); err != nil {
				t.Fatal(err)
			}
			m := next(t, b)
			switch {
			case tt.wantRecovered && tt.missed == 0:
				if m.Kind != topics.Resumed || !m.Recovered || m.Position() != from {
					t.Fatalf("got %v at %v recovered=%v, want resumed at %v", m.Kind, m.Position(), m.Recovered, from)
				}
			case tt.wantRecovered:
				if m.Kind != topics.Change || !m.Recovered || m.Seq != 4 {
					t.Fatalf("got %v at %v recovered=%v, want recovered change 4", m.Kind, m.Position(), m.Recovered)
				}
				for i := range tt.missed {
					if err := c.apply(m); err != nil {
						t.Fatal(err)
					}
					if i > 0 && m.Recovered {
						t.Errorf("change %d flagged recovered too", m.Seq)
					}
					if i < tt.missed-1 {
						m = next(t, b)
					}
				}
			default:
				if m.Kind != topics.Snapshot || m.Recovered || m.Seq != tt.wantSnap {
					t.Fatalf("got %v at %v recovered=%v, want snapshot at %d", m.Kind, m.Position(), m.Recovered, tt.wantSnap)
				}
				c = &client{}
				if err := c.apply(m); err != nil {
					t.Fatal(err)
				}
			}
			// Then live changes, on the latest producer.
			p = e.p(t, "t1")
			p.set(t, 2)
			for range 2 {
				if err := c.apply(next(t, b)); err != nil {
					t.Fatal(err)
				}
			}
			none(t, b)
			_ = keep
		})
	}
}

// TestReset checks that a Reset replaces what a subscriber had not read
// with a snapshot of the new epoch, even when the reset function fails.
func TestReset(t *testing.T) {
	tests := []struct {
		name    string
		resetFn func(p *kv) func() error
		wantErr bool
	}{
		{name: "ok", resetFn: func(p *kv) func() error {
			return func() error { p.n = 0; clear(p.vals); return nil }
		}},
		{name: "fn fails", wantErr: true, resetFn: func(p *kv) func() error {
			return func() error { p.n = 0; clear(p.vals); return errors.New("half done") }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			s := e.sub(t, "t1")
			p := e.p(t, "t1")
			first := next(t, s)
			p.set(t, 3) // unread when the reset comes
			err := p.T(t).Reset(tt.resetFn(p))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Reset = %v", err)
			}
			m := next(t, s)
			if m.Kind != topics.Snapshot || m.Seq != 0 || m.Recovered || m.Epoch == first.Epoch {
				t.Fatalf("got %v at %v recovered=%v, want a snapshot at 0 in a new epoch", m.Kind, m.Position(), m.Recovered)
			}
			c := &client{}
			if err := c.apply(m); err != nil {
				t.Fatal(err)
			}
			p.set(t, 2)
			for range 2 {
				if err := c.apply(next(t, s)); err != nil {
					t.Fatal(err)
				}
			}
			none(t, s)
		})
	}
}
