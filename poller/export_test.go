package poller

import "context"

// Hooks for the external tests and benchmarks.

// Tick runs one tick now (a full sweep if one is due), as Run does every
// Interval.
func (p *Poller) Tick(ctx context.Context) error { return p.tick(ctx) }

// Connect connects as Run does first: it learns the backend's methods and
// sweeps every download.
func (p *Poller) Connect(ctx context.Context) error { return p.connect(ctx) }

var AppendRatio = appendRatio
