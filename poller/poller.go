package poller

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtgate/rtgate/topics"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Caller is the backend the poller polls: an rTorrent (*rtorrent.Client)
// or anything answering rTorrent's XML-RPC commands. An XML-RPC fault comes
// back as *xmlrpc.Fault; any other error means the backend could not be
// reached or did not answer, and makes the poller reconnect.
type Caller interface {
	Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)
}

// Options tune a Poller. The zero value (or nil) gives the documented
// defaults.
type Options struct {
	// Interval is the time between two ticks. Each tick polls the fast
	// fields of the started and hash-checking downloads, the size of the
	// main view, the global transfer figures and every active detail topic,
	// in one round trip. Zero means 1 s.
	Interval time.Duration

	// FullSweep is the time between two full sweeps, which read every
	// field of every download and so catch changes made by other clients
	// (a stopped download changes only through a call). Zero means 30 s;
	// negative means never, but at each connection and on Refresh with no
	// hash.
	FullSweep time.Duration

	// RefreshMax is the largest number of downloads read one by one (a
	// refresh, downloads that appeared or left the started view); more are
	// read by a full sweep instead. rTorrent 0.9.8 looks a hash up by
	// scanning its list, so one download read on its own costs about 1/40
	// of a sweep whatever the library's size. Zero means 32.
	RefreshMax int

	// Timeout bounds each round trip to the backend. Zero means 30 s.
	Timeout time.Duration

	// BackoffMin and BackoffMax bound the wait between reconnection
	// attempts: BackoffMin doubled at each failure, capped at BackoffMax,
	// each wait jittered down by up to a half. Zero means 500 ms and 30 s.
	BackoffMin, BackoffMax time.Duration

	// Logger receives the poller's warnings (polls that failed) and
	// connection changes. Nil means none.
	Logger *slog.Logger

	// Backend names what is polled ("rtorrent", "embedded"), for the
	// backend topic and Health; it is a label, not checked. Empty leaves
	// it out.
	Backend string

	// Fallback, when set, says why this backend is polled in place of the
	// one configured (rtgate fell back to its embedded engine because
	// rTorrent did not answer). It goes on the backend topic and in
	// Health. Empty leaves it out.
	Fallback string

	// Now is the clock of event timestamps, Health times and sweep
	// scheduling (timers use the real clock). Nil means time.Now.
	Now func() time.Time

	// NoEventHooks leaves rTorrent's event handlers alone: the poller
	// then notices downloads added, erased, started and stopped by other
	// clients from view.size and the started view alone (an erase and a
	// load within one tick wait for the next sweep), and Answer lists no
	// view. By default the poller installs its hooks (see hooks.go)
	// wherever rTorrent has the commands they need.
	NoEventHooks bool

	// ForgetAfter is how long what Answer learned (views, fields, global
	// getters) is kept polled after the last read asking for it. Zero
	// means 5 minutes.
	ForgetAfter time.Duration

	// EventCheck is how often, between ticks, the poller reads the event
	// hooks' counter alone (one integer: no work for rTorrent), ticking at
	// once when it moved, so that a download added, erased, started,
	// stopped or finished reaches subscribers within about EventCheck.
	// Zero means 100 ms; negative turns it off (events then come with the
	// ticks).
	EventCheck time.Duration
}

// Poller polls one backend into a state of torrents, transfer figures and
// health, diffs each poll against it, and publishes the differences to
// topics. See the package documentation for the polling strategy.
//
// Its methods are safe for concurrent use. Run owns the polling loop;
// Refresh and the readers may be called whether Run runs or not.
type Poller struct {
	c    Caller
	opts Options
	log  *slog.Logger

	token    chan struct{} // held while polling and committing: one poll at a time
	wake     chan struct{} // asks the loop for a tick now
	kick     chan struct{} // asks the loop to serve RequestRefresh now
	done     chan struct{} // closed when Run returns
	running  atomic.Bool
	polledAt atomic.Int64 // time.Now().UnixNano() of the last successful poll

	// Guarded by token.
	conn      *conn
	lastSweep time.Time
	cooling   map[string]time.Time // downloads just out of the fast views, until when

	reqMu    sync.Mutex // guards the refresh requests not yet served
	reqAll   bool
	reqHash  map[string]struct{}
	reqTries map[string]int // hashes never seen yet, by refreshes tried
	reqTimer *time.Timer    // brings the retries back; stopped when Run returns

	mu        sync.Mutex // guards st, rm and the registrations; never held while calling out
	st        state
	rm        readModel
	producers map[*stateProducer]*topics.Topic
	details   map[*detailProducer]*topics.Topic
}

// New returns a Poller of c. opts may be nil. Nothing is polled until Run.
func New(c Caller, opts *Options) *Poller {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.FullSweep == 0 {
		o.FullSweep = 30 * time.Second
	}
	if o.RefreshMax <= 0 {
		o.RefreshMax = 32
	}
	if o.ForgetAfter <= 0 {
		o.ForgetAfter = 5 * time.Minute
	}
	if o.EventCheck == 0 {
		o.EventCheck = 100 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 500 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Poller{
		c: c, opts: o, log: log,
		token:     make(chan struct{}, 1),
		wake:      make(chan struct{}, 1),
		kick:      make(chan struct{}, 1),
		reqHash:   map[string]struct{}{},
		cooling:   map[string]time.Time{},
		reqTries:  map[string]int{},
		done:      make(chan struct{}),
		producers: map[*stateProducer]*topics.Topic{},
		details:   map[*detailProducer]*topics.Topic{},
	}
	p.rm = newReadModel()
	p.st.torrents = map[string]*row{}
	p.st.fast = map[string]struct{}{}
	p.st.health = Health{State: StateConnecting, Backend: o.Backend, Fallback: o.Fallback, Since: o.Now()}
	return p
}

func (p *Poller) now() time.Time { return p.opts.Now() }

// Run polls the backend until ctx is done, then returns nil. It connects
// (asking system.listMethods, system.client_version and system.pid, then
// sweeping every download), ticks every Interval, sweeps every FullSweep,
// and reconnects with backoff whenever the backend cannot be reached,
// publishing each change of health on the "backend" topic. A second call
// returns ErrRunning. Once Run has returned, the poller's topics end with
// ErrStopped.
func (p *Poller) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(p.done)
	defer p.stopRetries()
	defer p.unhook(ctx)

	attempt := 0 // failed connection attempts since the last success
	var lastErr error
	lastPoll := ""     // the last failed poll's error, so that a repeated failure is logged once
	var next time.Time // when the next tick is due
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		if p.conn == nil {
			if attempt > 0 {
				wait := backoff(attempt, p.opts.BackoffMin, p.opts.BackoffMax)
				p.setHealth(ctx, StateReconnecting, lastErr, attempt, p.now().Add(wait))
				if !sleep(ctx, timer, wait) {
					break
				}
			}
			if err := p.connect(ctx); err != nil {
				if ctx.Err() != nil {
					break
				}
				if attempt == 0 {
					p.log.Warn("poller: cannot connect to the backend", "err", err)
					p.setHealth(ctx, StateDisconnected, err, 0, time.Time{})
				}
				attempt++
				lastErr = err
				continue
			}
			attempt = 0
			p.polledAt.Store(time.Now().UnixNano())
			next = time.Now().Add(p.opts.Interval)
			continue
		}

		// Between ticks, the hooks' counter alone, every EventCheck: a
		// download event makes the tick come at once.
		wait := next
		check := p.opts.EventCheck > 0 && p.hooksOn() && time.Until(next) > p.opts.EventCheck
		if check {
			wait = time.Now().Add(p.opts.EventCheck)
		}
		tick, woken, ok := p.waitTick(ctx, timer, wait)
		if !ok {
			break
		}
		if !tick {
			p.serveRequests(ctx)
			continue
		}
		if check && !woken && time.Now().Before(next) && !p.eventsPending(ctx) {
			continue
		}
		next = time.Now().Add(p.opts.Interval)
		err := p.tick(ctx)
		switch {
		case err == nil:
			p.polledAt.Store(time.Now().UnixNano())
			if lastPoll != "" {
				lastPoll = ""
				p.setPollError(ctx, nil)
			}
		case ctx.Err() != nil:
		case errors.Is(err, errRestarted):
			p.log.Info("poller: backend restarted; resyncing")
			p.dropConn(ctx)
		case isTransport(err):
			p.log.Warn("poller: backend unreachable", "err", err)
			p.polledAt.Store(0)
			p.dropConn(ctx)
			p.setHealth(ctx, StateDisconnected, err, 0, time.Time{})
			attempt, lastErr = 1, err
		default:
			if msg := err.Error(); msg != lastPoll {
				lastPoll = msg
				p.log.Warn("poller: poll failed", "err", err)
				p.setPollError(ctx, err)
			}
		}
	}
	return nil
}

// unhook removes the event hooks when Run returns, within a few seconds
// of its end whatever the state of the backend.
func (p *Poller) unhook(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if p.acquire(ctx) != nil {
		return
	}
	defer p.release()
	if p.conn != nil && p.conn.hooks.on {
		p.removeHooks(ctx)
		p.conn.hooks.on = false
	}
}

// setPollError publishes, while connected, that the last poll failed
// (err) or that polls succeed again (nil).
func (p *Poller) setPollError(ctx context.Context, err error) {
	if p.acquire(ctx) != nil {
		return
	}
	defer p.release()
	h := p.Health()
	if h.State != StateConnected {
		return
	}
	h.Error = ""
	if err != nil {
		h.Error = err.Error()
	}
	b := p.newBuilder()
	b.health = &h
	p.commit(b)
	p.publish()
}

// waitTick waits until next or an early wake (tick true; woken true for
// the latter), a refresh request (tick false), or the end of ctx (ok
// false).
func (p *Poller) waitTick(ctx context.Context, timer *time.Timer, next time.Time) (tick, woken, ok bool) {
	timer.Reset(max(time.Until(next), 0))
	select {
	case <-ctx.Done():
		return false, false, false
	case <-timer.C:
		return true, false, true
	case <-p.wake:
		timer.Stop()
		return true, true, true
	case <-p.kick:
		timer.Stop()
		return false, false, true
	}
}

// sleep waits d or until ctx is done, reporting false for the latter.
func sleep(ctx context.Context, timer *time.Timer, d time.Duration) bool {
	timer.Reset(d)
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// wakeLoop asks the loop to tick now (a detail topic started).
func (p *Poller) wakeLoop() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// acquire takes the poll token, or fails when ctx ends first.
func (p *Poller) acquire(ctx context.Context) error {
	select {
	case p.token <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Poller) release() { <-p.token }

// dropConn forgets the connection, so that the loop connects again.
func (p *Poller) dropConn(ctx context.Context) {
	if p.acquire(ctx) == nil {
		p.conn = nil
		p.release()
	}
}

// setHealth publishes a new health state, keeping the version and pid of
// the last connection.
func (p *Poller) setHealth(ctx context.Context, s State, err error, attempt int, retryAt time.Time) {
	if p.acquire(ctx) != nil {
		return
	}
	defer p.release()
	b := p.newBuilder()
	h := p.Health()
	h.State, h.Since, h.Attempt, h.RetryAt, h.Error = s, p.now(), attempt, retryAt, ""
	if err != nil {
		h.Error = err.Error()
	}
	b.health = &h
	p.commit(b)
	p.publish()
}

// Torrents returns a copy of every download as last polled, by hash.
func (p *Poller) Torrents() map[string]Torrent {
	p.mu.Lock()
	s, rows := p.st.schema, p.st.torrents
	out := make(map[string]Torrent, len(rows))
	for h, r := range rows {
		out[h] = torrentOf(s, r)
	}
	p.mu.Unlock()
	return out
}

// Torrent returns the download with this hash (either case) as last
// polled.
func (p *Poller) Torrent(hash string) (Torrent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.st.torrents[strings.ToUpper(hash)]
	if r == nil {
		return Torrent{}, false
	}
	return torrentOf(p.st.schema, r), true
}

// Hashes returns the hashes of every download as last polled, sorted.
func (p *Poller) Hashes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.st.torrents))
}

// Transfer returns the global transfer figures as last polled.
func (p *Poller) Transfer() Transfer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return transferOf(p.st.trSchema, p.st.transfer)
}

// Health returns the backend's health.
func (p *Poller) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.health
}
