package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rtgate/rtgate/internal/infohash"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/scgi"
	"github.com/rtgate/rtgate/xmlrpc"
)

// CoalesceOptions configures a Coalescer. The zero value (or nil) coalesces
// reads that overlap in time, bounds upstream calls to 16 at once, and has
// no raw path and no hooks.
type CoalesceOptions struct {
	// Raw, if set, carries requests that arrive already encoded (the
	// XML-RPC door's) to rTorrent byte for byte, and brings the replies
	// back unread. Nil means they are decoded, sent with Call and
	// re-encoded.
	Raw RawCaller

	// Window is how long an upstream read's result keeps answering
	// identical reads after it completes. Zero means only reads that arrive
	// while it is in flight share it; negative turns coalescing off.
	Window time.Duration

	// MaxUpstream bounds the calls in flight to the backend at once; more
	// wait their turn, or their context. Zero means 16.
	MaxUpstream int

	// Timeout bounds each upstream call, reply included. Zero means 30 s,
	// what rTorrent allows an SCGI request; negative means only the
	// callers' contexts bound it.
	Timeout time.Duration

	// BeforeWrite, if set, is called before each call that is not
	// read-only goes upstream (each request of a JSON-RPC body, for one
	// sent as JSON); an error fails the call without sending it, and an
	// *xmlrpc.Fault is answered to the client as such. It may block,
	// bounded by ctx: the guard of rTorrent 0.9.8's hang on d.stop during
	// a hash check (rtorrent.HoldDuringCheck) belongs here.
	BeforeWrite func(ctx context.Context, method string, params []xmlrpc.Value) error

	// OnWrite, if set, is called after each call that is not read-only
	// (and so was not coalesced) has been answered, or failed after it may
	// have reached rTorrent, before the client gets the answer: once per
	// call, and for a system.multicall once per entry that is not
	// read-only. targets are the info hashes (40 uppercase hex digits) the
	// call names: the target of a download, file, tracker or peer command,
	// the torrent load.raw* adds. Empty means the call names none (a setting, a load by
	// URL, a write inside a multicall over a view). It must not block: the
	// poller's targeted refresh belongs here.
	OnWrite func(method string, targets []string)

	// Fresh, if set, may answer a read-only call from state rtgate already
	// holds fresh (the poller's Answer), without asking rTorrent; ok false
	// sends the call upstream. version names the state the answer comes
	// from: the answers of one call with one version are equal, and are
	// encoded once for every client (zero: not cached). It must not block.
	Fresh func(method string, params []xmlrpc.Value) (v xmlrpc.Value, version uint64, ok bool)

	// Version, if set, returns the backend's version as
	// system.client_version gives it, or "" while it is not known (the
	// poller's Health has it). It decides the version shims (rtorrent.Shim,
	// which the doors apply; system.listMethods lists the names they add)
	// and whether the JSON-RPC door sends JSON upstream
	// (rtorrent.SpeaksJSON) or translates it to XML-RPC. It must not
	// block. Nil means unknown: no renames, JSON translated.
	Version func() string
}

// A Coalescer is the doors' way upstream. It sends identical read-only
// calls (same method, same parameters, every command they run classified
// read-only by the default policy table) that overlap in time as one call to
// its backend, and gives each caller the result; writes go straight
// through. A shared call runs on its own context, canceled only when every
// caller waiting for it has given up.
//
// A Coalescer is a Caller, safe for concurrent use. It needs no Close: its
// goroutines live only as long as the upstream calls they make.
type Coalescer struct {
	backend Caller
	opts    CoalesceOptions
	sem     chan struct{}

	mu      sync.Mutex
	flights map[string]*flight

	answers answerCache
	counts  counters
}

// NewCoalescer returns a Coalescer calling backend. A nil opts means the
// defaults.
func NewCoalescer(backend Caller, opts *CoalesceOptions) *Coalescer {
	c := &Coalescer{backend: backend, flights: make(map[string]*flight)}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MaxUpstream <= 0 {
		c.opts.MaxUpstream = 16
	}
	if c.opts.Timeout == 0 {
		c.opts.Timeout = 30 * time.Second
	}
	c.sem = make(chan struct{}, c.opts.MaxUpstream)
	return c
}

// flight is one upstream call that identical reads share.
type flight struct {
	key    string
	ctx    context.Context
	cancel context.CancelFunc
	ready  chan struct{} // closed once val/err, or resp (raw), are set

	// guarded by Coalescer.mu
	waiters  int  // callers that have not given up or finished reading
	finished bool // the upstream call is over
	removed  bool // no longer in Coalescer.flights

	val   xmlrpc.Value // Call flights
	err   error
	resp  rawHeader // raw flights: the reply's header...
	reply *sharedReply
}

// rawHeader is what a raw reply says before its body.
type rawHeader struct {
	contentType   string
	contentLength int64
}

// Call sends the call upstream, or joins an identical read already on its
// way or answered within the Window. A fault comes back as an error
// wrapping *xmlrpc.Fault.
func (c *Coalescer) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	if method == "system.listMethods" {
		if version := c.version(); version != "" {
			return c.listMethods(ctx, version, params)
		}
	}
	return c.call(ctx, method, params)
}

// version is the backend's version, "" when unknown.
func (c *Coalescer) version() string {
	if c.opts.Version == nil {
		return ""
	}
	return c.opts.Version()
}

// listMethods answers system.listMethods with the backend's methods and
// the names rtorrent.Shim answers for a backend of this version.
func (c *Coalescer) listMethods(ctx context.Context, version string, params []xmlrpc.Value) (xmlrpc.Value, error) {
	v, err := c.call(ctx, "system.listMethods", params)
	if err != nil || v.Kind() != xmlrpc.Array {
		return v, err
	}
	own := make([]string, 0, v.Len())
	for _, m := range v.Values() {
		own = append(own, m.String())
	}
	extra := rtorrent.ShimmedMethods(version, own)
	if len(extra) == 0 {
		return v, nil
	}
	all := append(own, extra...)
	slices.Sort(all)
	out := make([]xmlrpc.Value, len(all))
	for i, m := range all {
		out[i] = xmlrpc.NewString(m)
	}
	return xmlrpc.NewArray(out...), nil
}

func (c *Coalescer) call(ctx context.Context, method string, params []xmlrpc.Value) (xmlrpc.Value, error) {
	k := &c.counts[classOf(method)]
	if !policy.ReadOnly(method, params) {
		k.writes.Add(1)
		if err := c.beforeWrite(ctx, []call{{method, params}}); err != nil {
			return xmlrpc.Value{}, err
		}
		v, err := c.callUpstream(ctx, method, params)
		if err == nil || mayHaveSent(err) {
			c.wrote([]call{{method, params}})
		}
		return v, err
	}
	if v, _, ok := c.fresh(method, params); ok {
		k.fresh.Add(1)
		return v, nil
	}
	if c.opts.Window < 0 {
		k.upstream.Add(1)
		return c.callUpstream(ctx, method, params)
	}
	key, err := flightKey('c', method, params)
	if err != nil {
		k.upstream.Add(1)
		return c.callUpstream(ctx, method, params)
	}
	f, leader := c.join(ctx, key)
	if leader {
		k.upstream.Add(1)
		go c.runCall(f, method, params)
	} else {
		k.coalesced.Add(1)
	}
	select {
	case <-f.ready:
		c.leave(f)
		return f.val, f.err
	case <-ctx.Done():
		c.leave(f)
		return xmlrpc.Value{}, ctx.Err()
	}
}

// safeCall is callUpstream for a flight's own goroutine, which no caller's
// recover covers: a panic becomes the flight's fault, -500.
func (c *Coalescer) safeCall(ctx context.Context, method string, params []xmlrpc.Value) (v xmlrpc.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = xmlrpc.Value{}, &xmlrpc.Fault{Code: xmlrpc.FaultInternal, Message: fmt.Sprintf("rtgate: internal error answering %s: %v", method, p)}
		}
	}()
	return c.callUpstream(ctx, method, params)
}

func (c *Coalescer) callUpstream(ctx context.Context, method string, params []xmlrpc.Value) (xmlrpc.Value, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	if err := c.acquire(ctx); err != nil {
		return xmlrpc.Value{}, err
	}
	defer c.release()
	return c.backend.Call(ctx, method, params...)
}

// runCall is the goroutine of a Call flight.
func (c *Coalescer) runCall(f *flight, method string, params []xmlrpc.Value) {
	v, err := c.safeCall(f.ctx, method, params)
	f.val, f.err = v, err
	// Finished before ready: a waiter leaving at once must find the flight
	// finished, or it would drop it before its Window.
	c.finish(f, err)
	close(f.ready)
}

// rawReply is the answer to a forwarded request: a reply to stream back.
type rawReply struct {
	contentType   string
	contentLength int64 // -1 if unknown
	body          io.ReadCloser
}

// forward sends a decoded and checked call upstream. body is the request as
// the client encoded it: with a Raw caller it goes upstream unchanged and
// the reply comes back unread; without one, the call goes through Call and
// the result is encoded in the dialect Flood reads.
func (c *Coalescer) forward(ctx context.Context, method string, params []xmlrpc.Value, body []byte) (*rawReply, error) {
	if c.opts.Raw == nil || method == "system.listMethods" && c.version() != "" {
		v, err := c.Call(ctx, method, params...)
		return encodedReply(v, err)
	}
	readOnly := policy.ReadOnly(method, params)
	key := ""
	if readOnly {
		k, err := flightKey('r', method, params)
		if err == nil {
			key = k
		}
		if v, ver, ok := c.fresh(method, params); ok {
			c.counts[classOf(method)].fresh.Add(1)
			b, err := c.freshXML(key, v, ver)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errBadUpstreamValue, err)
			}
			return &rawReply{contentType: "text/xml", contentLength: int64(len(b)), body: io.NopCloser(bytes.NewReader(b))}, nil
		}
	}
	return c.forwardBytes(ctx, "text/xml", body, readOnly, key, []call{{method, params}})
}

// call is one call a request makes, for OnWrite.
type call struct {
	method string
	params []xmlrpc.Value
}

// forwardBytes sends a request already encoded (contentType: XML-RPC, or
// JSON-RPC to an rTorrent that speaks it) upstream as it is and returns
// the reply unread. A read-only request joins an identical one in flight
// (key names it; "" never joins); another is reported to OnWrite, with
// the calls it makes, once it may have reached rTorrent.
func (c *Coalescer) forwardBytes(ctx context.Context, contentType string, body []byte, readOnly bool, key string, calls []call) (*rawReply, error) {
	class := 4
	if len(calls) == 1 {
		class = classOf(calls[0].method)
	}
	k := &c.counts[class]
	if !readOnly {
		k.writes.Add(1)
		if err := c.beforeWrite(ctx, calls); err != nil {
			return nil, err
		}
		reply, err := c.doRaw(ctx, contentType, body)
		if err == nil || mayHaveSent(err) {
			// rTorrent answers once it has run the call: the write is
			// done, whatever is left to stream.
			c.wrote(calls)
		}
		return reply, err
	}
	if c.opts.Window < 0 || key == "" {
		k.upstream.Add(1)
		return c.doRaw(ctx, contentType, body)
	}
	f, leader := c.join(ctx, key)
	if leader {
		k.upstream.Add(1)
		go c.runRaw(f, contentType, body)
	} else {
		k.coalesced.Add(1)
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		c.leave(f)
		return nil, ctx.Err()
	}
	if f.err != nil {
		c.leave(f)
		return nil, f.err
	}
	return &rawReply{
		contentType:   f.resp.contentType,
		contentLength: f.resp.contentLength,
		body:          &replyReader{s: f.reply, ctx: ctx, release: func() { c.leave(f) }},
	}, nil
}

// doRaw sends body upstream and returns the reply unread, holding an
// upstream slot until the reply is closed.
func (c *Coalescer) doRaw(ctx context.Context, contentType string, body []byte) (*rawReply, error) {
	ctx, cancel := c.bound(ctx)
	if err := c.acquire(ctx); err != nil {
		cancel()
		return nil, err
	}
	resp, err := c.opts.Raw.Do(ctx, contentType, body)
	if err == nil && resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		err = fmt.Errorf("%w: %s: %q", errUpstreamStatus, resp.Status, msg)
	}
	if err != nil {
		c.release()
		cancel()
		return nil, upstreamError(err, len(body))
	}
	return &rawReply{
		contentType:   resp.Header.Get("Content-Type"),
		contentLength: resp.ContentLength,
		body: &onClose{ReadCloser: resp.Body, fn: func() error {
			err := resp.Body.Close()
			c.release()
			cancel()
			return err
		}},
	}, nil
}

// runRaw is the goroutine of a raw flight: it reads rTorrent's whole reply
// into the shared buffer as fast as rTorrent sends it, whatever pace the
// clients read at, so that rTorrent's connection is released at once.
func (c *Coalescer) runRaw(f *flight, contentType string, body []byte) {
	reply, err := c.doRaw(f.ctx, contentType, body)
	if err != nil {
		f.err = err
		c.finish(f, err)
		close(f.ready)
		return
	}
	defer reply.body.Close()
	f.resp = rawHeader{contentType: reply.contentType, contentLength: reply.contentLength}
	f.reply = newSharedReply(reply.contentLength)
	// As in runCall: finished before any reader can see the end.
	f.reply.onEnd = func(err error) { c.finish(f, err) }
	close(f.ready)
	f.reply.pump(reply.body)
}

// join returns the flight for key, starting one (leader true) if none is
// in flight or fresh within the Window, and counts the caller as its waiter.
func (c *Coalescer) join(ctx context.Context, key string) (f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[key]; f != nil {
		f.waiters++
		return f, false
	}
	// The shared call must outlive the caller that happened to start it.
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f = &flight{key: key, ctx: fctx, cancel: cancel, ready: make(chan struct{}), waiters: 1}
	c.flights[key] = f
	return f, true
}

// leave records that a waiter is done with f. When the last one leaves a
// flight still in progress, its upstream call is canceled and the flight
// forgotten; a finished one stays for its Window.
func (c *Coalescer) leave(f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters == 0 && !f.finished {
		f.cancel()
		c.removeLocked(f)
	}
}

// finish records that f's upstream call is over: it stays joinable for
// the Window if it succeeded, and not at all if it failed.
func (c *Coalescer) finish(f *flight, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.finished = true
	if err != nil || c.opts.Window <= 0 {
		c.removeLocked(f)
		f.cancel()
		return
	}
	time.AfterFunc(c.opts.Window, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.removeLocked(f)
		f.cancel()
	})
}

func (c *Coalescer) removeLocked(f *flight) {
	if !f.removed && c.flights[f.key] == f {
		delete(c.flights, f.key)
	}
	f.removed = true
}

func (c *Coalescer) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.opts.Timeout > 0 {
		return context.WithTimeout(ctx, c.opts.Timeout)
	}
	return context.WithCancel(ctx)
}

func (c *Coalescer) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errNoSlot, ctx.Err())
	}
}

func (c *Coalescer) release() { <-c.sem }

// beforeWrite runs the BeforeWrite hook for each call of a write.
func (c *Coalescer) beforeWrite(ctx context.Context, calls []call) error {
	if c.opts.BeforeWrite == nil {
		return nil
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	for _, w := range calls {
		if err := c.opts.BeforeWrite(ctx, w.method, w.params); err != nil {
			return err
		}
	}
	return nil
}

// wrote records a write that may have changed rTorrent's state. Reads in
// flight may have been answered before it: they take no new callers, so
// that a read issued after a write returned never shares an older answer.
// Then it calls OnWrite for each call.
func (c *Coalescer) wrote(calls []call) {
	c.mu.Lock()
	for _, f := range c.flights {
		c.removeLocked(f)
	}
	c.mu.Unlock()
	if c.opts.OnWrite == nil {
		return
	}
	for _, w := range calls {
		if w.method != "system.multicall" || len(w.params) != 1 {
			c.opts.OnWrite(w.method, callTargets(w.method, w.params, nil))
			continue
		}
		// Each write a multicall makes, on its own: a batch of settings
		// is a batch of settings.
		for _, e := range w.params[0].Values() {
			name, _ := e.Member("methodName")
			args, _ := e.Member("params")
			if !policy.ReadOnly(name.String(), args.Values()) {
				c.opts.OnWrite(name.String(), callTargets(name.String(), args.Values(), nil))
			}
		}
	}
}

// flightKey identifies a call: its canonical encoding, tagged with the kind
// of result the flight holds.
func flightKey(kind byte, method string, params []xmlrpc.Value) (string, error) {
	b, err := xmlrpc.Encoder{AllowDouble: true, AllowNil: true}.AppendCall([]byte{kind}, method, params)
	return string(b), err
}

// encodedReply encodes a Call's outcome as an XML-RPC reply body.
func encodedReply(v xmlrpc.Value, err error) (*rawReply, error) {
	var body []byte
	var fault *xmlrpc.Fault
	switch {
	case errors.As(err, &fault):
		body = xmlrpc.AppendFault(nil, fault)
	case err != nil:
		return nil, err
	default:
		if body, err = (xmlrpc.Encoder{}).AppendResponse(nil, v); err != nil {
			return nil, fmt.Errorf("%w: %w", errBadUpstreamValue, err)
		}
	}
	return &rawReply{contentType: "text/xml", contentLength: int64(len(body)), body: io.NopCloser(bytes.NewReader(body))}, nil
}

// onClose runs fn instead of the ReadCloser's Close, once.
type onClose struct {
	io.ReadCloser
	fn   func() error
	once sync.Once
	err  error
}

func (o *onClose) Close() error {
	o.once.Do(func() { o.err = o.fn() })
	return o.err
}

// callTargets returns the info hashes a call names; see OnWrite.
func callTargets(method string, params []xmlrpc.Value, out []string) []string {
	add := func(target string) {
		hash, ok := infohash.OfTarget(target)
		if !ok {
			return
		}
		for _, h := range out {
			if h == hash {
				return
			}
		}
		out = append(out, hash)
	}
	switch {
	case method == "system.multicall":
		if len(params) == 1 {
			for _, e := range params[0].Values() {
				name, _ := e.Member("methodName")
				args, _ := e.Member("params")
				out = callTargets(name.String(), args.Values(), out)
			}
		}
	case strings.HasPrefix(method, "load.raw"):
		if len(params) > 1 && params[1].Kind() == xmlrpc.Base64 {
			if h, err := infohash.Of(params[1].String()); err == nil {
				add(h)
			}
		}
	case len(params) > 0 && params[0].Kind() == xmlrpc.String:
		add(params[0].String())
	}
	return out
}

// mayHaveSent reports whether a failed upstream call may have reached
// rTorrent: anything but a failure to connect or to get an upstream slot.
func mayHaveSent(err error) bool {
	var dial *scgi.DialError
	return !errors.As(err, &dial) && !errors.Is(err, errNoSlot)
}

// rtorrent09MaxRequest is the largest request rTorrent 0.9.x reads; it
// closes the connection on a larger one (16 MiB at HEAD).
const rtorrent09MaxRequest = 2 << 20

// upstreamError adds a hint to the error of a request rTorrent 0.9.x
// would have cut off for its size.
func upstreamError(err error, requestBytes int) error {
	var dial *scgi.DialError
	if requestBytes > rtorrent09MaxRequest && !errors.As(err, &dial) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (the request has %d bytes; rTorrent 0.9.x closes the connection on requests over 2 MiB)", err, requestBytes)
	}
	return err
}
