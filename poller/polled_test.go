package poller_test

import (
	"testing"
	"time"

	"github.com/rtgate/rtgate/poller"
)

// TestPolledAtAndFallback: PolledAt is zero before the first poll, then
// follows the ticks, and is zero again once the backend is found
// unreachable; Options.Fallback is in Health and on the backend topic.
func TestPolledAtAndFallback(t *testing.T) {
	t.Parallel()
	b := startBackend(t, nil)
	const why = "rtorrent.address did not answer within 30s at start-up"
	if at := poller.New(b.c, nil).PolledAt(); !at.IsZero() {
		t.Errorf("PolledAt before Run = %v, want zero", at)
	}
	f := startPoller(t, b, &poller.Options{
		Interval: 20 * time.Millisecond, FullSweep: -1,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		Backend: "embedded", Fallback: why,
	})
	if f.p.Interval() != 20*time.Millisecond {
		t.Errorf("Interval = %v", f.p.Interval())
	}
	first := f.p.PolledAt()
	if first.IsZero() || time.Since(first) > 5*time.Second {
		t.Fatalf("PolledAt after connecting = %v", first)
	}
	waitFor(t, "a later tick", func() bool { return f.p.PolledAt().After(first) })
	if h := f.p.Health(); h.Fallback != why {
		t.Errorf("Health.Fallback = %q", h.Fallback)
	}
	cl := newClient(t, f.hub)
	cl.subscribe("backend", nil)
	cl.next(t)
	if got := cl.objects["backend"]["fallback"]; got != why {
		t.Errorf("backend topic fallback = %v; message %v", got, cl.objects["backend"])
	}

	b.rt.Kill()
	waitFor(t, "the poller notices", func() bool { return f.p.Health().State != poller.StateConnected })
	if at := f.p.PolledAt(); !at.IsZero() {
		t.Errorf("PolledAt with the backend gone = %v, want zero", at)
	}
	if h := f.p.Health(); h.Fallback != why {
		t.Errorf("Health.Fallback after the loss = %q", h.Fallback)
	}
}
