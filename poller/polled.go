package poller

import "time"

// PolledAt returns when the last poll of the backend succeeded (a
// connection's sweep or a tick), and the zero time before the first and
// from the moment the backend is found unreachable until it answers again.
// It does not block. Readiness checks compare it with Interval.
func (p *Poller) PolledAt() time.Time {
	at := p.polledAt.Load()
	if at == 0 {
		return time.Time{}
	}
	return time.Unix(0, at)
}

// Interval returns the time between two ticks (Options.Interval, or its
// default).
func (p *Poller) Interval() time.Duration { return p.opts.Interval }
