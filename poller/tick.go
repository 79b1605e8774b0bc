package poller

import (
	"context"
	"fmt"
	"slices"

	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/xmlrpc"
)

// tick is one poll: the pid and size of the main view, the fast fields of
// the started and hash-checking downloads (or, when one is due, a full
// sweep), the transfer figures and the active details, in one round trip;
// then, only if that showed downloads appearing, leaving the started view
// or going, a second round trip reading those downloads in full.
func (p *Poller) tick(ctx context.Context) error {
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	c := p.conn
	if c == nil {
		return ErrNotConnected
	}
	start := p.now()
	sweep := p.opts.FullSweep > 0 && start.Sub(p.lastSweep) >= p.opts.FullSweep

	var calls []rtorrent.MethodCall
	hooked := c.hooks.on
	if hooked {
		calls = append(calls, c.hooks.readCalls(start)...)
	}
	if c.hasPID {
		calls = append(calls, rtorrent.MethodCall{Method: "system.pid", Params: nil})
	}
	if c.hasSize {
		calls = append(calls, rtorrent.MethodCall{Method: "view.size", Params: strs("", "main")})
	}
	var cool []string
	if sweep {
		calls = append(calls, c.sweepCall)
	} else {
		calls = append(calls, c.fastCalls...)
		if cool = p.coolingHashes(start); len(cool) > 0 {
			calls = append(calls, rtorrent.MethodCall{Method: "d.multicall.filtered",
				Params: strs(append([]string{"", "main", hashPredicate(cool)}, c.schema.cmds("d.hash=", c.schema.fast)...)...)})
		}
	}
	calls = append(calls, c.transferCalls...)
	wants := p.detailWants(c, nil)
	for _, w := range wants {
		calls = append(calls, w.call)
	}
	plan := p.planReadModel(c, sweep)
	calls = append(calls, plan.calls...)
	res, err := p.multicall(ctx, calls)
	if err != nil {
		return err
	}

	i := 0
	var hr hookRead
	if hooked {
		if hr, err = parseHookRead(res[:4], c.hooks.gen); err != nil {
			return err
		}
		i += 4
	}
	if c.hasPID {
		if err := res[i].Err("system.pid"); err != nil {
			return err
		}
		if pid := res[i].Value.Int(); pid != c.pid {
			return fmt.Errorf("%w: system.pid %d, was %d", errRestarted, pid, c.pid)
		}
		i++
	}
	size := -1
	if c.hasSize {
		if err := res[i].Err("view.size"); err != nil {
			return err
		}
		if res[i].Value.Kind() != xmlrpc.Int {
			return fmt.Errorf("%w: view.size returned %v", ErrBadReply, res[i].Value.Kind())
		}
		size = int(res[i].Value.Int())
		i++
	}
	var b *builder
	if sweep {
		b = p.sweepBuilder(c)
		if err := p.putSweep(b, res[i]); err != nil {
			return err
		}
		i++
	} else {
		b = p.newBuilder()
		seen := map[string]struct{}{}
		for range c.fastCalls {
			if err := p.mergeFast(b, res[i], seen); err != nil {
				return err
			}
			i++
		}
		// Downloads that left the started and hashing views (stopped,
		// hashed, erased) changed in fields the fast poll does not read.
		for h := range p.st.fast {
			if _, ok := seen[h]; !ok {
				b.unknown = append(b.unknown, h)
			}
		}
		if len(cool) > 0 {
			if err := p.mergeFast(b, res[i], map[string]struct{}{}); err != nil {
				return err
			}
			i++
		}
	}
	if b.transfer, err = decodeTransfer(c, res[i:i+len(c.transferCalls)]); err != nil {
		return err
	}
	i += len(c.transferCalls)
	if old := p.st.transfer; old != nil && c.trSchema.equal(p.st.trSchema) {
		down := func(id int) bool {
			return c.trSchema.pos[id] >= 0 && c.trSchema.get(b.transfer, id).n < c.trSchema.get(old, id).n
		}
		if down(trDownTotal) || down(trUpTotal) {
			// Totals only grow while rTorrent runs: it restarted with
			// the same pid (in a container, say).
			return fmt.Errorf("%w: global totals went down", errRestarted)
		}
	}

	details := res[i : i+len(wants)]
	plan.read(c, res[i+len(wants):], &b.rm)

	// What the event hooks say happened since the last poll: the
	// downloads named are read in full, and the views again.
	lifecycle := false
	if hooked {
		switch {
		case hr.lost:
			c.hooks.on, lifecycle = false, true
			p.log.Info("poller: event hooks gone; installing them again")
		default:
			c.hooks.gen = hr.gen
			b.hooked, b.exact, b.hooksOn, b.readLog = hr.events, hr.exact, true, true
			lifecycle = len(hr.events) > 0 || !hr.exact
			if !sweep {
				for _, e := range hr.events {
					if !slices.Contains(b.unknown, e.hash) {
						b.unknown = append(b.unknown, e.hash)
					}
				}
			}
		}
	}
	if !sweep {
		// An incomplete log may hide an erase and a load in one tick:
		// list every hash.
		force := hooked && (hr.lost || !hr.exact)
		if b, err = p.settle(ctx, c, b, size, force); err != nil {
			return err
		}
		if b.sweep {
			sweep = true
		} else if lifecycle || b.changedMembers() {
			if err := p.readViews(ctx, c, b); err != nil {
				return err
			}
		}
	}
	if sweep {
		p.lastSweep = start
		b.rm.sweep, b.rm.viewsRead = true, true
	}
	// The plan read every global when a setting had changed (and the
	// transfer figures are read every tick).
	b.rm.globsRead = true
	p.commit(b)
	p.publish()
	p.publishDetails(wants, details)
	if hooked && hr.lost {
		c.hooks = p.installHooks(ctx, p.hasMethod)
		p.setHooks(c.hooks.on)
	}
	return nil
}

// changedMembers reports whether the poll adds or removes downloads, or
// moves one in or out of the started and hashing views.
func (b *builder) changedMembers() bool {
	if len(b.gone) > 0 {
		return true
	}
	for h, r := range b.next {
		old := b.st.torrents[h]
		if old == nil || isFast(b.schema, old) != isFast(b.schema, r) {
			return true
		}
	}
	return false
}

// readViews reads every asked view's hash list into b.
func (p *Poller) readViews(ctx context.Context, c *conn, b *builder) error {
	p.mu.Lock()
	var views []string
	for name, v := range p.rm.views {
		if !v.failed {
			views = append(views, name)
		}
	}
	seq := p.rm.seq
	p.mu.Unlock()
	if len(views) > 0 {
		pl := rmPlan{seq: seq, views: views, calls: c.rmCalls(views, nil, nil, nil)}
		res, err := p.multicall(ctx, pl.calls)
		if err != nil {
			return err
		}
		seqBefore := b.rm.seq
		pl.read(c, res, &b.rm)
		b.rm.seq = min(seqBefore, seq)
	}
	b.rm.viewsRead = true
	return nil
}

// mergeFast merges the rows of a fast d.multicall2 into b, noting each
// hash in seen; hashes the state lacks go to b.unknown.
func (p *Poller) mergeFast(b *builder, r rtorrent.Result, seen map[string]struct{}) error {
	if err := r.Err("d.multicall2"); err != nil {
		return err
	}
	if r.Value.Kind() != xmlrpc.Array {
		return fmt.Errorf("%w: d.multicall2 returned %v", ErrBadReply, r.Value.Kind())
	}
	for _, rv := range r.Value.Values() {
		if rv.Kind() != xmlrpc.Array || rv.Len() == 0 {
			return fmt.Errorf("%w: d.multicall2 row is %v of %d", ErrBadReply, rv.Kind(), rv.Len())
		}
		hash := rv.Index(0).String()
		if _, dup := seen[hash]; dup {
			continue // started and hash-checking: read twice in one poll
		}
		seen[hash] = struct{}{}
		base := b.current(hash)
		if base == nil {
			b.unknown = append(b.unknown, hash)
			continue
		}
		nr, err := mergeRow(b.schema, b.schema.fast, rv, base)
		if err != nil {
			return fmt.Errorf("d.multicall2: %w", err)
		}
		b.put(nr)
	}
	return nil
}

// settle completes a tick's builder: it reads in full the downloads the
// fast poll could not account for, then, if the main view's size still
// disagrees, lists every hash to find the downloads that came and went.
// Past Options.RefreshMax downloads to read, it sweeps instead.
func (p *Poller) settle(ctx context.Context, c *conn, b *builder, size int, force bool) (*builder, error) {
	escalate := func() (*builder, error) {
		sb, err := p.sweep(ctx, c, nil)
		if err != nil {
			return nil, err
		}
		sb.transfer = b.transfer
		sb.hooked, sb.exact = append(b.hooked, sb.hooked...), b.exact && sb.exact
		sb.hooksOn, sb.readLog = b.hooksOn || sb.hooksOn, b.readLog || sb.readLog
		return sb, nil
	}
	if len(b.unknown) > p.opts.RefreshMax {
		return escalate()
	}
	if len(b.unknown) > 0 {
		if _, err := p.fetch(ctx, c, b, b.unknown, nil); err != nil {
			return nil, err
		}
	}
	if !force && (size < 0 || size == b.count()) {
		return b, nil
	}

	res, err := p.multicall(ctx, []rtorrent.MethodCall{{Method: "d.multicall2", Params: strs("", "main", "d.hash=")}})
	if err != nil {
		return nil, err
	}
	if err := res[0].Err("d.multicall2"); err != nil {
		return nil, err
	}
	listed := map[string]struct{}{}
	var missing []string
	for _, rv := range res[0].Value.Values() {
		if rv.Kind() != xmlrpc.Array || rv.Len() != 1 {
			return nil, fmt.Errorf("%w: hash list row is %v", ErrBadReply, rv.Kind())
		}
		h := rv.Index(0).String()
		listed[h] = struct{}{}
		if !b.has(h) {
			missing = append(missing, h)
		}
	}
	for h := range p.st.torrents {
		if _, ok := listed[h]; !ok {
			b.remove(h)
		}
	}
	for h := range b.next {
		if _, ok := listed[h]; !ok {
			b.remove(h)
		}
	}
	if len(missing) > p.opts.RefreshMax {
		return escalate()
	}
	if len(missing) > 0 {
		if _, err := p.fetch(ctx, c, b, missing, nil); err != nil {
			return nil, err
		}
	}
	return b, nil
}
