package poller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// Event hooks: rtgate asks rTorrent, over RPC and without execute, to
// count and log its own download events, so that every insert, erase,
// pause, resume, open, close, hash check and finish is noticed at the next
// tick by reading one integer and one short string, whatever happened
// between two ticks (an erase and a load in the same second leave
// view.size unchanged). On connection the poller runs, in one
// system.multicall:
//
//	method.insert  "" rtgate.gen   value  0   (kept if it exists)
//	method.insert  "" rtgate.until value  0
//	method.insert  "" rtgate.log   string ""
//	rtgate.until.set "" <rTorrent's clock + hookLease>
//	method.set_key "" event.download.<ev> ~rtgate <hookCommand(ev)>   for each of hookEvents
//
// Each hook adds one to rtgate.gen and, while rtgate's lease
// (rtgate.until) has not run out, appends "<ev>:<HASH>/" to rtgate.log.
// Every tick reads both and empties the log in the same system.multicall
// (rTorrent runs one without anything in between), and renews the lease.
// The lease bounds what the log can grow to when rtgate goes away without
// removing its hooks (killed): one lease of events. The counter tells
// whether the log is complete: when the number of entries differs from the
// counter's change (the lease ran out, another rtgate emptied it, an
// untrusted caller's action whose hook rTorrent 0.16 ran untrusted and
// dropped), the tick settles by listing every hash instead.
//
// The key sorts after rTorrent's own keys ("~_save_full" on 0.16.17,
// "~_delete_tied"): a handler that faults stops those sorted after it, and
// rTorrent 0.16 saves a new download's session in one. The hook itself
// cannot fault while the three commands exist; they are inserted before
// the keys are set and erased after the keys are removed, which Run does
// when it returns. rTorrent forgets both at a restart: the poller installs
// them at every connection, and again when a tick finds them gone.

// hookEvents are the rTorrent events the poller hooks.
var hookEvents = []string{
	"inserted", "erased", "opened", "closed", "paused", "resumed", "finished",
	"hash_queued", "hash_done", "hash_removed", "hash_failed", "hash_final_failed",
}

const (
	hookKey   = "~rtgate"
	hookGen   = "rtgate.gen"
	hookLog   = "rtgate.log"
	hookUntil = "rtgate.until"
	// hookLease is how long the log keeps growing without a tick.
	hookLease = time.Minute
)

// hookMethods are the commands the hooks need from the backend.
var hookMethods = []string{"method.insert", "method.set_key", "method.erase", "math.add", "branch", "less", "system.time", "cat", "d.hash"}

// hookCommand is the handler of event ev.
func hookCommand(ev string) string {
	return hookGen + ".set=(math.add,(" + hookGen + "),1) ;branch=(less,system.time=," + hookUntil + "=),\"" +
		hookLog + ".set=(cat,(" + hookLog + ")," + ev + ":,(d.hash),/)\""
}

// hooks is what a connection knows of its event hooks. Guarded by the
// poll token.
type hooks struct {
	on      bool
	gen     int64     // rtgate.gen as last read
	clock   time.Time // when rTorrent's clock read clockAt
	clockAt int64     // system.time at clock
}

// until is the lease's end on rTorrent's clock.
func (h *hooks) until(now time.Time) string {
	return strconv.FormatInt(h.clockAt+int64(now.Sub(h.clock)/time.Second)+int64(hookLease/time.Second), 10)
}

// readCalls are the calls a poll starts with while the hooks are on: the
// counter, the log, emptying the log and renewing the lease.
func (h *hooks) readCalls(now time.Time) []rtorrent.MethodCall {
	return []rtorrent.MethodCall{
		{Method: hookGen},
		{Method: hookLog},
		{Method: hookLog + ".set", Params: strs("", "")},
		{Method: hookUntil + ".set", Params: strs("", h.until(now))},
	}
}

// hookEvent is one logged event.
type hookEvent struct {
	name, hash string
}

// hookRead is what one poll read of the hooks.
type hookRead struct {
	lost   bool // the commands are gone: reinstall
	exact  bool // the log holds every event since the last read
	events []hookEvent
	gen    int64
}

// parseHookRead reads the results of readCalls (four of them) against the
// counter's last value.
func parseHookRead(res []rtorrent.Result, last int64) (hookRead, error) {
	if res[0].Fault != nil || res[1].Fault != nil {
		return hookRead{lost: true}, nil
	}
	if res[0].Value.Kind() != xmlrpc.Int || res[1].Value.Kind() != xmlrpc.String {
		return hookRead{}, fmt.Errorf("%w: %s is %v, %s is %v", ErrBadReply, hookGen, res[0].Value.Kind(), hookLog, res[1].Value.Kind())
	}
	r := hookRead{gen: res[0].Value.Int()}
	for _, e := range strings.Split(res[1].Value.String(), "/") {
		if e == "" {
			continue
		}
		name, hash, ok := strings.Cut(e, ":")
		if !ok || len(hash) != 40 {
			return hookRead{}, fmt.Errorf("%w: %s entry %q", ErrBadReply, hookLog, e)
		}
		r.events = append(r.events, hookEvent{name: "event.download." + name, hash: strings.ToUpper(hash)})
	}
	r.exact = res[2].Fault == nil && r.gen-last == int64(len(r.events))
	return r, nil
}

// installHooks installs the hooks on a backend that has every command they
// need, and returns them on, with the counter's value; on a backend that
// lacks one, or refuses the installation, they stay off (the poller then
// settles by view.size and hash lists alone).
func (p *Poller) installHooks(ctx context.Context, has func(string) bool) hooks {
	if p.opts.NoEventHooks {
		return hooks{}
	}
	for _, m := range hookMethods {
		if !has(m) {
			return hooks{}
		}
	}
	res, err := p.multicall(ctx, []rtorrent.MethodCall{{Method: "system.time"}})
	if err != nil || res[0].Fault != nil || res[0].Value.Kind() != xmlrpc.Int {
		p.log.Warn("poller: cannot read rTorrent's clock; event hooks off", "err", firstErr(err, res, "system.time"))
		return hooks{}
	}
	h := hooks{on: true, clock: p.now(), clockAt: res[0].Value.Int()}
	calls := []rtorrent.MethodCall{
		{Method: "method.insert", Params: strs("", hookGen, "value", "0")},
		{Method: "method.insert", Params: strs("", hookUntil, "value", "0")},
		{Method: "method.insert", Params: strs("", hookLog, "string", "")},
		{Method: hookUntil + ".set", Params: strs("", h.until(p.now()))},
	}
	for _, ev := range hookEvents {
		calls = append(calls, rtorrent.MethodCall{Method: "method.set_key", Params: strs("", "event.download."+ev, hookKey, hookCommand(ev))})
	}
	calls = append(calls, rtorrent.MethodCall{Method: hookGen})
	res, err = p.multicall(ctx, calls)
	if err != nil {
		p.log.Warn("poller: cannot install event hooks", "err", err)
		return hooks{}
	}
	for i, r := range res[:len(res)-1] {
		// An existing command (a restart of rtgate, another rtgate) is
		// "Invalid key.": kept as it is.
		if r.Fault != nil && !(i < 3 && r.Fault.Message == "Invalid key.") {
			p.log.Warn("poller: cannot install event hooks", "err", r.Err(calls[i].Method))
			p.removeHooks(ctx)
			return hooks{}
		}
	}
	last := res[len(res)-1]
	if last.Fault != nil || last.Value.Kind() != xmlrpc.Int {
		p.removeHooks(ctx)
		return hooks{}
	}
	h.gen = last.Value.Int()
	return h
}

// removeHooks removes the hooks, keys before commands, so that no handler
// ever runs without its commands.
func (p *Poller) removeHooks(ctx context.Context) {
	var calls []rtorrent.MethodCall
	for _, ev := range hookEvents {
		calls = append(calls, rtorrent.MethodCall{Method: "method.set_key", Params: strs("", "event.download."+ev, hookKey)})
	}
	for _, m := range []string{hookLog, hookUntil, hookGen} {
		calls = append(calls, rtorrent.MethodCall{Method: "method.erase", Params: strs("", m)})
	}
	if _, err := p.multicall(ctx, calls); err != nil {
		p.log.Debug("poller: removing event hooks failed", "err", err)
	}
}

// firstErr returns err, or the fault of the first result.
func firstErr(err error, res []rtorrent.Result, method string) error {
	if err != nil || len(res) == 0 {
		return err
	}
	return res[0].Err(method)
}

// hooksOn reports whether the event hooks are on.
func (p *Poller) hooksOn() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rm.hooks
}

// eventsPending reads the hooks' counter and reports whether it moved
// since the last poll (or could not be read: the tick will find out why).
func (p *Poller) eventsPending(ctx context.Context) bool {
	if p.acquire(ctx) != nil {
		return false
	}
	c := p.conn
	var last int64
	if c != nil {
		last = c.hooks.gen
	}
	p.release()
	if c == nil || !c.hooks.on {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	v, err := p.c.Call(ctx, hookGen)
	return err != nil || v.Kind() != xmlrpc.Int || v.Int() != last
}

// Cooling: a download that has just left the started and hashing views
// still changes on its own for a while: its rates decay to zero, and the
// tracker's answer to the stop announce lands in d.message. The ticks
// read its fast fields for coolFor after it left, with one
// d.multicall.filtered naming the cooling downloads (at most maxCooling).
const (
	coolFor    = 30 * time.Second
	maxCooling = 64
)

// coolingHashes returns the downloads to read this tick as cooling,
// forgetting those whose time is up, which are fast again or gone.
func (p *Poller) coolingHashes(now time.Time) []string {
	if p.conn == nil || !p.conn.hasFiltered {
		return nil
	}
	var out []string
	for h, until := range p.cooling {
		_, fast := p.st.fast[h]
		if now.After(until) || fast || p.st.torrents[h] == nil {
			delete(p.cooling, h)
			continue
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// noteCooling starts the cooling of the downloads a delta took out of the
// fast views. Called with the poll token held.
func (p *Poller) noteCooling(d *delta) {
	now := p.now()
	for _, c := range d.torrents.changed {
		if isFast(d.schema, c.old) && !isFast(d.schema, c.new) && len(p.cooling) < maxCooling {
			p.cooling[c.new.key] = now.Add(coolFor)
		}
	}
	for _, h := range d.torrents.removed {
		delete(p.cooling, h)
	}
}

// hashPredicate is a d.multicall.filtered predicate true for these
// downloads alone.
func hashPredicate(hashes []string) string {
	if len(hashes) == 1 {
		return "equal=d.hash=,cat=" + hashes[0]
	}
	parts := make([]string, len(hashes))
	for i, h := range hashes {
		parts[i] = `"equal=d.hash=,cat=` + h + `"`
	}
	return "or={" + strings.Join(parts, ",") + "}"
}
