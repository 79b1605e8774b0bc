package poller

import (
	"context"
	"fmt"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// conn is what the poller learned about the backend at connection time,
// and the calls it makes of it.
type conn struct {
	version  string
	pid      int64
	hasPID   bool
	hasSize  bool // view.size
	schema   *schema
	trSchema *schema
	details  map[*detailKind]*schema

	sweepCall     rtorrent.MethodCall   // d.multicall2 over main with every column
	fastCalls     []rtorrent.MethodCall // d.multicall2 over started and hashing with the fast columns
	fastViews     []string              // the views of fastCalls
	transferCalls []rtorrent.MethodCall
	hasFiltered   bool // d.multicall.filtered
	hooks         hooks
}

// connect asks the backend what it is and offers, sweeps every download
// under the resulting schema, and publishes the differences from what the
// poller had (or, at first and when the fields differ, a new state).
func (p *Poller) connect(ctx context.Context) error {
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	res, err := p.multicall(ctx, []rtorrent.MethodCall{
		{Method: "system.client_version"},
		{Method: "system.listMethods"},
		{Method: "system.pid"},
		{Method: "view.list", Params: strs("")},
	})
	if err != nil {
		return err
	}
	if err := res[0].Err("system.client_version"); err != nil {
		return err
	}
	if err := res[1].Err("system.listMethods"); err != nil {
		return err
	}
	if res[0].Value.Kind() != xmlrpc.String || res[1].Value.Kind() != xmlrpc.Array {
		return fmt.Errorf("%w: version is %v, method list is %v", ErrBadReply, res[0].Value.Kind(), res[1].Value.Kind())
	}
	methods := map[string]bool{}
	for _, m := range res[1].Value.Values() {
		methods[m.String()] = true
	}
	has := func(m string) bool { return methods[m] }
	for _, m := range []string{"system.multicall", "d.multicall2", "d.hash"} {
		if !has(m) {
			return fmt.Errorf("%w: backend lacks %s", ErrBadReply, m)
		}
	}
	c := &conn{version: res[0].Value.String(), hasSize: has("view.size"), details: map[*detailKind]*schema{}}
	if res[2].Fault == nil && res[2].Value.Kind() == xmlrpc.Int {
		c.pid, c.hasPID = res[2].Value.Int(), true
	}
	c.schema = newSchema(torrentColumns, has)
	c.trSchema = newSchema(transferColumns, has)
	for _, k := range detailKinds {
		c.details[k] = newSchema(k.cols, has)
	}

	views := map[string]bool{}
	if res[3].Fault == nil {
		for _, v := range res[3].Value.Values() {
			views[v.String()] = true
		}
	}
	c.sweepCall = rtorrent.MethodCall{Method: "d.multicall2", Params: strs(append([]string{"", "main"}, c.schema.cmds("d.hash=", nil)...)...)}
	fast := c.schema.cmds("d.hash=", c.schema.fast)
	if views["started"] && views["hashing"] {
		// rTorrent's own views: started is d.state=1 (paused ones
		// included), hashing is d.hashing≠0, whether started or not.
		c.fastViews = []string{"started", "hashing"}
	} else {
		// A backend without them: the fast fields of every download.
		c.fastViews = []string{"main"}
	}
	for _, view := range c.fastViews {
		c.fastCalls = append(c.fastCalls, rtorrent.MethodCall{Method: "d.multicall2", Params: strs(append([]string{"", view}, fast...)...)})
	}
	c.hasFiltered = has("d.multicall.filtered")
	for _, col := range c.trSchema.cols {
		c.transferCalls = append(c.transferCalls, rtorrent.MethodCall{Method: col.method, Params: strs("")})
	}
	c.hasSize = c.hasSize && views["main"]
	c.hooks = p.installHooks(ctx, has)
	rel, _ := rtorrent.ParseRelease(c.version)
	p.mu.Lock()
	p.rm.has, p.rm.hooks, p.rm.dMulticall = methods, c.hooks.on, rel.AtLeast(0, 16)
	p.mu.Unlock()

	b, err := p.sweep(ctx, c, &Health{State: StateConnected, Backend: p.opts.Backend, Fallback: p.opts.Fallback, Version: c.version, PID: c.pid, Since: p.now()})
	if err != nil {
		return err
	}
	// A resync: the log holds only what happened since the hooks were
	// installed, the diffs what happened while the poller was away.
	b.exact = false
	p.commit(b)
	p.conn = c
	p.log.Info("poller: connected", "version", c.version, "pid", c.pid, "downloads", len(b.next)+len(b.same))
	p.publish()
	return nil
}

// sweep reads every field of every download and the transfer figures,
// into a builder holding the whole state (health, if not nil, goes with it),
// with everything the read model holds. With the event hooks on, it reads
// and empties their log first: what happened before is in the sweep.
func (p *Poller) sweep(ctx context.Context, c *conn, h *Health) (*builder, error) {
	var calls []rtorrent.MethodCall
	if c.hooks.on {
		calls = append(calls, c.hooks.readCalls(p.now())...)
	}
	calls = append(calls, c.sweepCall)
	calls = append(calls, c.transferCalls...)
	plan := p.planReadModel(c, true)
	calls = append(calls, plan.calls...)
	res, err := p.multicall(ctx, calls)
	if err != nil {
		return nil, err
	}
	if c.hooks.on {
		hr, err := parseHookRead(res[:4], c.hooks.gen)
		if err != nil {
			return nil, err
		}
		res = res[4:]
		b := p.sweepBuilder(c)
		if hr.lost {
			c.hooks.on = false
		} else {
			c.hooks.gen = hr.gen
			b.hooked, b.exact, b.hooksOn, b.readLog = hr.events, hr.exact, true, true
		}
		return p.finishSweep(c, b, h, plan, res)
	}
	return p.finishSweep(c, p.sweepBuilder(c), h, plan, res)
}

// finishSweep reads a sweep's results after the hooks' into b.
func (p *Poller) finishSweep(c *conn, b *builder, h *Health, plan rmPlan, res []rtorrent.Result) (*builder, error) {
	var err error
	b.health = h
	if err := p.putSweep(b, res[0]); err != nil {
		return nil, err
	}
	if b.transfer, err = decodeTransfer(c, res[1:1+len(c.transferCalls)]); err != nil {
		return nil, err
	}
	res = res[1+len(c.transferCalls):]
	plan.read(c, res, &b.rm)
	b.rm.sweep, b.rm.viewsRead, b.rm.globsRead = true, true, true
	p.lastSweep = p.now()
	return b, nil
}

// sweepBuilder returns a builder for a full sweep under c's schema: one
// that replaces the state outright when there is none yet or its fields
// differ.
func (p *Poller) sweepBuilder(c *conn) *builder {
	b := p.newBuilder()
	b.schema, b.trSchema = c.schema, c.trSchema
	b.sweep = true
	b.same = map[string]struct{}{}
	b.reset = !p.st.loaded || !c.schema.equal(p.st.schema)
	return b
}

// putSweep records the rows of a d.multicall2 over main with every column.
func (p *Poller) putSweep(b *builder, r rtorrent.Result) error {
	if err := r.Err("d.multicall2"); err != nil {
		return err
	}
	if r.Value.Kind() != xmlrpc.Array {
		return fmt.Errorf("%w: d.multicall2 returned %v", ErrBadReply, r.Value.Kind())
	}
	for _, rv := range r.Value.Values() {
		var base *row
		if rv.Kind() == xmlrpc.Array && rv.Len() > 0 {
			base = b.current(rv.Index(0).String())
		}
		nr, err := mergeRow(b.schema, nil, rv, base)
		if err != nil {
			return fmt.Errorf("d.multicall2 main: %w", err)
		}
		b.put(nr)
	}
	return nil
}

// decodeTransfer reads the results of c.transferCalls.
func decodeTransfer(c *conn, res []rtorrent.Result) (*row, error) {
	r := &row{vals: make([]value, len(c.trSchema.cols))}
	for i, col := range c.trSchema.cols {
		if err := res[i].Err(col.method); err != nil {
			return nil, err
		}
		v, err := decodeValue(col.kind, res[i].Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", col.method, err)
		}
		r.vals[i] = v
	}
	return r, nil
}
